import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { SqsStreamError } from '../../lib/core/errors.js';
import { SqsWritable } from '../../lib/send/sqs-writable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { faultySqs, hang, holdingReadable, refused } from '../support/faulty-sqs.js';
import { QUEUE_URL, advance, useStreamFakeTimers } from '../support/mock-sqs.js';

// Invariant 11: shutdown is bounded even when SQS is unreachable. destroy() closes within
// shutdownTimeoutMs of the call; stop() and SqsWritable's end() settle within shutdownTimeoutMs of
// the end. Nothing is lost by it (what was not released or deleted comes back after its
// visibility timeout), and what did not happen is counted and reported.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const SHUTDOWN_MS = 3_000;
const RETRY = { jitter: 'none', startingDelay: 100, maxDelay: 400 } as const;

/** Records whether (and when, in fake ms since `from`) each event fired. */
function watch(stream: NodeJS.EventEmitter, events: string[], from = Date.now()) {
  const at: Record<string, number[]> = {};
  const args: Record<string, unknown[]> = {};
  for (const event of events) {
    at[event] = [];
    args[event] = [];
    stream.on(event, (arg: unknown) => {
      at[event]?.push(Date.now() - from);
      args[event]?.push(arg);
    });
  }
  return { at, args };
}

/** A readable holding `count` received messages (read out); later receives hang. */
function holding(count: number) {
  return holdingReadable(count, { shutdownTimeoutMs: SHUTDOWN_MS, retry: RETRY });
}

