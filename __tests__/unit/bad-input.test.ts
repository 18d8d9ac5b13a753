/**
 * The bad-input catalog (issue 7): every way a caller can get it wrong, table-driven. Each gets
 * a clear error that names the culprit (the option, the queue, the message) and says what to
 * do; nothing already accepted is lost. The CLI's bad NDJSON is covered by the CLI's own tests.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSServiceException,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import {
  AccessDeniedError,
  BatchEntryError,
  MessageTooLargeError,
  QueueDoesNotExistError,
  SqsAckWritable,
  SqsMessage,
  SqsReadable,
  SqsStreamError,
  SqsWritable,
} from '../../lib/index';
import { BadLineError, parseLine } from '../../lib/cli/send';
import { QUEUE_URL, fakeMessages, mockedSqs, receiveFills } from '../support/mock-sqs';

/** An SDK error as the JSON protocol builds it (awsQueryCompatible adds `Code`). */
function serviceError(
  name: string,
  status: number,
  message: string,
  code = name,
): SQSServiceException {
  return Object.assign(
    new SQSServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status, requestId: 'req-1' },
      message,
    }),
    { Code: code },
  );
}

function queueMissing(): QueueDoesNotExist {
  return Object.assign(
    new QueueDoesNotExist({
      $metadata: { httpStatusCode: 400 },
      message: 'The specified queue does not exist.',
    }),
    { Code: 'AWS.SimpleQueueService.NonExistentQueue' },
  );
}

function firstError(stream: NodeJS.EventEmitter & { resume?: () => void }): Promise<Error> {
  return once(stream, 'error').then(([error]) => error as Error);
}

// ---------------------------------------------------------------------------------------------
// Options: constructing the stream throws at once, naming the option and what it accepts.
// ---------------------------------------------------------------------------------------------

type OptionCase = [
  label: string,
  options: unknown,
  error: typeof TypeError | typeof RangeError,
  message: RegExp,
];

const url = { queueUrl: QUEUE_URL };

