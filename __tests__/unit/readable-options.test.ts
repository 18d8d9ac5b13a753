import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { QUEUE_URL, mockedSqs } from '../support/mock-sqs.js';

// Every bad option fails at construction, naming the option, what is allowed and what was given.

describe('SqsReadable options', () => {
  const { client, mock } = mockedSqs();
  mock.on(GetQueueUrlCommand).resolves({ QueueUrl: `${QUEUE_URL}.fifo` });
  const base = { queueUrl: QUEUE_URL, client };

  it.each([
    [
      { ...base, batchSize: 11 },
      RangeError,
      'Expected `batchSize` to be an integer from 1 to 10, got `11`',
    ],
    [
      { ...base, batchSize: 0 },
      RangeError,
      'Expected `batchSize` to be an integer from 1 to 10, got `0`',
    ],
    [
      { ...base, batchSize: 2.5 },
      RangeError,
      'Expected `batchSize` to be an integer from 1 to 10, got `2.5`',
    ],
    [
      { ...base, batchSize: '10' },
      TypeError,
      'Expected `batchSize` to be an integer from 1 to 10, got `10`',
    ],
    [
      { ...base, concurrency: 0 },
      RangeError,
      'Expected `concurrency` to be an integer from 1 to 100, got `0`',
    ],
    [
      { ...base, waitTimeSeconds: 21 },
      RangeError,
      'Expected `waitTimeSeconds` to be an integer from 0 to 20, got `21`',
    ],
    [
      { ...base, visibilityTimeout: -1 },
      RangeError,
      'Expected `visibilityTimeout` to be an integer from 0 to 43200, got `-1`',
    ],
    [
      { ...base, highWaterMark: 0 },
      RangeError,
      'Expected `highWaterMark` to be an integer from 1 to 10000, got `0`',
    ],
    [
      { ...base, maxMessages: 0 },
      RangeError,
      'Expected `maxMessages` to be an integer 1 or more, got `0`',
    ],
    [
      { ...base, idleTimeoutMs: 0 },
      RangeError,
      'Expected `idleTimeoutMs` to be a number from 1 to 86400000, got `0`',
    ],
    [{ ...base, heartbeat: 'yes' }, TypeError, 'Expected `heartbeat` to be a boolean, got `yes`'],
    [
      { ...base, attributeNames: 'All' },
      TypeError,
      'Expected `attributeNames` to be an array of non-empty strings',
    ],
    [
      { ...base, retry: { maxDelay: 10, startingDelay: 100 } },
      RangeError,
      'Expected `retry.maxDelay` to be at least `retry.startingDelay` (100), got `10`',
    ],
    [
      { ...base, retry: { jitter: 'some' } },
      TypeError,
      "Expected `retry.jitter` to be 'full' or 'none', got `some`",
    ],
    [
      { ...base, retry: { numOfAttempts: 0 } },
      RangeError,
      'Expected `retry.numOfAttempts` to be an integer 1 or more, got `0`',
    ],
    [
      { ...base, emptyBackoff: { timeMultiple: 0.5 } },
      RangeError,
      'Expected `emptyBackoff.timeMultiple` to be a number from 1 to 100, got `0.5`',
    ],
    [{ ...base, signal: {} }, TypeError, 'Expected `signal` to be an AbortSignal, got a object'],
    [{ ...base, batchsize: 5 }, TypeError, 'Unknown option `batchsize` for SqsReadable'],
    [{ client }, TypeError, 'Expected `queueUrl` or `queueName`, got neither'],
    [
      { ...base, queueName: 'q' },
      TypeError,
      'Expected only one of `queueUrl` and `queueName`, got both',
    ],
    [
      { client, queueUrl: 'not a url' },
      TypeError,
      'Expected `queueUrl` to be a queue URL like https://',
    ],
    [
      { client, queueUrl: 'ftp://x/y' },
      TypeError,
      'Expected `queueUrl` to be a queue URL like https://',
    ],
    [
      { client, queueName: 'bad name!' },
      TypeError,
      'Expected `queueName` to be a queue name of 1 to 80 letters',
    ],
    [{ queueUrl: QUEUE_URL, client: {} }, TypeError, 'Expected `client` to be an SQSClient'],
  ])('rejects %p', (options, type, message) => {
    expect(() => new SqsReadable(options as never)).toThrow(type);
    expect(() => new SqsReadable(options as never)).toThrow(message);
  });

  it('rejects a missing options object', () => {
    expect(() => new SqsReadable(undefined as never)).toThrow(
      'Expected options with `queueUrl` or `queueName`',
    );
  });

  it('defaults highWaterMark to a batch per receive slot plus one being read', () => {
    expect(new SqsReadable(base).readableHighWaterMark).toBe(20);
    expect(new SqsReadable({ ...base, concurrency: 3 }).readableHighWaterMark).toBe(40);
    expect(new SqsReadable({ ...base, batchSize: 5, highWaterMark: 7 }).readableHighWaterMark).toBe(
      7,
    );
  });

  it('accepts FIFO queue names and URLs', () => {
    const byName = new SqsReadable({ client, queueName: 'orders.fifo' });
    const byUrl = new SqsReadable({ client, queueUrl: `${QUEUE_URL}.fifo` });
    byName.destroy();
    byUrl.destroy();
  });
});
