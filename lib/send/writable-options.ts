import {
  QUEUE_STREAM_KEYS,
  queueStreamOptions,
  type NormalizedQueueStreamOptions,
  type QueueStreamOptions,
} from '../core/queue-stream-options.js';
import { normalizeBackoff } from '../core/retry-options.js';
import { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from '../core/retry.js';
import { SQS_MAX_MESSAGE_BYTES } from './send-input.js';
import { integerOption, signalOption } from '../core/validate.js';

/** Options of {@link SqsWritable}. One of `queueUrl` and `queueName` is required. */
export interface SqsWritableOptions extends QueueStreamOptions {
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

export interface NormalizedWritableOptions extends NormalizedQueueStreamOptions {
  highWaterMark: number;
  batchSize: number;
  maxBatchesInFlight: number;
  maxMessageBytes: number;
  retry: ResolvedRetryOptions;
  signal: AbortSignal | undefined;
}

const KNOWN = new Set<string>([
  ...QUEUE_STREAM_KEYS,
  'highWaterMark',
  'batchSize',
  'maxBatchesInFlight',
  'maxMessageBytes',
  'retry',
  'signal',
]);

/** Copies, checks and fills in the options once, so the stream never re-reads user input. */
export function normalizeWritableOptions(input: unknown): NormalizedWritableOptions {
  const { options, queue } = queueStreamOptions<SqsWritableOptions>('SqsWritable', input, KNOWN);
  const batchSize = integerOption('batchSize', options.batchSize, 1, 10, 10);
  const maxBatchesInFlight = integerOption(
    'maxBatchesInFlight',
    options.maxBatchesInFlight,
    1,
    100,
    4,
  );
  return {
    ...queue,
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