const readableCases: OptionCase[] = [
  ['no options', undefined, TypeError, /`queueUrl` or `queueName`/],
  ['options not an object', 'https://x/q', TypeError, /Expected `options` to be an object/],
  ['neither queueUrl nor queueName', {}, TypeError, /`queueUrl` or `queueName`, got neither/],
  [
    'both queueUrl and queueName',
    { queueUrl: QUEUE_URL, queueName: 'q' },
    TypeError,
    /only one of `queueUrl` and `queueName`/,
  ],
  [
    'malformed queueUrl',
    { queueUrl: 'not a url' },
    TypeError,
    /`queueUrl` to be a queue URL like https:\/\/sqs\./,
  ],
  [
    'queueUrl with another protocol',
    { queueUrl: 'ftp://sqs.example.com/1/q' },
    TypeError,
    /`queueUrl` to be a queue URL/,
  ],
  [
    'queueUrl without a queue name',
    { queueUrl: 'https://sqs.us-east-1.amazonaws.com/' },
    TypeError,
    /`queueUrl` to be a queue URL/,
  ],
  ['empty queueUrl', { queueUrl: '' }, TypeError, /`queueUrl` to be a non-empty string/],
  [
    'queueName with a space',
    { queueName: 'my queue' },
    TypeError,
    /`queueName` to be a queue name of 1 to 80 letters/,
  ],
  [
    'queueName too long',
    { queueName: 'q'.repeat(81) },
    TypeError,
    /`queueName` to be a queue name/,
  ],
  ['client without send()', { ...url, client: {} }, TypeError, /`client` to be an SQSClient/],
  ['client not an object', { ...url, client: 'sqs' }, TypeError, /`client` to be an object/],
  [
    'clientConfig not an object',
    { ...url, clientConfig: 5 },
    TypeError,
    /`clientConfig` to be an object/,
  ],
  [
    'highWaterMark 0',
    { ...url, highWaterMark: 0 },
    RangeError,
    /`highWaterMark` to be an integer from 1/,
  ],
  [
    'highWaterMark a string',
    { ...url, highWaterMark: '10' },
    TypeError,
    /`highWaterMark` to be an integer/,
  ],
  [
    'highWaterMark fractional',
    { ...url, highWaterMark: 1.5 },
    RangeError,
    /`highWaterMark`.*got `1.5`/,
  ],
  [
    'batchSize 11',
    { ...url, batchSize: 11 },
    RangeError,
    /`batchSize` to be an integer from 1 to 10, got `11`/,
  ],
  [
    'batchSize 0',
    { ...url, batchSize: 0 },
    RangeError,
    /`batchSize` to be an integer from 1 to 10/,
  ],
  [
    'concurrency 0',
    { ...url, concurrency: 0 },
    RangeError,
    /`concurrency` to be an integer from 1/,
  ],
  ['concurrency NaN', { ...url, concurrency: NaN }, TypeError, /`concurrency`/],
  [
    'waitTimeSeconds 21',
    { ...url, waitTimeSeconds: 21 },
    RangeError,
    /`waitTimeSeconds` to be an integer from 0 to 20/,
  ],
  ['waitTimeSeconds negative', { ...url, waitTimeSeconds: -1 }, RangeError, /`waitTimeSeconds`/],
  [
    'visibilityTimeout over 12 h',
    { ...url, visibilityTimeout: 43_201 },
    RangeError,
    /`visibilityTimeout` to be an integer from 0 to 43200/,
  ],
  [
    'attributeNames a string',
    { ...url, attributeNames: 'All' },
    TypeError,
    /`attributeNames` to be an array of non-empty strings/,
  ],
  [
    'messageAttributeNames with an empty name',
    { ...url, messageAttributeNames: [''] },
    TypeError,
    /`messageAttributeNames`/,
  ],
  ['heartbeat a string', { ...url, heartbeat: 'yes' }, TypeError, /`heartbeat` to be a boolean/],
  ['maxHoldSeconds 0', { ...url, maxHoldSeconds: 0 }, RangeError, /`maxHoldSeconds`/],
  ['ackBatchWindowMs negative', { ...url, ackBatchWindowMs: -1 }, RangeError, /`ackBatchWindowMs`/],
  [
    'maxMessages 0',
    { ...url, maxMessages: 0 },
    RangeError,
    /`maxMessages` to be an integer from 1 or more|`maxMessages` to be an integer 1 or more/,
  ],
  ['idleTimeoutMs 0', { ...url, idleTimeoutMs: 0 }, RangeError, /`idleTimeoutMs`/],
  ['retry not an object', { ...url, retry: 3 }, TypeError, /`retry` to be an object/],
  [
    'retry.startingDelay negative',
    { ...url, retry: { startingDelay: -1 } },
    RangeError,
    /`retry.startingDelay`/,
  ],
  [
    'retry.maxDelay below startingDelay',
    { ...url, retry: { startingDelay: 500, maxDelay: 100 } },
    RangeError,
    /`retry.maxDelay` to be at least `retry.startingDelay`/,
  ],
  [
    'retry.numOfAttempts 0',
    { ...url, retry: { numOfAttempts: 0 } },
    RangeError,
    /`retry.numOfAttempts`/,
  ],
  [
    'retry.jitter unknown',
    { ...url, retry: { jitter: 'half' } },
    TypeError,
    /`retry.jitter` to be 'full' or 'none'/,
  ],
  [
    'emptyBackoff.timeMultiple below 1',
    { ...url, emptyBackoff: { timeMultiple: 0.5 } },
    RangeError,
    /`emptyBackoff.timeMultiple`/,
  ],
  ['signal not an AbortSignal', { ...url, signal: {} }, TypeError, /`signal` to be an AbortSignal/],
  [
    'a misspelt option',
    { ...url, batchsize: 5 },
    TypeError,
    /Unknown option `batchsize` for SqsReadable/,
  ],
];

