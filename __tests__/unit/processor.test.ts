import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { channels } from '../../lib/core/diagnostics.js';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { SqsProcessor } from '../../lib/settle/processor.js';
import { SqsModel } from '../support/fifo-model.js';
import { mockedTracker } from '../support/mock-tracker.js';
import {
  advance,
  deferred,
  mockedSqs,
  settle,
  useStreamFakeTimers,
  type Deferred,
} from '../support/mock-sqs.js';

afterEach(() => jest.useRealTimers());

function setup() {
  return mockedTracker({ heartbeat: false });
}

/** The VisibilityTimeout asked for each message so far, by receipt handle. */
function visibilityOf(visibility: ReturnType<typeof setup>['visibility']): Map<string, number> {
  const out = new Map<string, number>();
  for (const input of visibility()) {
    for (const entry of input.Entries ?? []) {
      out.set(entry.ReceiptHandle ?? '', entry.VisibilityTimeout ?? -1);
    }
  }
  return out;
}

/** A handler whose every run waits for the test: `runs[i]` resolves or rejects run i. */
function heldHandler() {
  const runs: Array<{ message: SqsMessage; signal: AbortSignal; reply: Deferred<void> }> = [];
  const handler = (message: SqsMessage, { signal }: { signal: AbortSignal }): Promise<void> => {
    const reply = deferred<void>();
    runs.push({ message, signal, reply });
    return reply.promise;
  };
  return { runs, handler };
}

