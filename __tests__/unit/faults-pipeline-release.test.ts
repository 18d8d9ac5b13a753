import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { faultySqs, visibilityEntries } from '../support/faulty-sqs.js';
import { QUEUE_URL, advance, fakeMessages, useStreamFakeTimers } from '../support/mock-sqs.js';

// Invariant 15: a held message does not outlive its pipeline. When the pipeline fails after the
// source ended naturally (maxMessages), the messages a stage still held are released (visibility
// 0), and the heartbeat does not keep them for maxHoldSeconds. Before a natural end, pipeline()
// destroys the source itself, which releases them.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const VISIBILITY = 30;

/**
 * source (5 messages, then ends) -> a Transform that acks the first `acked`, holds the rest, and
 * fails once the source has ended -> a sink.
 */
async function failingAfterEnd(acked: number, fail: 'flush' | 'later') {
  const sqs = faultySqs();
  const batch = fakeMessages(5);
  sqs.on(ReceiveMessageCommand, () => Promise.resolve({ Messages: batch }));
  const source = new SqsReadable({
    queueUrl: QUEUE_URL,
    client: sqs.client,
    maxMessages: 5,
    visibilityTimeout: VISIBILITY,
  });
  const releaseErrors: unknown[] = [];
  source.on('releaseError', (error) => releaseErrors.push(error));
  const held: SqsMessage[] = [];
  const boom = new Error('stage failed');
  let seen = 0;
  const stage = new Transform({
    objectMode: true,
    transform(message: SqsMessage, _encoding, callback) {
      if (seen++ < acked) void message.ack().then(() => callback(null, message), callback);
      else {
        held.push(message);
        callback();
      }
    },
    flush(callback) {
      expect(source.readableEnded).toBe(true);
      if (fail === 'flush') callback(boom);
      else setTimeout(() => stage.destroy(boom), 5_000);
    },
  });
  const sink = new Writable({ objectMode: true, write: (_m, _e, callback) => callback() });
  const done = pipeline(source, stage, sink).then(
    () => 'resolved',
    (error: unknown) => error,
  );
  return { ...sqs, source, held, boom, done, releaseErrors, batch };
}

describe('a pipeline that fails after the source ended releases what it held', () => {
  it.each(['flush', 'later'] as const)(
    'failing in %s: exactly the held messages get VisibilityTimeout 0, and no heartbeat after',
    async (fail) => {
      const run = await failingAfterEnd(2, fail);
      await advance(fail === 'flush' ? 100 : 5_100);
      expect(await run.done).toBe(run.boom);
      expect(run.source.readableEnded).toBe(true);
      expect(run.held).toHaveLength(3);
      const heldHandles = run.held.map((m) => m.receiptHandle);
      const releases = visibilityEntries(run.inputs('ChangeMessageVisibilityBatch'));
      expect(releases).toEqual(
        heldHandles.map((h) => expect.objectContaining({ ReceiptHandle: h, VisibilityTimeout: 0 })),
      );
      expect(run.source.stats).toMatchObject({ acked: 2, released: 3, held: 0 });
      for (const message of run.held) expect(message.state).toBe('released');

      // Past the heartbeat's due time (a third of the timeout before expiry) and several
      // timeouts more: not one extension.
      await advance(4 * VISIBILITY * 1000, 1_000);
      const all = visibilityEntries(run.inputs('ChangeMessageVisibilityBatch'));
      expect(all).toHaveLength(3);
      expect(all.every((e) => e.VisibilityTimeout === 0)).toBe(true);
      expect(run.releaseErrors).toEqual([]);
      // The acked ones were deleted once each, never released.
      const deleted = run
        .inputs('DeleteMessageBatch')
        .flatMap((input) =>
          (input.Entries as Array<{ ReceiptHandle: string }>).map((e) => e.ReceiptHandle),
        );
      expect(deleted.sort()).toEqual(
        run.batch
          .map((m) => m.ReceiptHandle as string)
          .filter((h) => !heldHandles.includes(h))
          .sort(),
      );
    },
  );

  it('a pipeline that succeeds after the end releases nothing: held messages stay held', async () => {
    const sqs = faultySqs();
    sqs.on(ReceiveMessageCommand, () => Promise.resolve({ Messages: fakeMessages(3) }));
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client: sqs.client,
      maxMessages: 3,
      visibilityTimeout: VISIBILITY,
    });
    const kept: SqsMessage[] = [];
    const sink = new Writable({
      objectMode: true,
      write(message: SqsMessage, _encoding, callback) {
        kept.push(message);
        callback();
      },
    });
    await Promise.all([pipeline(source, sink), advance(100)]);
    expect(kept).toHaveLength(3);
    expect(sqs.inputs('ChangeMessageVisibilityBatch')).toHaveLength(0);
    expect(source.stats.held).toBe(3);
    // Still kept alive by the heartbeat, and acks still work after the close (invariant 8).
    await advance(VISIBILITY * 1000, 1_000);
    const extensions = visibilityEntries(sqs.inputs('ChangeMessageVisibilityBatch'));
    expect(extensions).toHaveLength(3);
    expect(extensions.every((e) => e.VisibilityTimeout === VISIBILITY)).toBe(true);
    await Promise.all([...kept.map((m) => m.ack()), advance(50)]);
    expect(source.stats.acked).toBe(3);
  });
});
