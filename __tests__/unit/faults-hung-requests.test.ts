import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { SqsWritable } from '../../lib/send/sqs-writable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { faultySqs, hang, holdingReadable, visibilityEntries } from '../support/faulty-sqs.js';
import {
  QUEUE_URL,
  advance,
  fakeMessages,
  mockedSqs,
  settle,
  useStreamFakeTimers,
} from '../support/mock-sqs.js';

// Invariant 10: no request waits forever. A hung connection (accepted, never answered) costs one
// deadline (`waitTimeSeconds * 1000 + requestTimeoutMs` for a receive, `requestTimeoutMs` for the
// rest), is reported as a 'retry' with a TimeoutError, and the next attempt carries the same
// work: nothing is lost and nothing is done twice.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const REQUEST_TIMEOUT_MS = 2_000;
const RETRY = { jitter: 'none', startingDelay: 100 } as const;

function retries(stream: NodeJS.EventEmitter): unknown[] {
  const seen: unknown[] = [];
  stream.on('retry', (error: unknown) => seen.push(error));
  return seen;
}

function timeouts(seen: unknown[]): string[] {
  return seen.map((error) => (error as Error).name);
}

/** A readable that received `count` messages (read out, held) and ended: no receive after. */
async function readableHolding(count: number, options: { heartbeat?: boolean } = {}) {
  const held = await holdingReadable(count, {
    maxMessages: count,
    heartbeat: options.heartbeat ?? false,
    visibilityTimeout: 30,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    retry: RETRY,
  });
  expect(held.inputs('ReceiveMessage')).toHaveLength(1);
  return { ...held, seen: retries(held.source) };
}

/** The first call of a settle request hangs; later ones get the mocked (successful) answer. */
function firstHangs(_input: unknown, signal: AbortSignal | undefined, call: number) {
  return call === 1 ? hang(signal) : undefined;
}

