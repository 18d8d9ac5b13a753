import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import type { SqsMessage } from '../../lib/settle/message.js';
import { hang, holdingReadable, refused, type Script } from '../support/faulty-sqs.js';
import { advance, useStreamFakeTimers } from '../support/mock-sqs.js';

// stop() resolves "once it ended and the acks asked for so far were confirmed" (sqs-readable.ts,
// DESIGN.md invariant 11: the bound is on confirming acks). A heartbeat extension of a message the
// consumer still holds is not an ack: one that SQS does not answer must not make stop() wait out
// shutdownTimeoutMs, nor reject with "did not confirm 0 acks or nacks".

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const SHUTDOWN_MS = 3_000;
const VISIBILITY = 30;

describe('stop() while only a heartbeat extension is unanswered', () => {
  it.each<[string, Script]>([
    ['failing', () => Promise.reject(refused())],
    ['hung', (_input, signal) => hang(signal)],
  ])('extension %s, every ack confirmed: stop() resolves', async (_label, extension) => {
    const { source, got, ...sqs } = await holdingReadable(2, {
      heartbeat: true,
      visibilityTimeout: VISIBILITY,
      shutdownTimeoutMs: SHUTDOWN_MS,
      retry: { jitter: 'none', maxDelay: 400 },
    });
    const [done, inHand] = got as [SqsMessage, SqsMessage];
    await Promise.all([done.ack(), advance(50)]);
    expect(source.stats.acked).toBe(1);

    // `inHand` is still being processed: its heartbeat is due, and SQS does not answer it.
    sqs.on(ChangeMessageVisibilityBatchCommand, extension);
    await advance((VISIBILITY * 1000 * 2) / 3 + 500);
    const extensions = sqs.inputs('ChangeMessageVisibilityBatch');
    expect(extensions.length).toBeGreaterThanOrEqual(1);
    expect(extensions[0]).toMatchObject({
      Entries: [expect.objectContaining({ ReceiptHandle: inHand.receiptHandle })],
    });

    let outcome: unknown = 'pending';
    const stopping = source.stop().then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = error),
    );
    // The stop grace (1 s) aborts the idle long poll; the stream ends; no ack is outstanding.
    await advance(1_500);
    expect(source.readableEnded).toBe(true);
    await advance(SHUTDOWN_MS);
    await stopping;
    expect(outcome).toBe('resolved');
    expect(source.stats.ackFailed).toBe(0);

    // What it holds is still the consumer's: its ack works once SQS answers again.
    sqs.on(ChangeMessageVisibilityBatchCommand, () => undefined);
    await Promise.all([inHand.ack(), advance(50)]);
    expect(source.stats.acked).toBe(2);
  });
});
