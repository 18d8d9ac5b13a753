import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import {
  AccessDeniedError,
  QueueDoesNotExistError,
  SqsStreamError,
} from '../../lib/core/errors.js';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import {
  QUEUE_URL,
  fakeMessages,
  mockedSqs,
  useStreamFakeTimers,
  advance,
} from '../support/mock-sqs.js';

// Invariant 5: transient errors are retried with backoff and reported, never ending the stream;
// permanent ones destroy it with a typed error naming the queue and the operation.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

function sdkError(name: string, status: number, extra: object = {}): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    ...extra,
  });
}

describe('SqsReadable errors', () => {
  it.each([
    ['throttling', sdkError('ThrottlingException', 400)],
    ['a 5xx', sdkError('InternalError', 500)],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['expired credentials', sdkError('ExpiredTokenException', 400)],
  ])('retries %s with backoff and keeps going', async (_label, error) => {
    const { client, mock } = mockedSqs();
    mock
      .on(ReceiveMessageCommand)
      .rejectsOnce(error)
      .rejectsOnce(error)
      .rejectsOnce(error)
      .resolves({ Messages: fakeMessages(1) });
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      maxMessages: 1,
      retry: { jitter: 'none' },
    });
    const retries: [unknown, number, number][] = [];
    source.on('retry', (e: unknown, attempt: number, delay: number) =>
      retries.push([e, attempt, delay]),
    );
    const errors: unknown[] = [];
    source.on('error', (e) => errors.push(e));
    const got: unknown[] = [];
    source.on('data', (m) => got.push(m));
    await advance(100 + 200 + 400);
    expect(source.readableEnded).toBe(true);
    expect(retries.map(([e, attempt, delay]) => [e, attempt, delay])).toEqual([
      [error, 1, 100],
      [error, 2, 200],
      [error, 3, 400],
    ]);
    expect(got).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(source.stats.errorsRetried).toBe(3);
    expect(source.stats.receiveRequests).toBe(4);
  });

  it('gives up after retry.numOfAttempts and errors', async () => {
    const { client, mock } = mockedSqs();
    mock.on(ReceiveMessageCommand).rejects(sdkError('ServiceUnavailable', 503));
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      retry: { numOfAttempts: 3, jitter: 'none' },
    });
    source.resume();
    const failed = once(source, 'error');
    await advance(1_000);
    const [error] = (await failed) as [SqsStreamError];
    expect(error).toBeInstanceOf(SqsStreamError);
    expect(error.operation).toBe('ReceiveMessage');
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(3);
  });

  it('ends with QueueDoesNotExistError naming queue, operation and cause', async () => {
    const { client, mock } = mockedSqs();
    const cause = sdkError('QueueDoesNotExist', 400);
    mock.on(ReceiveMessageCommand).rejects(cause);
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    source.resume();
    const [error] = (await once(source, 'error')) as [QueueDoesNotExistError];
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error.queue).toBe(QUEUE_URL);
    expect(error.operation).toBe('ReceiveMessage');
    expect(error.cause).toBe(cause);
    expect(error.message).toContain(QUEUE_URL);
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  it('ends with AccessDeniedError on bad credentials, without retrying', async () => {
    const { client, mock } = mockedSqs();
    mock.on(ReceiveMessageCommand).rejects(sdkError('InvalidClientTokenId', 403));
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    source.resume();
    const [error] = (await once(source, 'error')) as [AccessDeniedError];
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toMatch(/credentials/);
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  it('resolves a queue name once and fails clearly when it does not exist', async () => {
    const { client, mock } = mockedSqs();
    mock.on(GetQueueUrlCommand).rejects(sdkError('QueueDoesNotExist', 400));
    const source = new SqsReadable({ queueName: 'missing-queue', client });
    source.resume();
    const [error] = (await once(source, 'error')) as [QueueDoesNotExistError];
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error.queue).toBe('missing-queue');
    expect(error.operation).toBe('GetQueueUrl');
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('reads the queue visibility timeout once, for the heartbeat', async () => {
    const { client, mock } = mockedSqs();
    mock.on(GetQueueUrlCommand).resolves({ QueueUrl: QUEUE_URL });
    mock.on(ReceiveMessageCommand).resolves({ Messages: fakeMessages(3) });
    const source = new SqsReadable({ queueName: 'unit-queue', client, maxMessages: 6 });
    source.resume();
    await once(source, 'end');
    expect(mock.commandCalls(GetQueueUrlCommand)).toHaveLength(1);
    expect(mock.commandCalls(GetQueueAttributesCommand)).toHaveLength(1);
    expect(source.queueUrl).toBe(QUEUE_URL);
  });
});
