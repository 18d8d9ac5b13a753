import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsReadableOptions } from '../../lib/receive/sqs-readable.js';
import { faultySqs, hang, sdkError } from '../support/faulty-sqs.js';
import { QUEUE_URL, advance, fakeMessages, useStreamFakeTimers } from '../support/mock-sqs.js';

// Invariant 13: a FIFO receive is idempotent across retries: one ReceiveRequestAttemptId per
// logical receive, sent on its first attempt and reused by each retry (a timed-out one included,
// the case it exists for: a lost response), a new one for the next receive, none on a standard
// queue. Invariant 14: system attributes are asked for under both MessageSystemAttributeNames
// and the older AttributeNames.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

const FIFO_URL = `${QUEUE_URL}.fifo`;
const REQUEST_TIMEOUT_MS = 1_000;

/**
 * Two logical receives of one message each: the first hangs past its deadline, then fails with
 * a 500, then answers; the second answers at once.
 */
async function twoReceives(queueUrl: string, options: Partial<SqsReadableOptions> = {}) {
  const sqs = faultySqs();
  sqs.on(ReceiveMessageCommand, (_input, signal, call) => {
    if (call === 1) return hang(signal);
    if (call === 2) return Promise.reject(sdkError('InternalError', 500));
    return Promise.resolve({ Messages: fakeMessages(1) });
  });
  const source = new SqsReadable({
    queueUrl,
    client: sqs.client,
    heartbeat: false,
    waitTimeSeconds: 1,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    maxMessages: 2,
    retry: { jitter: 'none', startingDelay: 10 },
    ...options,
  });
  const retries: string[] = [];
  source.on('retry', (error: Error) => retries.push(error.name));
  const errors: unknown[] = [];
  source.on('error', (error) => errors.push(error));
  let got = 0;
  source.on('data', () => got++);
  await advance(1_000 + REQUEST_TIMEOUT_MS + 200, 10);
  expect(source.readableEnded).toBe(true);
  expect(errors).toEqual([]);
  expect(got).toBe(2);
  expect(retries).toEqual(['TimeoutError', 'InternalError']);
  const inputs = sqs.inputs('ReceiveMessage');
  expect(inputs).toHaveLength(4);
  return inputs;
}

describe('ReceiveRequestAttemptId', () => {
  it('FIFO: every retry of one receive carries its id; the next receive gets a new one', async () => {
    const inputs = await twoReceives(FIFO_URL);
    const ids = inputs.map((input) => input.ReceiveRequestAttemptId);
    const [first, timedOutRetry, failedRetry, next] = ids;
    expect(typeof first).toBe('string');
    expect(first).not.toBe('');
    expect(timedOutRetry).toBe(first);
    expect(failedRetry).toBe(first);
    expect(typeof next).toBe('string');
    expect(next).not.toBe(first);
    // SQS allows up to 128 characters of [a-zA-Z0-9] and punctuation.
    for (const id of ids) expect(id).toMatch(/^[\w!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]{1,128}$/);
  });

  it('FIFO: concurrent receives never share an id', async () => {
    const sqs = faultySqs();
    sqs.on(ReceiveMessageCommand, (_input, signal) => hang(signal));
    const source = new SqsReadable({
      queueUrl: FIFO_URL,
      client: sqs.client,
      heartbeat: false,
      concurrency: 3,
    });
    source.resume();
    await advance(10);
    const ids = sqs.inputs('ReceiveMessage').map((input) => input.ReceiveRequestAttemptId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    source.destroy();
  });

  it('a standard queue sends none, on the first attempt or any retry', async () => {
    const inputs = await twoReceives(QUEUE_URL);
    for (const input of inputs) {
      expect(input).not.toHaveProperty('ReceiveRequestAttemptId', expect.anything());
    }
  });
});

describe('system attributes are asked for under both names', () => {
  it('by default: All under AttributeNames and MessageSystemAttributeNames, on every attempt', async () => {
    const inputs = await twoReceives(FIFO_URL);
    for (const input of inputs) {
      expect(input.AttributeNames).toEqual(['All']);
      expect(input.MessageSystemAttributeNames).toEqual(['All']);
      expect(input.MessageAttributeNames).toEqual(['All']);
    }
  });

  it('the names given, under both', async () => {
    const attributeNames = ['ApproximateReceiveCount', 'MessageGroupId', 'SentTimestamp'];
    const inputs = await twoReceives(QUEUE_URL, { attributeNames });
    for (const input of inputs) {
      expect(input.AttributeNames).toEqual(attributeNames);
      expect(input.MessageSystemAttributeNames).toEqual(attributeNames);
    }
  });
});
