import {
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import {
  BatchEntryError,
  MessageTooLargeError,
  QueueDoesNotExistError,
  SqsStreamError,
} from '../../lib/core/errors.js';
import { SqsWritable, type SendInput } from '../../lib/send/sqs-writable.js';

// Issue 4, failures: transient request errors and transient entries are retried (only the failed
// entries: nothing SQS accepted is sent twice); a sender-fault entry, an oversize or an invalid
// message errors the stream, naming the message; accepted writes still succeed.

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-send';
const FIFO_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-send.fifo';
const FAKE: Parameters<typeof jest.useFakeTimers>[0] = {
  doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
};

beforeEach(() => jest.useFakeTimers(FAKE));
afterEach(() => jest.useRealTimers());

type Entries = SendMessageBatchRequestEntry[];
type Reply = (
  entries: Entries,
  call: number,
) => { failed?: Record<string, { code: string; senderFault: boolean }> } | Error;

/** A client whose SendMessageBatch answers with `reply` (entries not listed as failed succeed). */
function mockedSqs(reply: Reply = () => ({})) {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const mock = mockClient(client);
  let call = 0;
  mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
    const entries = input.Entries ?? [];
    const answer = reply(entries, call++);
    if (answer instanceof Error) return Promise.reject(answer);
    const failed = answer.failed ?? {};
    return Promise.resolve({
      Successful: entries
        .filter((e) => !(e.MessageBody! in failed))
        .map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
      Failed: entries
        .filter((e) => e.MessageBody! in failed)
        .map((e) => ({
          Id: e.Id,
          Code: failed[e.MessageBody!]!.code,
          SenderFault: failed[e.MessageBody!]!.senderFault,
          Message: 'entry failed',
        })),
    });
  });
  const bodies = (): string[][] =>
    mock
      .commandCalls(SendMessageBatchCommand)
      .map((c) => (c.args[0].input.Entries ?? []).map((e) => e.MessageBody!));
  return { client, mock, bodies };
}

function write(stream: SqsWritable, chunk: unknown): Promise<Error | null> {
  return new Promise((resolve) =>
    stream.write(chunk as SendInput, (error) => resolve(error ?? null)),
  );
}

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