const writableCases: OptionCase[] = [
  ['no options', undefined, TypeError, /`queueUrl` or `queueName`/],
  ['neither queueUrl nor queueName', {}, TypeError, /`queueUrl` or `queueName`, got neither/],
  ['malformed queueUrl', { queueUrl: 'sqs://q' }, TypeError, /`queueUrl` to be a queue URL/],
  ['queueName with a slash', { queueName: 'a/b' }, TypeError, /`queueName` to be a queue name/],
  [
    'client without send()',
    { ...url, client: { region: 'x' } },
    TypeError,
    /`client` to be an SQSClient/,
  ],
  [
    'batchSize 11',
    { ...url, batchSize: 11 },
    RangeError,
    /`batchSize` to be an integer from 1 to 10, got `11`/,
  ],
  ['maxBatchesInFlight 0', { ...url, maxBatchesInFlight: 0 }, RangeError, /`maxBatchesInFlight`/],
  [
    'maxMessageBytes over the SQS limit',
    { ...url, maxMessageBytes: 2 * 1_048_576 },
    RangeError,
    /`maxMessageBytes` to be an integer from 1 to 1048576/,
  ],
  ['highWaterMark 0', { ...url, highWaterMark: 0 }, RangeError, /`highWaterMark`/],
  [
    'retry.maxDelay not a number',
    { ...url, retry: { maxDelay: '1s' } },
    TypeError,
    /`retry.maxDelay` to be a number/,
  ],
  [
    'signal not an AbortSignal',
    { ...url, signal: new AbortController() },
    TypeError,
    /`signal` to be an AbortSignal/,
  ],
  [
    'a misspelt option',
    { ...url, batchsize: 5 },
    TypeError,
    /Unknown option `batchsize` for SqsWritable/,
  ],
];

const ackWritableCases: OptionCase[] = [
  ['options not an object', 'fast', TypeError, /`options` to be an object/],
  [
    'highWaterMark 0',
    { highWaterMark: 0 },
    RangeError,
    /`highWaterMark` to be an integer .*got `0`/,
  ],
  [
    'highWaterMark a string',
    { highWaterMark: '32' },
    TypeError,
    /`highWaterMark` to be an integer/,
  ],
  [
    'a misspelt option',
    { highWatermark: 5 },
    TypeError,
    /Unknown option `highWatermark` for SqsAckWritable/,
  ],
];

