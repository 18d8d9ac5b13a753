import {
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { once } from 'node:events';
import { finished, pipeline } from 'node:stream/promises';
import { SqsWritable } from '../../lib/send/sqs-writable.js';

// Issue 4, flow: the write callback waits for SQS, highWaterMark and maxBatchesInFlight hold the
// producer back, FIFO order is kept per group (never two batches of a group in flight), and the
// stream's lifecycle (abort, destroy, client ownership) behaves like Node's streams.

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-send';
const FIFO_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-send.fifo';
const FAKE: Parameters<typeof jest.useFakeTimers>[0] = {
  doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
};

interface Held {
  entries: SendMessageBatchRequestEntry[];
  /** Answers: listed entries fail for now (or for good), the others are accepted. */
  answer(transientFailures?: string[], permanentFailures?: string[]): void;
}

/** A client whose SendMessageBatch requests stay in flight until the test answers them. */
function heldSqs() {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const mock = mockClient(client);
  const held: Held[] = [];
  const open = new Set<Held>();
  const accepted: string[] = [];
  let maxInFlight = 0;
  mock.on(SendMessageBatchCommand).callsFake(
    (input: SendMessageBatchCommandInput) =>
      new Promise((resolve) => {
        const entries = input.Entries ?? [];
        const request: Held = {
          entries,
          answer(transientFailures = [], permanentFailures = []) {
            open.delete(request);
            const failing = [...transientFailures, ...permanentFailures];
            const ok = entries.filter((e) => !failing.includes(e.MessageBody!));
            accepted.push(...ok.map((e) => e.MessageBody!));
            resolve({
              Successful: ok.map((e) => ({ Id: e.Id, MessageId: `m-${e.MessageBody}` })),
              Failed: entries
                .filter((e) => failing.includes(e.MessageBody!))
                .map((e) => {
                  const permanent = permanentFailures.includes(e.MessageBody!);
                  return {
                    Id: e.Id,
                    Code: permanent ? 'InvalidParameterValue' : 'InternalError',
                    SenderFault: permanent,
                  };
                }),
            });
          },
        };
        held.push(request);
        open.add(request);
        maxInFlight = Math.max(maxInFlight, open.size);
      }),
  );
  return { client, mock, held, open, accepted, maxInFlight: () => maxInFlight };
}

/** Lets pending promise callbacks and immediates run (no timers advanced). */
async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const range = (n: number, prefix: string): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('SqsWritable backpressure', () => {
  it('writes wait while batches are in flight; at most maxBatchesInFlight at once', async () => {
    const sqs = heldSqs();
    const sink = new SqsWritable({
      queueUrl: QUEUE_URL,
      client: sqs.client,
      maxBatchesInFlight: 2,
    });
    expect(sink.writableHighWaterMark).toBe(40); // 2 * batchSize * maxBatchesInFlight
    let confirmed = 0;
    const returns = range(40, 'm').map((body) => sink.write(body, () => confirmed++));
    expect(returns.slice(0, 39).every(Boolean)).toBe(true);
    expect(returns[39]).toBe(false); // the producer is told to wait
    await settle();
    expect(sqs.held).toHaveLength(2);
    expect(sink.stats.inFlight).toBe(2);
    expect(confirmed).toBe(0); // nothing confirmed before SQS answers

    // Written beyond the high-water mark: buffered, not sent while the first round is in flight.
    for (const body of range(5, 'late')) sink.write(body, () => confirmed++);
    await settle();
    expect(sqs.held).toHaveLength(2);

    sqs.held[0]!.answer();
    await settle();
    expect(sqs.held).toHaveLength(3); // a freed slot takes the next full batch at once
    expect(confirmed).toBe(0); // the callbacks of one _writev fire together, once all are in
    sqs.held[1]!.answer();
    await settle();
    sqs.held[2]!.answer();
    sqs.held[3]!.answer();
    await settle();
    expect(confirmed).toBe(40);
    expect(sqs.held.map((h) => h.entries.length)).toEqual([10, 10, 10, 10, 5]);

    const drained = once(sink, 'drain');
    sqs.held[4]!.answer();
    await drained;
    expect(confirmed).toBe(45);
    expect(sqs.maxInFlight()).toBe(2);
    sink.end();
    await finished(sink);
  });

  it('holds a producer in a pipeline back while SQS has not answered', async () => {
    const sqs = heldSqs();
    let produced = 0;
    async function* produce() {
      for (let i = 0; i < 1000; i++) {
        produced++;
        yield `m${i}`;
      }
    }
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client: sqs.client });
    const done = pipeline(produce(), sink);
    await settle(50);
    // highWaterMark (80) in the sink, plus what the source buffers (16): then it stops.
    expect(produced).toBeLessThanOrEqual(80 + 16 + 2);
    expect(sqs.held.length).toBeLessThanOrEqual(4);
    const before = produced;
    await settle(50);
    expect(produced).toBe(before);
    // Answer everything as it comes, until the source is exhausted.
    while (sqs.open.size > 0 || produced < 1000) {
      for (const request of [...sqs.open]) request.answer();
      await settle();
    }
    await done;
    expect(sqs.accepted).toHaveLength(1000);
    expect(sqs.maxInFlight()).toBeLessThanOrEqual(4);
    expect(sqs.held.every((h) => h.entries.length === 10)).toBe(true);
  });
});