describe('SqsProcessor: concurrency and backpressure', () => {
  it('runs at most `concurrency` handlers; a write completes only once its message has a slot', async () => {
    const { receive } = setup();
    const { runs, handler } = heldHandler();
    const processor = new SqsProcessor(handler, { concurrency: 4 });
    const completed: string[] = [];
    const messages = receive(12);
    for (const message of messages) {
      processor.write(message, () => completed.push(message.messageId));
    }
    await settle();
    expect(runs).toHaveLength(4);
    expect(processor.stats.active).toBe(4);
    expect(completed).toEqual(messages.slice(0, 4).map((m) => m.messageId));
    expect(processor.stats.held).toBe(12);

    runs[0]?.reply.resolve();
    await settle();
    expect(runs).toHaveLength(5);
    expect(processor.stats.active).toBe(4);
    expect(completed).toHaveLength(5);

    for (let i = 0; i < 12; i++) {
      for (const run of runs) run.reply.resolve();
      await settle();
    }
    expect(runs).toHaveLength(12);
    processor.end();
    await once(processor, 'finish');
    expect(processor.stats).toMatchObject({ processed: 12, failed: 0, active: 0, held: 0 });
  });

  it('with stuck handlers, the source stops receiving: its buffer stays within its highWaterMark', async () => {
    useStreamFakeTimers();
    const { client, mock } = mockedSqs();
    const model = new SqsModel(mock, { fifo: false });
    model.send(Array.from({ length: 200 }, () => ({})));
    const source = new SqsReadable({ queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', client });
    const { runs, handler } = heldHandler();
    const processor = new SqsProcessor(handler); // concurrency 10
    const running = pipeline(source, processor);
    await advance(2_000);

    expect(runs).toHaveLength(10);
    // 10 running, 10 in the processor's write buffer, the source's highWaterMark (20) buffered.
    expect(source.stats.buffered).toBeLessThanOrEqual(source.readableHighWaterMark);
    expect(source.stats.received).toBeLessThanOrEqual(10 + 10 + 20);
    expect(processor.stats.held).toBeLessThanOrEqual(20);
    const receives = source.stats.receiveRequests;
    await advance(5_000);
    expect(source.stats.receiveRequests).toBe(receives);

    source.destroy();
    await expect(running).rejects.toThrow();
  });

  it('places messages waiting behind their group without a slot, up to `concurrency` of them', async () => {
    const { receive } = setup();
    const { runs, handler } = heldHandler();
    const processor = new SqsProcessor(handler, { concurrency: 2, ordering: 'group' });
    const grouped = (message: SqsMessage, group: string): SqsMessage => {
      (message.attributes as Record<string, string>).MessageGroupId = group;
      return message;
    };
    const [a0, a1, a2, b0, a3, c0] = receive(6);
    const written = [
      grouped(a0!, 'a'),
      grouped(a1!, 'a'),
      grouped(a2!, 'a'),
      grouped(b0!, 'b'),
      grouped(a3!, 'a'),
      grouped(c0!, 'c'),
    ];
    const completed: string[] = [];
    for (const m of written) processor.write(m, () => completed.push(m.messageId));
    await settle();
    // a0 runs, a1 and a2 wait behind it (2 = concurrency), b0 takes the second slot; a3 must
    // wait for room behind a, and c0 behind a3.
    expect(runs.map((r) => r.message)).toEqual([a0, b0]);
    expect(completed).toEqual([a0, a1, a2, b0].map((m) => m!.messageId));
    processor.destroy();
  });
});

describe('SqsProcessor: outcomes', () => {
  it('acks a message whose handler resolved, and emits `processed` once SQS confirmed it', async () => {
    const { receive, deletes, mock } = setup();
    const reply = deferred<object>();
    mock.on(DeleteMessageBatchCommand).callsFake(() => reply.promise);
    const processor = new SqsProcessor(async () => {});
    const processed: SqsMessage[] = [];
    processor.on('processed', (m: SqsMessage) => processed.push(m));
    const [message] = receive(1);
    processor.write(message);
    for (let i = 0; i < 50 && deletes().length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(deletes()).toHaveLength(1);
    await settle();
    expect(processed).toEqual([]);
    reply.resolve({ Successful: [{ Id: deletes()[0]?.Entries?.[0]?.Id }], Failed: [] });
    await settle();
    expect(processed).toEqual([message]);
    expect(message?.state).toBe('acked');
    expect(processor.stats.processed).toBe(1);
    processor.end();
    await once(processor, 'finish');
  });

  it('nacks with the default backoff by receiveCount and emits `failed` with the error', async () => {
    const { receive, visibility } = setup();
    const boom = new Error('downstream said no');
    const processor = new SqsProcessor(async () => {
      throw boom;
    });
    const failures: Array<[unknown, SqsMessage]> = [];
    processor.on('failed', (error: unknown, m: SqsMessage) => failures.push([error, m]));
    const messages = receive(4);
    const counts = [1, 2, 3, 20];
    messages.forEach((m, i) => Object.assign(m, { receiveCount: counts[i] }));
    for (const m of messages) processor.write(m);
    processor.end();
    await once(processor, 'finish');
    expect(failures.map(([error]) => error)).toEqual([boom, boom, boom, boom]);
    expect(failures.map(([, m]) => m)).toEqual(messages);
    const delays = visibilityOf(visibility);
    expect(messages.map((m) => delays.get(m.receiptHandle))).toEqual([1, 2, 4, 900]);
    expect(processor.stats).toMatchObject({ processed: 0, failed: 4 });
  });

  it('counts a handler that throws synchronously as a rejection, with its own error', async () => {
    const { receive, visibility } = setup();
    const boom = new TypeError('sync');
    const processor = new SqsProcessor(
      () => {
        throw boom;
      },
      { retryDelaySeconds: 7 },
    );
    const failed = once(processor, 'failed');
    const [message] = receive(1);
    processor.end(message);
    expect((await failed)[0]).toBe(boom);
    await once(processor, 'finish');
    expect(visibilityOf(visibility).get(message!.receiptHandle)).toBe(7);
  });

  it('asks a retryDelaySeconds function with the message and the error; bad results fall back', async () => {
    const { receive, visibility } = setup();
    const boom = new Error('x');
    const asked: Array<[SqsMessage, unknown]> = [];
    const results: unknown[] = [12.6, -5, 'soon', 99_999];
    const processor = new SqsProcessor(
      async () => {
        throw boom;
      },
      {
        retryDelaySeconds: (m, error) => {
          asked.push([m, error]);
          return results[asked.length - 1] as number;
        },
      },
    );
    const messages = receive(4);
    for (const m of messages) processor.write(m);
    processor.end();
    await once(processor, 'finish');
    expect(asked).toEqual(messages.map((m) => [m, boom]));
    const delays = visibilityOf(visibility);
    expect(messages.map((m) => delays.get(m.receiptHandle))).toEqual([13, 0, 1, 43_200]);
  });

  it('leaves a message its handler settled itself alone', async () => {
    const { receive, visibility, deletes } = setup();
    const processor = new SqsProcessor(async (message) => {
      await message.nack(60);
    });
    const processed = jest.fn();
    processor.on('processed', processed);
    const [message] = receive(1);
    processor.end(message);
    await once(processor, 'finish');
    expect(deletes()).toHaveLength(0);
    expect(visibilityOf(visibility).get(message!.receiptHandle)).toBe(60);
    expect(processed).not.toHaveBeenCalled();
    expect(processor.stats.processed).toBe(0);
  });

  it('does not hang when a listener throws', async () => {
    const { receive } = setup();
    const processor = new SqsProcessor(async () => {});
    const thrown: unknown[] = [];
    // The listener's error is rethrown on its own tick: caught here instead of failing the test.
    const nextTick = process.nextTick.bind(process);
    const spy = jest
      .spyOn(process, 'nextTick')
      // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Node's own signature
      .mockImplementation((callback: Function, ...args: unknown[]) =>
        nextTick(() => {
          try {
            (callback as (...a: unknown[]) => void)(...args);
          } catch (error) {
            thrown.push(error);
          }
        }),
      );
    try {
      processor.on('processed', () => {
        throw new Error('listener bug');
      });
      for (const m of receive(3)) processor.write(m);
      processor.end();
      await once(processor, 'finish');
      await settle();
    } finally {
      spy.mockRestore();
    }
    expect(processor.stats.processed).toBe(3);
    expect(thrown).toHaveLength(3);
  });
});

describe('SqsProcessor: timeoutMs', () => {
  it("aborts the handler's signal with a TimeoutError, fails the message at once and frees its slot", async () => {
    useStreamFakeTimers();
    const { receive, visibility, deletes } = setup();
    const { runs, handler } = heldHandler();
    const processor = new SqsProcessor(handler, {
      concurrency: 1,
      timeoutMs: 1_000,
      retryDelaySeconds: 5,
    });
    const failures: unknown[] = [];
    processor.on('failed', (error: unknown) => failures.push(error));
    const [slow, next] = receive(2);
    processor.write(slow);
    processor.write(next);
    await advance(900);
    expect(runs).toHaveLength(1);
    expect(failures).toEqual([]);

    await advance(200);
    expect(runs[0]?.signal.aborted).toBe(true);
    expect((runs[0]?.signal.reason as Error).name).toBe('TimeoutError');
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).name).toBe('TimeoutError');
    expect((failures[0] as Error).message).toContain(slow!.messageId);
    expect(runs).toHaveLength(2); // the slot is free: the next message runs
    expect(visibilityOf(visibility).get(slow!.receiptHandle)).toBe(5);

    // What the timed-out handler does later is ignored.
    runs[0]?.reply.resolve();
    runs[1]?.reply.resolve();
    await advance(100);
    expect(
      deletes()
        .flatMap((d) => d.Entries ?? [])
        .map((e) => e.ReceiptHandle),
    ).toEqual([next!.receiptHandle]);
    expect(processor.stats).toMatchObject({ processed: 1, failed: 1 });
  });

  it('gives a handler that reads its signal only after the timeout an aborted one', async () => {
    useStreamFakeTimers();
    const { receive } = setup();
    const contexts: Array<{ signal: AbortSignal }> = [];
    // Keeps the context and reads `signal` later: the signal is made on first read.
    const handler = (_message: SqsMessage, context: { signal: AbortSignal }): Promise<void> => {
      contexts.push(context);
      return new Promise(() => {});
    };
    const processor = new SqsProcessor(handler, { concurrency: 2, timeoutMs: 1_000 });
    const failed = jest.fn();
    processor.on('failed', failed);
    const [late, early] = receive(2);
    processor.write(late);
    processor.write(early);
    await advance(100);
    expect(contexts).toHaveLength(2);
    const earlySignal = contexts[1]!.signal;
    expect(earlySignal.aborted).toBe(false);

    await advance(1_000);
    expect(failed).toHaveBeenCalledTimes(2);
    expect(earlySignal.aborted).toBe(true);
    const lateSignal = contexts[0]!.signal;
    expect(lateSignal.aborted).toBe(true);
    expect((lateSignal.reason as Error).name).toBe('TimeoutError');
    expect(contexts[0]!.signal).toBe(lateSignal);
    processor.destroy();
  });

  it('gives every handler a context of one class: no getter of its own per run', async () => {
    // A getter in an object literal made per run gave each context a hidden class of its own,
    // which kept every run's objects alive through scavenges (3x the CPU on the stub client).
    const { receive } = setup();
    const contexts: object[] = [];
    const processor = new SqsProcessor(
      (_message, context) => {
        contexts.push(context);
        return Promise.resolve();
      },
      { concurrency: 2 },
    );
    for (const message of receive(2)) processor.write(message);
    await settle();
    expect(contexts).toHaveLength(2);
    const [first, second] = contexts as [object, object];
    expect(Object.getPrototypeOf(first)).toBe(Object.getPrototypeOf(second));
    expect(Object.getPrototypeOf(first)).not.toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(first, 'signal')).toBeUndefined();
    expect(first).toMatchObject({ data: undefined });
    expect((first as { signal: AbortSignal }).signal).toBeInstanceOf(AbortSignal);
    processor.destroy();
  });
});