describe('bad options', () => {
  const make = {
    SqsReadable: (o: unknown) => new SqsReadable(o as never),
    SqsWritable: (o: unknown) => new SqsWritable(o as never),
    SqsAckWritable: (o: unknown) => new SqsAckWritable(o as never),
  };
  const table: Array<[string, ...OptionCase]> = [
    ...readableCases.map((c): [string, ...OptionCase] => ['SqsReadable', ...c]),
    ...writableCases.map((c): [string, ...OptionCase] => ['SqsWritable', ...c]),
    ...ackWritableCases.map((c): [string, ...OptionCase] => ['SqsAckWritable', ...c]),
  ];

  it.each(table)(
    '%s: %s throws %p naming the option',
    (stream, _label, options, errorClass, message) => {
      let thrown: unknown;
      try {
        make[stream as keyof typeof make](options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(errorClass);
      expect((thrown as Error).message).toMatch(message);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Queues that do not exist, credentials that do not work: a typed error naming queue and
// operation, saying what to do, the SDK error as `cause`.
// ---------------------------------------------------------------------------------------------

describe('a missing queue', () => {
  it('SqsReadable by URL: QueueDoesNotExistError naming the URL, the operation, and what to check', async () => {
    const { client, mock } = mockedSqs();
    mock.on(GetQueueAttributesCommand).rejects(queueMissing());
    mock.on(ReceiveMessageCommand).rejects(queueMissing());
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client });
    source.resume();
    const error = (await firstError(source)) as QueueDoesNotExistError;
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error.queue).toBe(QUEUE_URL);
    expect(['GetQueueAttributes', 'ReceiveMessage']).toContain(error.operation);
    expect(error.message).toContain(QUEUE_URL);
    expect(error.message).toMatch(/Check the queue URL or name, the region and the account/);
    expect(error.cause).toBeInstanceOf(QueueDoesNotExist);
  });

  it('SqsReadable by name: QueueDoesNotExistError naming the name, before any receive', async () => {
    const { client, mock } = mockedSqs();
    mock.on(GetQueueUrlCommand).rejects(queueMissing());
    const source = new SqsReadable({ queueName: 'no-such-queue', client });
    source.resume();
    const error = (await firstError(source)) as QueueDoesNotExistError;
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error.operation).toBe('GetQueueUrl');
    expect(error.message).toContain('`no-such-queue`');
    expect(error.message).toMatch(/create the queue first/);
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('SqsWritable by name: the writes fail with QueueDoesNotExistError, nothing is sent', async () => {
    const { client, mock } = mockedSqs();
    mock.on(GetQueueUrlCommand).rejects(queueMissing());
    const sink = new SqsWritable({ queueName: 'no-such-queue', client });
    const results: Array<Error | null | undefined> = [];
    sink.write('a', (e) => results.push(e));
    const error = (await firstError(sink)) as QueueDoesNotExistError;
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error.message).toContain('`no-such-queue`');
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('SqsWritable by URL: the failed writes carry QueueDoesNotExistError', async () => {
    const { client, mock } = mockedSqs();
    mock.on(SendMessageBatchCommand).rejects(queueMissing());
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const results: Array<Error | null | undefined> = [];
    sink.write('a', (e) => results.push(e));
    sink.write('b', (e) => results.push(e));
    const error = await firstError(sink);
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect(error.message).toContain(QUEUE_URL);
    await new Promise((resolve) => setImmediate(resolve));
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) expect(result).toBeInstanceOf(QueueDoesNotExistError);
  });
});

describe('bad credentials', () => {
  // What SQS (JSON protocol) and the SDK's credential chain answer when the keys are wrong.
  const cases: Array<[string, () => Error]> = [
    [
      'an unknown access key (InvalidClientTokenId)',
      () =>
        serviceError(
          'InvalidClientTokenId',
          403,
          'The security token included in the request is invalid.',
        ),
    ],
    [
      'an unknown access key (UnrecognizedClientException)',
      () =>
        serviceError(
          'UnrecognizedClientException',
          400,
          'The security token included in the request is invalid.',
        ),
    ],
    [
      'a wrong secret key (InvalidSignatureException)',
      () =>
        serviceError(
          'InvalidSignatureException',
          403,
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        ),
    ],
    [
      'a missing permission (AccessDenied)',
      () =>
        serviceError(
          'AccessDenied',
          403,
          `User: arn:aws:iam::123456789012:user/x is not authorized to perform: sqs:receivemessage`,
          'AccessDenied',
        ),
    ],
    [
      'no credentials at all (CredentialsProviderError)',
      () =>
        Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        }),
    ],
  ];

  it.each(cases)(
    'SqsReadable: %s is an AccessDeniedError saying to check the credentials, not retried',
    async (_label, make) => {
      const { client, mock } = mockedSqs();
      mock.on(ReceiveMessageCommand).rejects(make());
      const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
      source.resume();
      const error = (await firstError(source)) as AccessDeniedError;
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect(error.operation).toBe('ReceiveMessage');
      expect(error.message).toContain(QUEUE_URL);
      expect(error.message).toMatch(
        /Check the credentials and that their IAM policy allows sqs:ReceiveMessage/,
      );
      expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    },
  );

  it.each(cases)('SqsWritable: %s is an AccessDeniedError, not retried', async (_label, make) => {
    const { client, mock } = mockedSqs();
    mock.on(SendMessageBatchCommand).rejects(make());
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    sink.write('a');
    const error = (await firstError(sink)) as AccessDeniedError;
    expect(error).toBeInstanceOf(AccessDeniedError);
    // IAM has no sqs:SendMessageBatch action: SendMessageBatch needs sqs:SendMessage.
    expect(error.message).toMatch(/allows sqs:SendMessage\b(?!Batch)/);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('credentials going bad mid-stream: the messages already received are released, not lost', async () => {
    const { client, mock } = mockedSqs();
    const batch = fakeMessages(10);
    mock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: batch })
      .rejects(
        serviceError(
          'InvalidClientTokenId',
          403,
          'The security token included in the request is invalid.',
        ),
      );
    // A small buffer read slowly: the second receive fails while the first batch is buffered.
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      highWaterMark: 20,
    });
    const failed = firstError(source);
    const closed = new Promise((resolve) => source.once('close', resolve));
    source.read(0); // demand, without consuming
    const error = await failed;
    expect(error).toBeInstanceOf(AccessDeniedError);
    await closed;
    const released = mock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(released.map((e) => e.ReceiptHandle).sort()).toEqual(
      batch.map((m) => m.ReceiptHandle).sort(),
    );
    expect(released.every((e) => e.VisibilityTimeout === 0)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad messages: an oversize send, a non-message written to the ack sink, a settle too late.
// ---------------------------------------------------------------------------------------------

function acceptingSends() {
  const { client, mock } = mockedSqs();
  mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
    Failed: [],
  }));
  return { client, mock };
}

describe('an oversize message', () => {
  it('fails with MessageTooLargeError naming the message and its size, before any request for it; earlier writes are sent', async () => {
    const { client, mock } = acceptingSends();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const results: Array<Error | null | undefined> = [];
    const big = 'x'.repeat(1_048_577);
    sink.write('first', (e) => results.push(e));
    sink.write('second', (e) => results.push(e));
    sink.write(big, (e) => results.push(e));
    const error = (await firstError(sink)) as MessageTooLargeError;
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error.message).toMatch(/#2/);
    expect(error.size).toBe(1_048_577);
    expect(error.limit).toBe(1_048_576);
    expect(error.message).not.toContain('xxxxxxxxxx');
    await new Promise((resolve) => setImmediate(resolve));
    const bodies = mock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => e.MessageBody));
    expect(bodies).toEqual(['first', 'second']);
    expect(results.slice(0, 2)).toEqual([null, null]);
  });

  it('respects a lower maxMessageBytes (a queue with a smaller MaximumMessageSize)', async () => {
    const { client, mock } = acceptingSends();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, maxMessageBytes: 262_144 });
    sink.write({ body: 'y'.repeat(262_145) });
    const error = (await firstError(sink)) as MessageTooLargeError;
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error.message).toMatch(/262144|262,144|maxMessageBytes/);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('a write to SqsWritable that is not a message', () => {
  it.each<[string, unknown, RegExp]>([
    ['a number', 42, /message #0 to be a string or an object with a `body`/],
    ['an object without body', { Body: 'x' }, /an object without `body`/],
    ['an empty body', '', /non-empty/],
    ['a FIFO message without groupId', { body: 'x' }, /groupId/],
  ])('%s: a TypeError naming message #0 and the field', async (label, chunk, message) => {
    const { client, mock } = acceptingSends();
    const queueUrl = label.includes('FIFO') ? `${QUEUE_URL}.fifo` : QUEUE_URL;
    const sink = new SqsWritable({ queueUrl, client });
    sink.write(chunk as string);
    const error = await firstError(sink);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

/** `count` real SqsMessages from a mocked SqsReadable (so they have a tracker that can ack). */
async function receivedMessages(count: number) {
  const sqs = mockedSqs();
  receiveFills(sqs.mock);
  const source = new SqsReadable({
    queueUrl: QUEUE_URL,
    client: sqs.client,
    heartbeat: false,
    maxMessages: count,
  });
  const messages: SqsMessage[] = [];
  for await (const message of source) messages.push(message as SqsMessage);
  return { ...sqs, messages };
}

describe('SqsAckWritable given something that is not an SqsMessage', () => {
  it.each<[string, unknown, RegExp]>([
    ['a string (a body)', 'hello', /got a string/],
    [
      'a plain object (a copy of a message)',
      { messageId: 'm-1', receiptHandle: 'rh' },
      /got a plain object/,
    ],
    ['an SDK Message', { MessageId: 'm', ReceiptHandle: 'r', Body: 'b' }, /got a plain object/],
    ['null-ish number', 0, /got a number/],
  ])(
    '%s: a TypeError saying to write the message itself; the valid messages are still acked',
    async (_label, chunk, message) => {
      const { mock, messages } = await receivedMessages(2);
      const sink = new SqsAckWritable();
      const error = await pipeline(Readable.from([messages[0], chunk, messages[1]]), sink).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect(error?.message).toMatch(/SqsAckWritable expects SqsMessage objects/);
      expect(error?.message).toMatch(message);
      expect(error?.message).toMatch(/Write the message itself/);
      // The message written before the bad chunk was acked.
      await messages[0]!.ack();
      const deleted = mock
        .commandCalls(DeleteMessageBatchCommand)
        .flatMap((c) => c.args[0].input.Entries ?? []);
      expect(deleted.map((e) => e.ReceiptHandle)).toContain(messages[0]!.receiptHandle);
    },
  );
});

describe('a settle after the message expired', () => {
  it('ack(): BatchEntryError naming the message, saying it will be redelivered and how to avoid it; no receipt handle in the text', async () => {
    const { mock, messages } = await receivedMessages(1);
    const message = messages[0]!;
    mock
      .on(DeleteMessageBatchCommand)
      .callsFake((input: { Entries?: Array<{ Id?: string; ReceiptHandle?: string }> }) => ({
        Successful: [],
        Failed: (input.Entries ?? []).map((e) => ({
          Id: e.Id,
          Code: 'ReceiptHandleIsInvalid',
          SenderFault: true,
          Message: `The input receipt handle "${e.ReceiptHandle}" is not a valid receipt handle.`,
        })),
      }));
    const error = (await message.ack().then(
      () => undefined,
      (e: unknown) => e,
    )) as BatchEntryError;
    expect(error).toBeInstanceOf(BatchEntryError);
    expect(error.messageId).toBe(message.messageId);
    expect(error.code).toBe('ReceiptHandleIsInvalid');
    expect(error.message).toContain(message.messageId);
    expect(error.message).toMatch(/visibility timeout/);
    expect(error.message).toMatch(/heartbeat|extend\(\)/);
    expect(error.message).not.toContain(message.receiptHandle);
    expect(JSON.stringify(error.cause)).not.toContain(message.receiptHandle);
    // A second settle is the same outcome, not a second request.
    const calls = mock.commandCalls(DeleteMessageBatchCommand).length;
    await expect(message.ack()).rejects.toBe(error);
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(calls);
  });

  it('nack(): MessageNotInflight is a BatchEntryError saying the message is already visible again', async () => {
    const { mock, messages } = await receivedMessages(1);
    const message = messages[0]!;
    mock
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake((input: { Entries?: Array<{ Id?: string }> }) => ({
        Successful: [],
        Failed: (input.Entries ?? []).map((e) => ({
          Id: e.Id,
          Code: 'MessageNotInflight',
          SenderFault: true,
          Message: 'Message does not exist or is not available for visibility timeout change.',
        })),
      }));
    const error = (await message.nack().then(
      () => undefined,
      (e: unknown) => e,
    )) as BatchEntryError;
    expect(error).toBeInstanceOf(BatchEntryError);
    expect(error.message).toContain(message.messageId);
    expect(error.message).toMatch(/no longer in flight/);
    expect(error.message).toMatch(/delivered again/);
  });

  it('through SqsAckWritable: the pipeline fails with that error, the other messages are acked', async () => {
    const { mock, messages } = await receivedMessages(3);
    const expired = messages[1]!;
    mock
      .on(DeleteMessageBatchCommand)
      .callsFake((input: { Entries?: Array<{ Id?: string; ReceiptHandle?: string }> }) => {
        const entries = input.Entries ?? [];
        return {
          Successful: entries
            .filter((e) => e.ReceiptHandle !== expired.receiptHandle)
            .map((e) => ({ Id: e.Id })),
          Failed: entries
            .filter((e) => e.ReceiptHandle === expired.receiptHandle)
            .map((e) => ({
              Id: e.Id,
              Code: 'ReceiptHandleIsInvalid',
              SenderFault: true,
              Message: 'invalid',
            })),
        };
      });
    const error = await pipeline(Readable.from(messages), new SqsAckWritable()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(BatchEntryError);
    expect(error).toBeInstanceOf(SqsStreamError);
    expect(error?.message).toContain(expired.messageId);
    expect(messages.filter((m) => m !== expired).map((m) => m.state)).toEqual(['acked', 'acked']);
    await expect(messages[0]!.ack()).resolves.toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Bad NDJSON to `sqs-streams send`: each line is parsed on its own; a bad one is a BadLineError
// saying what a line must be, without quoting the line (it may be a secret body). The CLI's
// integration tests check the rest: the line number, and that every line before it was sent.
// ---------------------------------------------------------------------------------------------

describe('bad NDJSON lines for the CLI', () => {
  it.each<[string, string, RegExp]>([
    ['not JSON', 'SECRET-BODY this is not json', /not valid JSON.*use --raw/],
    ['truncated JSON', '{"body":"SECRET-BODY', /not valid JSON/],
    ['a number', '42', /expected a JSON object with a `body`/],
    ['an array', '["SECRET-BODY"]', /expected a JSON object with a `body`/],
    ['null', 'null', /expected a JSON object with a `body`/],
    ['no body', '{"Body":"SECRET-BODY"}', /unknown key `Body`/],
    ['a body of null', '{"body":null}', /has no `body`/],
  ])('%s: a BadLineError saying what a line must be, not quoting it', (_label, line, message) => {
    let thrown: unknown;
    try {
      parseLine(line, false);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadLineError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('SECRET-BODY');
  });
});