describe('destroy() with SQS unreachable', () => {
  it('closes within shutdownTimeoutMs, without an error, counting what it could not release', async () => {
    const { source, on, inputs } = await holding(5);
    on(ChangeMessageVisibilityBatchCommand, () => Promise.reject(refused()));
    const { at, args } = watch(source, ['close', 'error', 'releaseError', 'release']);
    source.destroy();

    await advance(SHUTDOWN_MS - 100);
    expect(at.close).toEqual([]);
    // It kept trying meanwhile: the failures are transient.
    expect(inputs('ChangeMessageVisibilityBatch').length).toBeGreaterThan(3);
    await advance(150);
    expect(at.close).toHaveLength(1);
    expect(at.close?.[0]).toBeLessThanOrEqual(SHUTDOWN_MS);
    expect(at.error).toEqual([]);
    expect(at.release).toEqual([]);
    expect(source.stats).toMatchObject({ released: 0, releaseFailed: 5 });
    expect(args.releaseError).toHaveLength(1);
    expect(args.releaseError?.[0]).toBeInstanceOf(SqsStreamError);
    expect((args.releaseError?.[0] as Error).message).toMatch(/Could not release 5 of 5/);

    // Nothing keeps trying, or keeps the process alive, once closed.
    const requests = inputs('ChangeMessageVisibilityBatch').length;
    expect(jest.getTimerCount()).toBe(0);
    await advance(60_000, 1_000);
    expect(inputs('ChangeMessageVisibilityBatch')).toHaveLength(requests);
    expect(source.stats.visibilityRequests).toBe(requests);
  });

  it('an ack asked for before destroy() and never confirmed rejects, counted in ackFailed', async () => {
    const { source, got, on } = await holding(3);
    on(ChangeMessageVisibilityBatchCommand, () => Promise.reject(refused()));
    on(DeleteMessageBatchCommand, () => Promise.reject(refused()));
    const { at } = watch(source, ['close', 'error']);
    const ack = (got[0] as SqsMessage).ack().then(
      () => null,
      (error: unknown) => error,
    );
    source.destroy();
    await advance(SHUTDOWN_MS + 50);
    expect(at.close).toHaveLength(1);
    expect(at.error).toEqual([]);
    expect(await ack).toBeInstanceOf(SqsStreamError);
    expect(source.stats).toMatchObject({ acked: 0, ackFailed: 1, releaseFailed: 2 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('closes within shutdownTimeoutMs when the release hangs instead of failing', async () => {
    const { source, on, inputs } = await holding(3);
    on(ChangeMessageVisibilityBatchCommand, (_input, signal) => hang(signal));
    const { at, args } = watch(source, ['close', 'error', 'releaseError']);
    source.destroy();
    await advance(SHUTDOWN_MS + 50);
    expect(at.close).toHaveLength(1);
    expect(at.error).toEqual([]);
    expect(source.stats.releaseFailed).toBe(3);
    expect(args.releaseError).toHaveLength(1);
    const requests = inputs('ChangeMessageVisibilityBatch');
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('stop() with deletes failing forever', () => {
  it('rejects with ShutdownTimeout within shutdownTimeoutMs of the end; later acks still go', async () => {
    const { source, got, on, inputs } = await holding(4);
    on(DeleteMessageBatchCommand, () => Promise.reject(refused()));
    const [late, ...acked] = got as [SqsMessage, ...SqsMessage[]];
    const acks = acked.map((message) =>
      message.ack().then(
        () => null,
        (error: unknown) => error,
      ),
    );
    const { at } = watch(source, ['end', 'error']);
    let outcome: unknown = 'pending';
    let settledAt = NaN;
    const started = Date.now();
    const stopping = source.stop().then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = error),
    );
    void stopping.then(() => (settledAt = Date.now() - started));

    // The idle long poll is aborted after the stop grace; the stream ends then.
    await advance(1_100);
    expect(at.end).toHaveLength(1);
    const endedAt = at.end?.[0] as number;
    await advance(SHUTDOWN_MS - 200);
    expect(outcome).toBe('pending');
    expect(inputs('DeleteMessageBatch').length).toBeGreaterThan(3);
    await advance(300);
    expect(settledAt - endedAt).toBeLessThanOrEqual(SHUTDOWN_MS);

    expect(outcome).toBeInstanceOf(SqsStreamError);
    const error = outcome as SqsStreamError;
    expect(error.code).toBe('ShutdownTimeout');
    expect(error.message).toMatch(/did not confirm 3 acks/);
    expect(error.queue).toBe(QUEUE_URL);
    const outcomes = await Promise.all(acks);
    for (const ackError of outcomes) {
      expect(ackError).toBeInstanceOf(SqsStreamError);
      expect((ackError as SqsStreamError).code).toBe('ShutdownTimeout');
    }
    expect(source.stats).toMatchObject({ acked: 0, ackFailed: 3 });
    expect(at.error).toEqual([]);

    // The given-up batch stops retrying at once: no backoff timer left to keep the process ...
    expect(jest.getTimerCount()).toBe(0);
    const attempts = inputs('DeleteMessageBatch').length;
    await advance(5_000, 500);
    expect(inputs('DeleteMessageBatch')).toHaveLength(attempts);
    // ... and an ack asked for afterwards is sent as usual once SQS answers again.
    on(DeleteMessageBatchCommand, () => undefined);
    const lateAck = late.ack();
    await advance(50);
    await expect(lateAck).resolves.toBeUndefined();
    const last = inputs('DeleteMessageBatch').at(-1) as {
      Entries: Array<{ ReceiptHandle: string }>;
    };
    expect(last.Entries.map((e) => e.ReceiptHandle)).toEqual([late.receiptHandle]);
    expect(source.stats).toMatchObject({ acked: 1, ackFailed: 3 });
  });
});

describe('SqsWritable end() with SQS unreachable', () => {
  it.each([
    ['failing forever', () => Promise.reject(refused())],
    ['hanging', (_input: unknown, signal: AbortSignal | undefined) => hang(signal)],
  ])(
    'sends %s: settles within shutdownTimeoutMs with an error; each write callback gets one',
    async (_label, send) => {
      const sqs = faultySqs();
      sqs.on(SendMessageBatchCommand, send);
      const sink = new SqsWritable({
        queueUrl: QUEUE_URL,
        client: sqs.client,
        shutdownTimeoutMs: SHUTDOWN_MS,
        retry: RETRY,
      });
      const { at, args } = watch(sink, ['close', 'error', 'finish']);
      const results: Array<Error | null> = [];
      for (const body of ['a', 'b', 'c']) sink.write(body, (error) => results.push(error ?? null));
      sink.end();

      await advance(SHUTDOWN_MS - 100);
      expect(at.close).toEqual([]);
      expect(sqs.inputs('SendMessageBatch').length).toBeGreaterThanOrEqual(1);
      await advance(150);
      expect(at.close).toHaveLength(1);
      expect(at.close?.[0]).toBeLessThanOrEqual(SHUTDOWN_MS + 50);
      expect(at.finish).toEqual([]);
      expect(args.error).toHaveLength(1);
      const error = args.error?.[0] as SqsStreamError;
      expect(error).toBeInstanceOf(SqsStreamError);
      expect(error.code).toBe('ShutdownTimeout');
      expect(error.message).toMatch(/did not confirm 3 messages/);
      expect(results).toHaveLength(3);
      for (const result of results) expect(result).toBeInstanceOf(Error);
      expect(sink.stats).toMatchObject({ sent: 0, failed: 3 });

      const requests = sqs.inputs('SendMessageBatch').length;
      await advance(10_000, 500);
      expect(sqs.inputs('SendMessageBatch')).toHaveLength(requests);
    },
  );
});