describe('SqsProcessor: destroy and end', () => {
  it('destroy() aborts running handlers without `failed`, and releases everything written', async () => {
    // A batch window longer than the test: the releases must not wait for it.
    const { receive, visibility, mock } = mockedTracker({
      heartbeat: false,
      ackBatchWindowMs: 60_000,
    });
    const { runs, handler } = heldHandler();
    const processor = new SqsProcessor(handler, { concurrency: 2 });
    const failed = jest.fn();
    processor.on('failed', failed);
    const messages = receive(8); // 2 running, 1 waiting for a slot, 5 in Node's buffer
    for (const m of messages) processor.write(m);
    await settle();
    expect(runs).toHaveLength(2);

    processor.destroy();
    await once(processor, 'close');
    expect(runs.every((r) => r.signal.aborted)).toBe(true);
    expect((runs[0]?.signal.reason as Error).name).toBe('AbortError');
    const released = visibilityOf(visibility);
    expect(messages.map((m) => released.get(m.receiptHandle))).toEqual(messages.map(() => 0));
    // Sent at once, not after the batch window: already confirmed when 'close' is emitted.
    expect(mock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(1);
    expect(messages.every((m) => m.settled)).toBe(true);

    runs[0]?.reply.reject(new Error('aborted'));
    runs[1]?.reply.resolve();
    await settle();
    expect(failed).not.toHaveBeenCalled();
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  it('end() finishes only once every handler ran and its ack was confirmed', async () => {
    const { receive, deletes } = setup();
    const { runs, handler } = heldHandler();
    const processor = new SqsProcessor(handler, { concurrency: 2 });
    const finished = jest.fn();
    processor.on('finish', finished);
    for (const m of receive(3)) processor.write(m);
    processor.end();
    await settle();
    runs[0]?.reply.resolve();
    runs[1]?.reply.resolve();
    await settle();
    expect(finished).not.toHaveBeenCalled();
    runs[2]?.reply.resolve();
    await once(processor, 'finish');
    expect(deletes().flatMap((d) => d.Entries ?? [])).toHaveLength(3);
    expect(processor.stats.processed).toBe(3);
  });

  it('fails on a chunk that is not an SqsMessage, releasing the messages written', async () => {
    const { receive, visibility } = setup();
    const processor = new SqsProcessor(async () => {});
    const [message] = receive(1);
    const closed = new Promise((resolve) => processor.once('close', resolve));
    const errored = once(processor, 'error');
    processor.write('a body');
    processor.write(message);
    const [error] = (await errored) as [Error];
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/expects SqsMessage objects.*got a string/);
    expect(error.message).not.toContain('a body');
    await closed;
    expect(visibilityOf(visibility).get(message!.receiptHandle)).toBe(0);
  });
});

describe('SqsProcessor: an ack that fails after the handler succeeded', () => {
  /** Every entry of `command`'s batches fails for good (SQS's answer for an expired handle). */
  function failEntries(
    mock: ReturnType<typeof setup>['mock'],
    command: typeof DeleteMessageBatchCommand | typeof ChangeMessageVisibilityBatchCommand,
  ): void {
    mock.on(command).callsFake((input: { Entries?: Array<{ Id?: string }> }) => ({
      Successful: [],
      Failed: (input.Entries ?? []).map((e) => ({
        Id: e.Id,
        Code: 'ReceiptHandleIsInvalid',
        SenderFault: true,
        Message: 'The receipt handle has expired',
      })),
    }));
  }

  it('destroys the processor with the error when nobody listens for `settleError`', async () => {
    const { receive, mock } = setup();
    failEntries(mock, DeleteMessageBatchCommand);
    const processor = new SqsProcessor(async () => {});
    const [message] = receive(1);
    processor.write(message);
    const [error] = (await once(processor, 'error')) as [Error];
    expect(error.name).toBe('BatchEntryError');
    expect(error.message).toContain(message!.messageId);
    expect(error.message).not.toContain(message!.receiptHandle);
    expect(processor.stats.processed).toBe(0);
  });

  it('emits `settleError` (error, message) instead, and goes on, when listened for', async () => {
    const { receive, mock } = setup();
    failEntries(mock, DeleteMessageBatchCommand);
    const processor = new SqsProcessor(async () => {});
    const errors: Array<[Error, SqsMessage]> = [];
    processor.on('settleError', (error: Error, m: SqsMessage) => errors.push([error, m]));
    const messages = receive(2);
    for (const m of messages) processor.write(m);
    processor.end();
    await once(processor, 'finish');
    expect(errors.map(([, m]) => m)).toEqual(messages);
    expect(errors[0]?.[0].name).toBe('BatchEntryError');
    expect(processor.stats.processed).toBe(0);
  });

  it('reports a nack that fails the same way, after `failed`, and still finishes', async () => {
    const { receive, mock } = setup();
    failEntries(mock, ChangeMessageVisibilityBatchCommand);
    const processor = new SqsProcessor(async () => Promise.reject(new Error('bad body')));
    const events: string[] = [];
    processor.on('failed', (_error: Error, m: SqsMessage) => events.push(`failed ${m.messageId}`));
    processor.on('settleError', (error: Error, m: SqsMessage) =>
      events.push(`settleError ${m.messageId} ${error.name}`),
    );
    const messages = receive(2);
    for (const m of messages) processor.write(m);
    processor.end();
    await once(processor, 'finish');
    const ids = messages.map((m) => m.messageId);
    expect(events.filter((e) => e.startsWith('failed'))).toEqual(ids.map((id) => `failed ${id}`));
    expect(events.filter((e) => e.startsWith('settleError'))).toEqual(
      ids.map((id) => `settleError ${id} BatchEntryError`),
    );
    expect(processor.stats).toMatchObject({ processed: 0, failed: 2, held: 0 });
  });
});

describe('SqsProcessor: tracing', () => {
  it('publishes every handler run on sqs-streams:process, with the message and the error', async () => {
    const { receive } = setup();
    const seen: Array<{ event: string; context: Record<string, unknown> }> = [];
    const handlers = {
      start: (context: object) => seen.push({ event: 'start', context: { ...context } }),
      asyncEnd: (context: object) => seen.push({ event: 'asyncEnd', context: { ...context } }),
      error: (context: object) => seen.push({ event: 'error', context: { ...context } }),
      end: () => {},
      asyncStart: () => {},
    };
    channels.process.subscribe(handlers);
    try {
      const boom = new Error('boom');
      const processor = new SqsProcessor(async (m) => {
        if (m === second) throw boom;
      });
      const [first, second] = receive(2);
      processor.write(first);
      processor.end(second);
      await once(processor, 'finish');
      const starts = seen.filter((s) => s.event === 'start').map((s) => s.context);
      expect(starts).toEqual([
        { queueUrl: first!.queueUrl, operation: 'process', messageCount: 1, message: first },
        { queueUrl: second!.queueUrl, operation: 'process', messageCount: 1, message: second },
      ]);
      expect(seen.filter((s) => s.event === 'error').map((s) => s.context.error)).toEqual([boom]);
      expect(seen.filter((s) => s.event === 'asyncEnd')).toHaveLength(2);
    } finally {
      channels.process.unsubscribe(handlers);
    }
  });

  it('builds no trace context when nobody subscribes', async () => {
    const { receive } = setup();
    const tracePromise = jest.spyOn(channels.process, 'tracePromise');
    try {
      const processor = new SqsProcessor(async () => {});
      processor.end(receive(1)[0]);
      await once(processor, 'finish');
      expect(tracePromise).not.toHaveBeenCalled();
    } finally {
      tracePromise.mockRestore();
    }
  });
});

describe('SqsProcessor options', () => {
  const handler = async (): Promise<void> => {};
  it.each([
    [{ concurrency: 0 }, 'Expected `concurrency` to be an integer from 1 to 10000, got `0`'],
    [{ concurrency: 2.5 }, 'Expected `concurrency` to be an integer from 1 to 10000, got `2.5`'],
    [{ timeoutMs: 0 }, 'Expected `timeoutMs` to be an integer from 1 to 2147483647, got `0`'],
    [
      { retryDelaySeconds: 43_201 },
      'Expected `retryDelaySeconds` to be an integer from 0 to 43200, got `43201`',
    ],
    [
      { retryDelaySeconds: 'soon' },
      'Expected `retryDelaySeconds` to be an integer from 0 to 43200 or a function, got `soon`',
    ],
    [{ ordering: 'fifo' }, "Expected `ordering` to be one of 'auto', 'group', 'none', got `fifo`"],
    [{ schema: { parse: () => 1 } }, 'Expected `schema` to be a Standard Schema'],
    [
      { batchSize: 10 },
      'Unknown option `batchSize` for SqsProcessor; the options are `concurrency`',
    ],
  ])('rejects %j', (options, message) => {
    expect(() => new SqsProcessor(handler, options as never)).toThrow(message);
  });

  it('rejects a handler that is not a function, and options that are not an object', () => {
    expect(() => new SqsProcessor('handle' as never)).toThrow(
      'Expected `handler` to be a function (message, { signal, data }) => Promise, got `handle`',
    );
    expect(() => new SqsProcessor(handler, 5 as never)).toThrow(
      'Expected `options` to be an object, got `5`',
    );
  });
});