describe('SqsWritable partial failure with batches in flight', () => {
  it('reports each write as SQS answered it, waiting for the requests in flight', async () => {
    const sqs = heldSqs();
    const sink = new SqsWritable({
      queueUrl: QUEUE_URL,
      client: sqs.client,
      maxBatchesInFlight: 3,
    });
    const errors: unknown[] = [];
    sink.on('error', (error) => errors.push(error));
    const results = range(40, 'm').map(
      (body) =>
        new Promise<Error | null>((resolve) => sink.write(body, (error) => resolve(error ?? null))),
    );
    await settle();
    expect(sqs.held).toHaveLength(3);
    sqs.held[1]!.answer([], ['m13']); // the second request: m13 rejected for good
    await settle();
    expect(errors).toEqual([]); // the other requests in flight are still awaited
    expect(sqs.held).toHaveLength(3); // and no new batch starts
    sqs.held[0]!.answer();
    sqs.held[2]!.answer();
    await settle();
    expect(errors).toHaveLength(1);
    const settled = await Promise.all(results);
    const failed = settled.flatMap((result, i) => (result === null ? [] : [`m${i}`]));
    // m0-m29 were in the three requests: all but m13 accepted; m30-m39 never sent.
    expect(failed).toEqual(['m13', ...range(10, 'm').map((_, i) => `m${30 + i}`)]);
    expect(settled[13]).toBe(errors[0]);
    expect(sqs.accepted).toHaveLength(29);
    expect(sink.stats.sent).toBe(29);
  });
});