const names = (n: number, prefix = 'm'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('SqsWritable failures', () => {
  it('retries only the entries SQS failed for now, never the accepted ones', async () => {
    const { client, bodies } = mockedSqs((_entries, call) =>
      call === 0
        ? {
            failed: {
              m3: { code: 'InternalError', senderFault: false },
              m7: { code: 'ThrottlingException', senderFault: true },
            },
          }
        : {},
    );
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, retry: { jitter: 'none' } });
    const retries: [unknown, number, number][] = [];
    sink.on('retry', (error: unknown, attempt: number, delay: number) =>
      retries.push([error, attempt, delay]),
    );
    const done = names(10).map((body) => write(sink, body));
    sink.end();
    const ended = finished(sink);
    await jest.advanceTimersByTimeAsync(100);
    await ended;
    expect(await Promise.all(done)).toEqual(new Array(10).fill(null));
    expect(bodies()).toEqual([names(10), ['m3', 'm7']]);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.[0]).toBeInstanceOf(BatchEntryError);
    expect(retries[0]?.slice(1)).toEqual([1, 100]);
    expect(sink.stats).toMatchObject({ sent: 10, sendRequests: 2, errorsRetried: 1 });
  });

  it('retries a transient request error with backoff, then sends', async () => {
    let failures = 3;
    const { client, bodies } = mockedSqs(() =>
      failures-- > 0 ? sdkError('ServiceUnavailable', 503) : {},
    );
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, retry: { jitter: 'none' } });
    const delays: number[] = [];
    sink.on('retry', (_e: unknown, _attempt: number, delay: number) => delays.push(delay));
    const done = names(4).map((body) => write(sink, body));
    sink.end();
    const ended = finished(sink);
    await jest.advanceTimersByTimeAsync(100 + 200 + 400);
    await ended;
    expect(await Promise.all(done)).toEqual([null, null, null, null]);
    expect(delays).toEqual([100, 200, 400]);
    expect(bodies()).toHaveLength(4);
    expect(sink.stats.sent).toBe(4);
  });

  it('a sender-fault entry errors the stream naming it and SQS code; accepted writes succeed', async () => {
    const { client, bodies } = mockedSqs((_entries, call) =>
      call === 0 ? { failed: { m4: { code: 'InvalidParameterValue', senderFault: true } } } : {},
    );
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, maxBatchesInFlight: 1 });
    const errored = once(sink, 'error');
    const done = names(15).map((body) => write(sink, body));
    const [error] = (await errored) as [BatchEntryError];
    expect(error).toBeInstanceOf(BatchEntryError);
    expect(error).toBeInstanceOf(SqsStreamError);
    expect(error.message).toMatch(/message #4\b/);
    expect(error.message).toMatch(/InvalidParameterValue/);
    expect(error).toMatchObject({
      code: 'InvalidParameterValue',
      senderFault: true,
      operation: 'SendMessageBatch',
      queue: QUEUE_URL,
    });
    const results = await Promise.all(done);
    // 0-9 went in one request: all but #4 were accepted and say so; #4 and the unsent rest fail.
    expect(results.slice(0, 4)).toEqual([null, null, null, null]);
    expect(results[4]).toBe(error);
    expect(results.slice(5, 10)).toEqual([null, null, null, null, null]);
    for (const result of results.slice(10)) expect(result).toBeInstanceOf(Error);
    expect(bodies()).toEqual([names(10)]); // no retry, the second batch never sent
    expect(sink.stats.sent).toBe(9);
  });

  it('gives up after retry.numOfAttempts and fails the entries still not accepted', async () => {
    const { client, bodies } = mockedSqs(() => ({
      failed: { m1: { code: 'InternalError', senderFault: false } },
    }));
    const sink = new SqsWritable({
      queueUrl: QUEUE_URL,
      client,
      retry: { jitter: 'none', numOfAttempts: 3 },
    });
    const errored = once(sink, 'error');
    const done = names(3).map((body) => write(sink, body));
    await jest.advanceTimersByTimeAsync(100 + 200);
    const [error] = (await errored) as [BatchEntryError];
    expect(error.message).toMatch(/message #1 after 3 attempts/);
    expect(error.senderFault).toBe(false);
    expect(await Promise.all(done)).toEqual([null, error, null]);
    expect(bodies()).toEqual([names(3), ['m1'], ['m1']]);
  });

  it('a permanent request error destroys the stream with a typed error', async () => {
    const { client } = mockedSqs(() =>
      Object.assign(sdkError('QueueDoesNotExist', 400), {
        Code: 'AWS.SimpleQueueService.NonExistentQueue',
      }),
    );
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const errored = once(sink, 'error');
    const done = write(sink, 'lost');
    const [error] = (await errored) as [QueueDoesNotExistError];
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error).toMatchObject({ operation: 'SendMessageBatch', queue: QUEUE_URL });
    expect(await done).toBe(error);
    expect(sink.stats.sent).toBe(0);
  });

  it('an oversize message errors before any request for it; earlier messages are sent', async () => {
    const { client, bodies } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, maxMessageBytes: 1024 });
    const errored = once(sink, 'error');
    const done = [
      write(sink, 'm0'),
      write(sink, 'm1'),
      write(sink, {
        body: 'x'.repeat(1000),
        messageAttributes: { big: { DataType: 'String', StringValue: 'y'.repeat(30) } },
      }),
      write(sink, 'm3'),
    ];
    const [error] = (await errored) as [MessageTooLargeError];
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error.message).toMatch(/Message #2 is 1039 bytes/);
    expect(error).toMatchObject({ size: 1039, limit: 1024 });
    expect(error.message).not.toContain('xxx');
    expect(await Promise.all(done)).toEqual([null, null, error, error]);
    expect(bodies()).toEqual([['m0', 'm1']]);
  });

  it('the default limit is SQS 1 MiB: 1,048,576 bytes go, one more does not', async () => {
    const { client, bodies } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const errored = once(sink, 'error');
    const ok = write(sink, 'a'.repeat(1_048_576));
    const tooBig = write(sink, 'a'.repeat(1_048_577));
    const [error] = (await errored) as [MessageTooLargeError];
    expect(await ok).toBeNull();
    expect(await tooBig).toBe(error);
    expect(error).toMatchObject({ size: 1_048_577, limit: 1_048_576 });
    expect(bodies()).toHaveLength(1);
  });

  it.each([
    ['a number', 42, /message #0 to be a string or an object with a `body`, got `42`/, TypeError],
    [
      'an object without body',
      { order: 1 },
      /message #0 .*got an object without `body`/,
      TypeError,
    ],
    ['an empty body', '', /`body` of message #0 to be non-empty/, TypeError],
    [
      'an undefined body',
      { body: undefined },
      /`body` of message #0 to be a string or JSON-serialisable/,
      TypeError,
    ],
    [
      'a BigInt body',
      { body: { n: 1n } },
      /`body` of message #0 .*JSON.stringify failed/,
      TypeError,
    ],
    [
      'a bad delaySeconds',
      { body: 'x', delaySeconds: 901 },
      /`delaySeconds` of message #0 to be an integer from 0 to 900, got `901`/,
      RangeError,
    ],
    ['a control character', 'a\u0001b', /message #0 .*found U\+0001/, TypeError],
    [
      'a bad attribute',
      { body: 'x', messageAttributes: { a: { DataType: 'Text', StringValue: 'v' } } },
      /`messageAttributes.a.DataType` of message #0/,
      TypeError,
    ],
    [
      'a deduplicationId on a standard queue',
      { body: 'x', deduplicationId: 'd' },
      /no `deduplicationId` on message #0/,
      TypeError,
    ],
  ])(
    'rejects %s through the callback, naming the message and the field',
    async (_label, chunk, message, type) => {
      const { client, bodies } = mockedSqs();
      const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
      const errored = once(sink, 'error');
      const result = write(sink, chunk);
      const [error] = (await errored) as [Error];
      expect(error).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
      expect(await result).toBe(error);
      expect(bodies()).toEqual([]);
    },
  );

  it('requires groupId on a FIFO queue, with a clear error', async () => {
    const { client, bodies } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: FIFO_URL, client });
    const errored = once(sink, 'error');
    const first = write(sink, { body: 'ok', groupId: 'g' });
    const second = write(sink, 'no group');
    const [error] = (await errored) as [Error];
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(
      /Expected `groupId` on message #1: queue `.*unit-send.fifo` is a FIFO queue/,
    );
    expect(await first).toBeNull();
    expect(await second).toBe(error);
    expect(bodies()).toEqual([['ok']]);
  });

  it('never puts a body into an error message', async () => {
    const { client } = mockedSqs(() => ({
      failed: { 'secret-body': { code: 'InvalidMessageContents', senderFault: true } },
    }));
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const errored = once(sink, 'error');
    void write(sink, 'secret-body');
    const [error] = (await errored) as [Error];
    expect(error.message).not.toContain('secret-body');
    expect(error.message).toMatch(/message #0 .*InvalidMessageContents/);
  });
});
