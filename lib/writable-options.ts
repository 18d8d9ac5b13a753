import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { normalizeBackoff } from './backoff-options.js';
import { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from './retry.js';
import { SQS_MAX_MESSAGE_BYTES } from './send-input.js';
import { integerOption, objectOption, signalOption, queueStreamOptions } from './validate.js';

/** Options of {@link SqsWritable}. One of `queueUrl` and `queueName` is required. */
export interface SqsWritableOptions {
  /** The queue URL, as CreateQueue or GetQueueUrl returned it. */
  queueUrl?: string;
  /** The queue's name, resolved to its URL once with GetQueueUrl before the first send. */
  queueName?: string;
  /**
   * The SDK client to use. A client passed in is never destroyed by the stream.
   * @default a new SQSClient from `clientConfig`, destroyed with the stream
   */
  client?: SQSClient;
  /**
   * Config for the client the stream builds when `client` is not given.
   * @default `{}`: the SDK's default credential and region chains, region falling back to us-east-1
   */
  clientConfig?: SQSClientConfig;
  /**
   * Messages the stream holds (written, not yet accepted by SQS, in flight included) before
   * `write()` returns `false`.
   * @default 2 * batchSize * maxBatchesInFlight (80): one `_writev` then keeps every in-flight
   * slot busy with full batches, a new batch starting as soon as one is accepted
   */
  highWaterMark?: number;
  /**
   * Most messages per SendMessageBatch (SQS allows 1 to 10).
   * @default 10
   */
  batchSize?: number;
  /**
   * Most SendMessageBatch requests in flight at once.
   * @default 4: about 40 messages per round trip (1,000-4,000 messages/s per stream in a
   * region), at most 4 MiB of request payload in memory, few sockets, and under a FIFO queue's
   * 300 requests/s
   */
  maxBatchesInFlight?: number;
  /**
   * Largest message accepted, in bytes: body plus message attribute names, types and values.
   * A bigger one fails the stream with a MessageTooLargeError before any request is made for it.
   * Set it to a queue's lower `MaximumMessageSize`.
   * @default 1048576 (1 MiB, SQS's limit since 2025)
   */
  maxMessageBytes?: number;
  /**
   * Retry of transient errors (throttling, 5xx, network, timeouts) and of entries SQS failed for
   * now. The same options as SqsReadable's.
   * @default `{ startingDelay: 100, maxDelay: 20000, timeMultiple: 2, numOfAttempts: Infinity, jitter: 'full' }`
   */
  retry?: RetryOptions;
  /** Aborting it destroys the stream (Node's convention), aborting requests in flight. */
  signal?: AbortSignal;
}

export interface NormalizedWritableOptions {
  queueUrl: string | undefined;
  queueName: string | undefined;
  client: SQSClient | undefined;
  clientConfig: SQSClientConfig | undefined;
  highWaterMark: number;
  batchSize: number;
  maxBatchesInFlight: number;
  maxMessageBytes: number;
  retry: ResolvedRetryOptions;
  signal: AbortSignal | undefined;
}

const KNOWN = new Set<string>([
  'queueUrl',
  'queueName',
  'client',
  'clientConfig',
  'highWaterMark',
  'batchSize',
  'maxBatchesInFlight',
  'maxMessageBytes',
  'retry',
  'signal',
]);

/** Copies, checks and fills in the options once, so the stream never re-reads user input. */
export function normalizeWritableOptions(input: unknown): NormalizedWritableOptions {
  const { options, queueUrl, queueName } = queueStreamOptions<SqsWritableOptions>(
    'SqsWritable',
    input,
    KNOWN,
  );
  const batchSize = integerOption('batchSize', options.batchSize, 1, 10, 10);
  const maxBatchesInFlight = integerOption(
    'maxBatchesInFlight',
    options.maxBatchesInFlight,
    1,
    100,
    4,
  );
  return {
    queueUrl,
    queueName,
    client: objectOption<SQSClient>('client', options.client),
    clientConfig: objectOption<SQSClientConfig>('clientConfig', options.clientConfig),
    highWaterMark: integerOption(
      'highWaterMark',
      options.highWaterMark,
      1,
      10_000,
      2 * batchSize * maxBatchesInFlight,
    ),
    batchSize,
    maxBatchesInFlight,
    maxMessageBytes: integerOption(
      'maxMessageBytes',
      options.maxMessageBytes,
      1,
      SQS_MAX_MESSAGE_BYTES,
      SQS_MAX_MESSAGE_BYTES,
    ),
    retry: normalizeBackoff('retry', options.retry, DEFAULT_RETRY, true),
    signal: signalOption('signal', options.signal),
  };
}