describe('a hung request costs one deadline, then is retried', () => {
  it('ReceiveMessage: deadline is waitTimeSeconds * 1000 + requestTimeoutMs, then it delivers once', async () => {
    const sqs = faultySqs();
    const batch = fakeMessages(3);
    sqs.on(ReceiveMessageCommand, (_input, signal, call) =>
      call === 1 ? hang(signal) : Promise.resolve({ Messages: batch }),
    );
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client: sqs.client,
      heartbeat: false,
      waitTimeSeconds: 5,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      maxMessages: 3,
      retry: RETRY,
    });
    const seen = retries(source);
    const errors: unknown[] = [];
    source.on('error', (error) => errors.push(error));
    const got: SqsMessage[] = [];
    source.on('data', (message: SqsMessage) => got.push(message));
    const ended = once(source, 'end');

    await settle();
    expect(sqs.inputs('ReceiveMessage')).toHaveLength(1);
    await advance(5_000 + REQUEST_TIMEOUT_MS - 1);
    // Not cut short: a long poll may legitimately wait its whole WaitTimeSeconds.
    expect(seen).toHaveLength(0);
    expect(sqs.calls[0]?.signal?.aborted).toBe(false);
    await advance(1, 1);
    expect(sqs.calls[0]?.signal?.aborted).toBe(true);
    expect(timeouts(seen)).toEqual(['TimeoutError']);
    expect((seen[0] as Error).message).toMatch(/ReceiveMessage.*7000 ms/);
    await advance(RETRY.startingDelay);
    await ended;

    expect(sqs.inputs('ReceiveMessage')).toHaveLength(2);
    expect(got.map((m) => m.messageId)).toEqual(batch.map((m) => m.MessageId));
    expect(source.stats).toMatchObject({ received: 3, receiveRequests: 2, errorsRetried: 1 });
    expect(errors).toEqual([]);
  });

  it('GetQueueAttributes (for the heartbeat): retried after requestTimeoutMs, then receives start', async () => {
    const sqs = faultySqs();
    sqs.on(GetQueueAttributesCommand, firstHangs);
    sqs.on(ReceiveMessageCommand, () => Promise.resolve({ Messages: fakeMessages(1) }));
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client: sqs.client,
      maxMessages: 1,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retry: RETRY,
    });
    const seen = retries(source);
    source.resume();
    await advance(REQUEST_TIMEOUT_MS - 1);
    expect(seen).toHaveLength(0);
    expect(sqs.inputs('ReceiveMessage')).toHaveLength(0);
    await advance(1, 1);
    expect(timeouts(seen)).toEqual(['TimeoutError']);
    await advance(RETRY.startingDelay);
    expect(sqs.inputs('GetQueueAttributes')).toHaveLength(2);
    expect(sqs.inputs('ReceiveMessage')).toHaveLength(1);
    expect(source.stats.received).toBe(1);
  });

  it('DeleteMessageBatch (ack): aborted after requestTimeoutMs, the retry deletes each once', async () => {
    const { source, got, seen, handles, on, inputs, calls } = await readableHolding(3);
    on(DeleteMessageBatchCommand, firstHangs);
    const acked: string[] = [];
    source.on('ack', (message: SqsMessage) => acked.push(message.messageId));
    const acks = got.map((message) => message.ack());
    await advance(20); // the batch window
    expect(inputs('DeleteMessageBatch')).toHaveLength(1);
    await advance(REQUEST_TIMEOUT_MS - 1);
    expect(seen).toHaveLength(0);
    await advance(1, 1);
    expect(calls.find((c) => c.command === 'DeleteMessageBatch')?.signal?.aborted).toBe(true);
    expect(timeouts(seen)).toEqual(['TimeoutError']);
    await advance(RETRY.startingDelay);
    await Promise.all(acks);

    const deletes = inputs('DeleteMessageBatch').map((input) =>
      (input.Entries as Array<{ ReceiptHandle: string }>).map((e) => e.ReceiptHandle),
    );
    expect(deletes).toEqual([handles, handles]);
    expect(acked).toEqual(got.map((m) => m.messageId));
    expect(source.stats).toMatchObject({ acked: 3, deleteRequests: 2, ackFailed: 0 });
  });

  it('ChangeMessageVisibilityBatch (nack): aborted after requestTimeoutMs, the retry releases each once', async () => {
    const { source, got, seen, handles, on, inputs } = await readableHolding(3);
    on(ChangeMessageVisibilityBatchCommand, firstHangs);
    const released: string[] = [];
    source.on('release', (message: SqsMessage) => released.push(message.messageId));
    const nacks = got.map((message) => message.nack());
    await advance(20 + REQUEST_TIMEOUT_MS - 1);
    expect(inputs('ChangeMessageVisibilityBatch')).toHaveLength(1);
    expect(seen).toHaveLength(0);
    await advance(1, 1);
    expect(timeouts(seen)).toEqual(['TimeoutError']);
    await advance(RETRY.startingDelay);
    await Promise.all(nacks);

    const attempts = inputs('ChangeMessageVisibilityBatch');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(visibilityEntries([attempt])).toEqual(
        handles.map((h) => expect.objectContaining({ ReceiptHandle: h, VisibilityTimeout: 0 })),
      );
    }
    expect(released).toEqual(got.map((m) => m.messageId));
    expect(source.stats).toMatchObject({ released: 3, releaseFailed: 0 });
  });

  it('ChangeMessageVisibilityBatch (heartbeat): a hung extension is retried before the message expires', async () => {
    const { source, got, seen, handles, on, inputs } = await readableHolding(2, {
      heartbeat: true,
    });
    on(ChangeMessageVisibilityBatchCommand, firstHangs);
    const heartbeatErrors: unknown[] = [];
    source.on('heartbeatError', (error) => heartbeatErrors.push(error));
    // A third of the 30 s visibility timeout before it runs out, the heartbeat extends.
    await advance(20_000);
    expect(inputs('ChangeMessageVisibilityBatch')).toHaveLength(1);
    await advance(REQUEST_TIMEOUT_MS - 1);
    expect(seen).toHaveLength(0);
    await advance(1, 1);
    expect(timeouts(seen)).toEqual(['TimeoutError']);
    await advance(RETRY.startingDelay);
    const attempts = inputs('ChangeMessageVisibilityBatch');
    expect(attempts).toHaveLength(2);
    expect(visibilityEntries(attempts)).toEqual(
      [...handles, ...handles].map((h) =>
        expect.objectContaining({ ReceiptHandle: h, VisibilityTimeout: 30 }),
      ),
    );
    // Confirmed within the first visibility timeout (30 s), so it never expired; the next beat
    // comes a visibility timeout later, not at once.
    await advance(10_000);
    expect(inputs('ChangeMessageVisibilityBatch')).toHaveLength(2);
    expect(heartbeatErrors).toEqual([]);
    await Promise.all(got.map((m) => m.ack()).concat(advance(20)));
    expect(source.stats.acked).toBe(2);
  });

  it('SendMessageBatch: aborted after requestTimeoutMs, the retry sends each message once', async () => {
    const sqs = faultySqs();
    sqs.on(SendMessageBatchCommand, (input, signal, call) => {
      if (call === 1) return hang(signal);
      const entries = input.Entries as Array<{ Id: string }>;
      return Promise.resolve({
        Successful: entries.map((e) => ({ Id: e.Id, MessageId: `sent-${e.Id}` })),
        Failed: [],
      });
    });
    const sink = new SqsWritable({
      queueUrl: QUEUE_URL,
      client: sqs.client,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retry: RETRY,
    });
    const seen = retries(sink);
    const results: unknown[] = [];
    for (const body of ['a', 'b', 'c']) sink.write(body, (error) => results.push(error ?? null));
    sink.end();
    const finished = once(sink, 'finish');
    await advance(REQUEST_TIMEOUT_MS - 1);
    expect(sqs.inputs('SendMessageBatch')).toHaveLength(1);
    expect(seen).toHaveLength(0);
    expect(results).toEqual([]);
    await advance(1, 1);
    expect(timeouts(seen)).toEqual(['TimeoutError']);
    await advance(RETRY.startingDelay);
    await finished;

    const bodies = sqs
      .inputs('SendMessageBatch')
      .map((input) => (input.Entries as Array<{ MessageBody: string }>).map((e) => e.MessageBody));
    expect(bodies).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(results).toEqual([null, null, null]);
    expect(sink.stats).toMatchObject({ sent: 3, sendRequests: 2, errorsRetried: 1, failed: 0 });
  });
});

describe('a client that ignores its abort signal', () => {
  it("destroy() clears the receive's deadline: no timer is left to hold the process open", async () => {
    const { client, mock } = mockedSqs();
    // Never answers, and does not listen to the signal it is given (unlike the SDK).
    mock.on(ReceiveMessageCommand).callsFake(() => new Promise(() => undefined));
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    source.resume();
    await settle(5);
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    const whileWaiting = jest.getTimerCount();
    expect(whileWaiting).toBeGreaterThan(0); // the receive's deadline, 20 s + requestTimeoutMs
    source.destroy();
    // Past destroy()'s bound (shutdownTimeoutMs, 10 s), well before the deadline (30 s).
    await advance(12_000);
    expect(source.closed).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });
});
