import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { SqsWritable } from '../../lib/send/sqs-writable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { faultySqs, hang, sdkError, visibilityEntries } from '../support/faulty-sqs.js';
import { QUEUE_URL, advance, fakeMessages, useStreamFakeTimers } from '../support/mock-sqs.js';

// Invariant 12, last sentence: a listener that throws never hangs a stream. The stream is
// destroyed with the listener's own error (a readable releases what it holds), the request the
// listener interrupted still ends, and nothing is left as an unhandled rejection. And one bad
// message in a receive (no ReceiptHandle) must not cost the rest of its batch.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const RETRY = { jitter: 'none', startingDelay: 10 } as const;

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** Collects a stream's 'error' and 'close'. */
function outcome(stream: NodeJS.EventEmitter) {
  const seen = { errors: [] as unknown[], closed: false };
  stream.on('error', (error) => seen.errors.push(error));
  stream.on('close', () => (seen.closed = true));
  return seen;
}

/** Throws `error` from the listener of `event`. */
function throwing(stream: NodeJS.EventEmitter, event: string, error: Error): void {
  stream.on(event, () => {
    throw error;
  });
}

/** A readable whose receives answer `answers` in turn, then hang. */
function readable(answers: Array<() => Promise<unknown>>, highWaterMark = 10) {
  const sqs = faultySqs();
  sqs.on(ReceiveMessageCommand, (_input, signal, call) => answers[call - 1]?.() ?? hang(signal));
  const source = new SqsReadable({
    queueUrl: QUEUE_URL,
    client: sqs.client,
    heartbeat: false,
    highWaterMark,
    retry: RETRY,
  });
  return { ...sqs, source, seen: outcome(source) };
}

const answer = (count: number) => () => Promise.resolve({ Messages: fakeMessages(count) });

describe('a throwing listener never hangs a stream', () => {
  it("'retry' on SqsReadable (a receive retry): destroyed with the listener's error", async () => {
    const boom = new Error('retry listener failed');
    const { source, seen, inputs } = readable([
      () => Promise.reject(sdkError('InternalError', 500)),
      answer(1),
    ]);
    throwing(source, 'retry', boom);
    source.resume();
    await advance(200, 10);
    expect(seen.closed).toBe(true);
    expect(seen.errors).toEqual([boom]);
    // The backoff sleep was cut by the destroy: no receive after the failed one.
    expect(inputs('ReceiveMessage')).toHaveLength(1);
  });

  it("'retry' on SqsReadable (an ack retry): destroyed with that error, the ack still completes", async () => {
    const boom = new Error('retry listener failed');
    const { source, seen, on, inputs } = readable([answer(2)]);
    on(DeleteMessageBatchCommand, (_input, _signal, call) =>
      call === 1 ? Promise.reject(sdkError('ThrottlingException', 400)) : undefined,
    );
    const got: SqsMessage[] = [];
    source.on('data', (message: SqsMessage) => got.push(message));
    await advance(10, 10);
    expect(got).toHaveLength(2);
    throwing(source, 'retry', boom);
    const [acked, held] = got as [SqsMessage, SqsMessage];
    const ack = acked.ack();
    await advance(200, 10);
    await expect(ack).resolves.toBeUndefined();
    expect(seen.errors).toEqual([boom]);
    expect(seen.closed).toBe(true);
    expect(inputs('DeleteMessageBatch')).toHaveLength(2);
    // The other message, still held, was released by the destroy.
    expect(visibilityEntries(inputs('ChangeMessageVisibilityBatch'))).toEqual([
      expect.objectContaining({ ReceiptHandle: held.receiptHandle, VisibilityTimeout: 0 }),
    ]);
  });

  it("'retry' on SqsWritable: destroyed with that error, every write callback fires", async () => {
    const boom = new Error('retry listener failed');
    const sqs = faultySqs();
    sqs.on(SendMessageBatchCommand, () => Promise.reject(sdkError('InternalError', 500)));
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client: sqs.client, retry: RETRY });
    const seen = outcome(sink);
    throwing(sink, 'retry', boom);
    const results: Array<Error | null> = [];
    for (const body of ['a', 'b']) sink.write(body, (error) => results.push(error ?? null));
    sink.end();
    await advance(200, 10);
    expect(seen.closed).toBe(true);
    expect(seen.errors).toEqual([boom]);
    expect(results).toHaveLength(2);
    for (const result of results) expect(result).toBeInstanceOf(Error);
    expect(sqs.inputs('SendMessageBatch')).toHaveLength(1);
  });

  it.each(['receive', 'empty'])(
    "'%s' on SqsReadable: destroyed with the listener's error, held messages released",
    async (event) => {
      const boom = new Error(`${event} listener failed`);
      // 2 messages, held in the buffer (never read); then an empty receive.
      const batch = fakeMessages(2);
      const { source, seen, inputs } = readable(
        [() => Promise.resolve({ Messages: batch }), () => Promise.resolve({ Messages: [] })],
        20,
      );
      throwing(source, event, boom);
      source.read(0);
      await advance(100, 10);
      expect(seen.closed).toBe(true);
      expect(seen.errors).toEqual([boom]);
      expect(source.stats.received).toBe(2);
      expect(visibilityEntries(inputs('ChangeMessageVisibilityBatch'))).toEqual(
        batch.map((m) =>
          expect.objectContaining({ ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }),
        ),
      );
      expect(source.stats.released).toBe(2);
      expect(inputs('ReceiveMessage')).toHaveLength(event === 'receive' ? 1 : 2);
    },
  );
});

describe('a received message without ReceiptHandle', () => {
  it('is skipped; the rest of its batch is delivered', async () => {
    const [first, broken, last] = fakeMessages(3);
    delete broken?.ReceiptHandle;
    const { source, seen } = readable([() => Promise.resolve({ Messages: [first, broken, last] })]);
    const got: string[] = [];
    source.on('data', (message: SqsMessage) => got.push(message.messageId));
    await advance(10, 10);
    expect(got).toEqual([first?.MessageId, last?.MessageId]);
    expect(source.stats.received).toBe(2);
    expect(seen.errors).toEqual([]);
    source.destroy();
    await advance(10, 10);
    expect(seen.closed).toBe(true);
  });
});
