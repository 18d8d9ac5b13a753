import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { EXPIRED_CREDENTIAL_ATTEMPTS } from '../../lib/core/classify.js';
import { AccessDeniedError, SqsStreamError } from '../../lib/core/errors.js';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { SqsWritable } from '../../lib/send/sqs-writable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { faultySqs, sdkError } from '../support/faulty-sqs.js';
import { QUEUE_URL, advance, fakeMessages, useStreamFakeTimers } from '../support/mock-sqs.js';

// Invariant 12: what SQS sends under pressure is classified for the operation that got it.
// OverLimit on a receive (the in-flight limit) is waited out; elsewhere it is permanent.
// Credentials that stay expired end the stream after a bounded number of attempts in a row; a
// signature error is retried only when the SDK has just corrected its clock skew.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const RETRY = { jitter: 'none', startingDelay: 10, maxDelay: 50 } as const;

/** A receive that throws `errors` in turn, then answers with one message each time. */
function receiving(errors: (call: number) => Error | undefined) {
  const sqs = faultySqs();
  sqs.on(ReceiveMessageCommand, (_input, _signal, call) => {
    const error = errors(call);
    return error === undefined
      ? Promise.resolve({ Messages: fakeMessages(1) })
      : Promise.reject(error);
  });
  const source = new SqsReadable({
    queueUrl: QUEUE_URL,
    client: sqs.client,
    heartbeat: false,
    maxMessages: 2,
    retry: RETRY,
  });
  const seen: Array<[unknown, number]> = [];
  source.on('retry', (error: unknown, attempt: number) => seen.push([error, attempt]));
  const errorsSeen: unknown[] = [];
  source.on('error', (error) => errorsSeen.push(error));
  const got: SqsMessage[] = [];
  source.on('data', (message: SqsMessage) => got.push(message));
  const closed = new Promise<void>((resolve) => source.once('close', () => resolve()));
  return { ...sqs, source, seen, errors: errorsSeen, got, closed };
}

describe('OverLimit', () => {
  it('a storm of 20 on ReceiveMessage is waited out: the stream keeps running, then delivers', async () => {
    const overLimit = sdkError('OverLimit', 403);
    const run = receiving((call) => (call <= 20 ? overLimit : undefined));
    await advance(20 * RETRY.maxDelay + 100, 10);
    await run.closed;
    expect(run.errors).toEqual([]);
    expect(run.seen).toHaveLength(20);
    expect(run.seen.every(([error]) => error === overLimit)).toBe(true);
    expect(run.seen.map(([, attempt]) => attempt)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(run.got).toHaveLength(2);
    expect(run.inputs('ReceiveMessage')).toHaveLength(22);
    expect(run.source.stats).toMatchObject({ received: 2, errorsRetried: 20 });
  });

  it('on SendMessageBatch is permanent: one request, the stream fails naming the code', async () => {
    const sqs = faultySqs();
    sqs.on(SendMessageBatchCommand, () => Promise.reject(sdkError('OverLimit', 403)));
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client: sqs.client, retry: RETRY });
    const retries: unknown[] = [];
    sink.on('retry', (error) => retries.push(error));
    const results: Array<Error | null> = [];
    sink.write('a', (error) => results.push(error ?? null));
    sink.end();
    const failed = once(sink, 'error');
    await advance(1_000);
    const [error] = (await failed) as [SqsStreamError];
    expect(error).toBeInstanceOf(SqsStreamError);
    expect(error.code).toBe('OverLimit');
    expect(error.operation).toBe('SendMessageBatch');
    expect(retries).toEqual([]);
    expect(sqs.inputs('SendMessageBatch')).toHaveLength(1);
    expect(results).toEqual([error]);
    expect(sink.stats.failed).toBe(1);
  });
});

describe('expired credentials', () => {
  it.each(['ExpiredToken', 'ExpiredTokenException'])(
    '%s that never goes away ends the stream with an access error after EXPIRED_CREDENTIAL_ATTEMPTS attempts',
    async (code) => {
      const run = receiving(() => sdkError(code, 403));
      await advance(EXPIRED_CREDENTIAL_ATTEMPTS * RETRY.maxDelay + 100, 10);
      await run.closed;
      expect(run.inputs('ReceiveMessage')).toHaveLength(EXPIRED_CREDENTIAL_ATTEMPTS);
      expect(run.seen).toHaveLength(EXPIRED_CREDENTIAL_ATTEMPTS - 1);
      expect(run.errors).toHaveLength(1);
      const error = run.errors[0] as SqsStreamError;
      expect(error).toBeInstanceOf(SqsStreamError);
      expect(error.operation).toBe('ReceiveMessage');
      expect(error.code).toBe(code);
      // A caller branches on the class, and the message says what to do.
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect(error.message).toMatch(/credentials/i);
    },
  );

  it('expiring twice, then refreshed: the stream keeps going', async () => {
    const run = receiving((call) => (call <= 2 ? sdkError('ExpiredToken', 403) : undefined));
    await advance(500, 10);
    await run.closed;
    expect(run.errors).toEqual([]);
    expect(run.seen).toHaveLength(2);
    expect(run.got).toHaveLength(2);
    expect(run.inputs('ReceiveMessage')).toHaveLength(4);
  });

  it('counts only attempts in a row: another error in between starts the count again', async () => {
    const limit = EXPIRED_CREDENTIAL_ATTEMPTS - 1;
    const run = receiving((call) => {
      if (call <= limit || (call > limit + 1 && call <= 2 * limit + 1)) {
        return sdkError('ExpiredToken', 403);
      }
      return call === limit + 1 ? sdkError('ThrottlingException', 400) : undefined;
    });
    await advance(2_000, 10);
    await run.closed;
    expect(run.errors).toEqual([]);
    expect(run.seen).toHaveLength(2 * limit + 1);
    expect(run.got).toHaveLength(2);
  });
});

describe('SignatureDoesNotMatch', () => {
  it('is retried when the SDK corrected its clock skew', async () => {
    const skewed = sdkError('SignatureDoesNotMatch', 403, { clockSkewCorrected: true });
    const run = receiving((call) => (call === 1 ? skewed : undefined));
    await advance(200, 10);
    await run.closed;
    expect(run.errors).toEqual([]);
    expect(run.seen).toEqual([[skewed, 1]]);
    expect(run.got).toHaveLength(2);
  });

  it('is permanent otherwise: one attempt, an AccessDeniedError', async () => {
    const run = receiving(() => sdkError('SignatureDoesNotMatch', 403));
    await advance(200, 10);
    await run.closed;
    expect(run.seen).toEqual([]);
    expect(run.inputs('ReceiveMessage')).toHaveLength(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(run.got).toEqual([]);
  });
});