describe('SqsWritable FIFO', () => {
  function groupsOf(request: Held): Set<string> {
    return new Set(request.entries.map((e) => e.MessageGroupId!));
  }

  it('keeps order per group with several groups, never two batches of a group in flight', async () => {
    const sqs = heldSqs();
    const sink = new SqsWritable({ queueUrl: FIFO_URL, client: sqs.client, highWaterMark: 100 });
    const groups = ['A', 'B', 'C'];
    const written: Record<string, string[]> = { A: [], B: [], C: [] };
    for (let i = 0; i < 25; i++) {
      for (const group of groups) {
        const body = `${group}${i}`;
        written[group]!.push(body);
        sink.write({ body, groupId: group });
      }
    }
    sink.end();
    const ended = finished(sink);
    let overlaps = 0;
    await settle();
    while (sqs.open.size > 0) {
      const open = [...sqs.open];
      for (let i = 0; i < open.length; i++) {
        for (let j = i + 1; j < open.length; j++) {
          for (const group of groupsOf(open[i]!)) if (groupsOf(open[j]!).has(group)) overlaps++;
        }
      }
      // Answer the newest first, to give a careless sender every chance to reorder.
      open.at(-1)?.answer();
      await settle();
    }
    await ended;
    expect(overlaps).toBe(0);
    expect(sqs.maxInFlight()).toBeGreaterThan(1); // different groups did go in parallel
    for (const group of groups) {
      expect(sqs.accepted.filter((body) => body.startsWith(group))).toEqual(written[group]);
    }
    expect(sqs.held.every((h) => h.entries.length === 10 || h.entries.length === 5)).toBe(true);
  });

  it('retries a failed entry before any later message of its group is sent', async () => {
    jest.useFakeTimers(FAKE);
    try {
      const sqs = heldSqs();
      const sink = new SqsWritable({
        queueUrl: FIFO_URL,
        client: sqs.client,
        retry: { jitter: 'none' },
      });
      for (let i = 0; i < 20; i++)
        sink.write({ body: `A${i}`, groupId: 'A', deduplicationId: `A${i}` });
      for (let i = 0; i < 10; i++)
        sink.write({ body: `B${i}`, groupId: 'B', deduplicationId: `B${i}` });
      sink.end();
      const ended = finished(sink);
      await settle();
      // A0-A9 and B0-B9 in flight; A10-A19 wait for their group.
      expect(sqs.held.map((h) => [...groupsOf(h)])).toEqual([['A'], ['B']]);
      sqs.held[0]!.answer(['A9']);
      sqs.held[1]!.answer();
      await settle();
      expect(sqs.held).toHaveLength(2); // A10-A19 still not sent: A9 is not in yet
      await jest.advanceTimersByTimeAsync(100);
      expect(sqs.held).toHaveLength(3);
      expect(sqs.held[2]!.entries.map((e) => e.MessageBody)).toEqual(['A9']);
      expect(sqs.held[2]!.entries[0]).toMatchObject({
        MessageGroupId: 'A',
        MessageDeduplicationId: 'A9',
      });
      sqs.held[2]!.answer();
      await settle();
      expect(sqs.held).toHaveLength(4);
      expect(sqs.held[3]!.entries.map((e) => e.MessageBody)).toEqual(
        range(10, 'A').map((_, i) => `A${i + 10}`),
      );
      sqs.held[3]!.answer();
      await ended;
      expect(sqs.accepted.filter((b) => b.startsWith('A'))).toEqual(range(20, 'A'));
      expect(sink.stats).toMatchObject({ sent: 30, sendRequests: 4, errorsRetried: 1 });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('SqsWritable lifecycle', () => {
  it.each([
    [{ batchSize: 11 }, RangeError, 'Expected `batchSize` to be an integer from 1 to 10, got `11`'],
    [
      { maxBatchesInFlight: 0 },
      RangeError,
      'Expected `maxBatchesInFlight` to be an integer from 1 to 100, got `0`',
    ],
    [
      { maxMessageBytes: 2_000_000 },
      RangeError,
      'Expected `maxMessageBytes` to be an integer from 1 to 1048576, got `2000000`',
    ],
    [
      { highWaterMark: 'many' },
      TypeError,
      'Expected `highWaterMark` to be an integer from 1 to 10000, got `many`',
    ],
    [
      { retry: { numOfAttempts: 0 } },
      RangeError,
      'Expected `retry.numOfAttempts` to be an integer 1 or more, got `0`',
    ],
    [{ batchsize: 5 }, TypeError, 'Unknown option `batchsize` for SqsWritable'],
    [{ queueUrl: undefined }, TypeError, 'Expected `queueUrl` or `queueName`, got neither'],
  ])('checks options at construction: %j', (options, type, message) => {
    const make = () => new SqsWritable({ queueUrl: QUEUE_URL, ...options } as never);
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });

  function fakeClient() {
    const signals: AbortSignal[] = [];
    const client = {
      send: jest.fn(
        (_command: unknown, options: { abortSignal: AbortSignal }) =>
          new Promise((_resolve, reject) => {
            signals.push(options.abortSignal);
            options.abortSignal.addEventListener('abort', () =>
              reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
            );
          }),
      ),
      destroy: jest.fn(),
    };
    return { client: client as unknown as SQSClient, raw: client, signals };
  }

  it('an aborted signal destroys the stream, aborts requests in flight and fails their writes', async () => {
    const { client, raw, signals } = fakeClient();
    const controller = new AbortController();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, signal: controller.signal });
    const results = range(3, 'm').map(
      (body) =>
        new Promise<Error | null>((resolve) => sink.write(body, (error) => resolve(error ?? null))),
    );
    const errored = once(sink, 'error');
    await settle();
    expect(signals).toHaveLength(1);
    controller.abort();
    const [error] = (await errored) as [Error];
    expect(error.name).toBe('AbortError');
    expect(signals[0]!.aborted).toBe(true);
    for (const result of await Promise.all(results))
      expect(result).toMatchObject({ name: 'AbortError' });
    expect(raw.destroy).not.toHaveBeenCalled(); // not ours to destroy
  });

  it('destroy() mid-flight fails the unconfirmed writes rather than reporting them sent', async () => {
    const { client, signals } = fakeClient();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const result = new Promise<Error | null>((resolve) =>
      sink.write('m', (error) => resolve(error ?? null)),
    );
    await settle();
    sink.destroy();
    expect(await result).toMatchObject({ message: expect.stringMatching(/abort|destroy/i) });
    expect(signals[0]!.aborted).toBe(true);
  });

  it('destroy() while the queue name is being resolved aborts it and closes quietly', async () => {
    const { client, signals } = fakeClient();
    const sink = new SqsWritable({ queueName: 'unit-send', client });
    const errors: unknown[] = [];
    sink.on('error', (error) => errors.push(error));
    const result = new Promise<Error | null>((resolve) =>
      sink.write('m', (error) => resolve(error ?? null)),
    );
    await settle();
    expect(signals).toHaveLength(1); // GetQueueUrl in flight
    sink.destroy();
    await once(sink, 'close');
    expect(signals[0]!.aborted).toBe(true);
    expect(await result).toMatchObject({ name: 'AbortError' }); // never sent
    expect(errors).toEqual([]);
  });

  it('destroys a client it built itself', async () => {
    const destroy = jest.spyOn(SQSClient.prototype, 'destroy');
    try {
      const sink = new SqsWritable({ queueUrl: QUEUE_URL, clientConfig: { region: 'eu-west-1' } });
      sink.destroy();
      await once(sink, 'close');
      expect(destroy).toHaveBeenCalledTimes(1);
    } finally {
      destroy.mockRestore();
    }
  });

  it('does not destroy a client passed in, and finishes an empty stream without requests', async () => {
    const sqs = heldSqs();
    const destroy = jest.spyOn(sqs.client, 'destroy');
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client: sqs.client });
    sink.end();
    await finished(sink);
    expect(destroy).not.toHaveBeenCalled();
    expect(sqs.held).toHaveLength(0);
  });
});
