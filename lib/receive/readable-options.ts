import {
  QUEUE_STREAM_KEYS,
  queueStreamOptions,
  type NormalizedQueueStreamOptions,
  type QueueStreamOptions,
} from '../core/queue-stream-options.js';
import {
  DEFAULT_EMPTY_BACKOFF,
  normalizeBackoff,
  type EmptyBackoffOptions,
} from '../core/retry-options.js';
import { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from '../core/retry.js';
import {
  booleanOption,
  integerOption,
  numberOption,
  signalOption,
  stringArrayOption,
} from '../core/validate.js';

/** Options of {@link SqsReadable}. One of `queueUrl` and `queueName` is required. */
export interface SqsReadableOptions extends QueueStreamOptions {
  /**
   * Most messages held in the stream's buffer (received, not yet read). Receives are sized so
   * the buffer never goes above it.
   * @default batchSize * (concurrency + 1): a full batch per receive slot can be in flight while
   * another full batch is being read
   */
  highWaterMark?: number;
  /**
   * Most messages asked for by one ReceiveMessage (SQS allows 1 to 10).
   * @default 10
   */
  batchSize?: number;
  /**
   * Most ReceiveMessage requests in flight at once.
   * @default 1
   */
  concurrency?: number;
  /**
   * Long-poll wait of each receive, in seconds (0 to 20). 0 is short polling, with
   * `emptyBackoff` between empty receives.
   * @default 20
   */
  waitTimeSeconds?: number;
  /**
   * Visibility timeout asked for on each receive, in seconds (0 to 43200); also the length of
   * each heartbeat extension.
   * @default the queue's own (read with GetQueueAttributes when the heartbeat needs it)
   */
  visibilityTimeout?: number;
  /**
   * System attributes to receive (`ApproximateReceiveCount` is needed for `receiveCount`).
   * @default ['All']
   */
  attributeNames?: string[];
  /**
   * Message attributes to receive.
   * @default ['All']
   */
  messageAttributeNames?: string[];
  /**
   * Extend the visibility of held (received, unsettled) messages before it runs out.
   * @default true
   */
  heartbeat?: boolean;
  /**
   * Stop extending a message after it has been held this long, in seconds (SQS caps a
   * message's total invisibility at 12 hours from its receipt).
   * @default 43200
   */
  maxHoldSeconds?: number;
  /**
   * How long an ack, nack or extension waits for company before its batch is sent, in
   * milliseconds. A batch of 10 is sent at once.
   * @default 20
   */
  ackBatchWindowMs?: number;
  /**
   * End the stream after this many messages have been received.
   * @default Infinity
   */
  maxMessages?: number;
  /**
   * End the stream once the queue has been empty this long, in milliseconds (drain mode).
   * @default undefined: never
   */
  idleTimeoutMs?: number;
  /**
   * Retry of transient errors (throttling, 5xx, network, timeouts) on every request.
   * @default `{ startingDelay: 100, maxDelay: 20000, timeMultiple: 2, numOfAttempts: Infinity, jitter: 'full' }`
   */
  retry?: RetryOptions;
  /**
   * Backoff between empty receives when short polling (or when a long poll returns early).
   * @default `{ startingDelay: 200, maxDelay: 20000, timeMultiple: 2, jitter: 'full' }`
   */
  emptyBackoff?: EmptyBackoffOptions;
  /** Aborting it destroys the stream (Node's convention), releasing held messages. */
  signal?: AbortSignal;
}

export interface NormalizedReadableOptions extends NormalizedQueueStreamOptions {
  highWaterMark: number;
  batchSize: number;
  concurrency: number;
  waitTimeSeconds: number;
  visibilityTimeout: number | undefined;
  attributeNames: string[];
  messageAttributeNames: string[];
  heartbeat: boolean;
  maxHoldSeconds: number;
  ackBatchWindowMs: number;
  maxMessages: number;
  idleTimeoutMs: number | undefined;
  retry: ResolvedRetryOptions;
  emptyBackoff: ResolvedRetryOptions;
  signal: AbortSignal | undefined;
}

const KNOWN = new Set<string>([
  ...QUEUE_STREAM_KEYS,
  'highWaterMark',
  'batchSize',
  'concurrency',
  'waitTimeSeconds',
  'visibilityTimeout',
  'attributeNames',
  'messageAttributeNames',
  'heartbeat',
  'maxHoldSeconds',
  'ackBatchWindowMs',
  'maxMessages',
  'idleTimeoutMs',
  'retry',
  'emptyBackoff',
  'signal',
]);

/** Copies, checks and fills in the options once, so the stream never re-reads user input. */
export function normalizeReadableOptions(input: unknown): NormalizedReadableOptions {
  const { options, queue } = queueStreamOptions<SqsReadableOptions>('SqsReadable', input, KNOWN);
  const batchSize = integerOption('batchSize', options.batchSize, 1, 10, 10);
  const concurrency = integerOption('concurrency', options.concurrency, 1, 100, 1);
  return {
    ...queue,
    highWaterMark: integerOption(
      'highWaterMark',
      options.highWaterMark,
      1,
      10_000,
      batchSize * (concurrency + 1),
    ),
    batchSize,
    concurrency,
    waitTimeSeconds: integerOption('waitTimeSeconds', options.waitTimeSeconds, 0, 20, 20),
    visibilityTimeout:
      options.visibilityTimeout === undefined
        ? undefined
        : integerOption('visibilityTimeout', options.visibilityTimeout, 0, 43_200, 0),
    attributeNames: stringArrayOption('attributeNames', options.attributeNames, ['All']),
    messageAttributeNames: stringArrayOption(
      'messageAttributeNames',
      options.messageAttributeNames,
      ['All'],
    ),
    heartbeat: booleanOption('heartbeat', options.heartbeat, true),
    maxHoldSeconds: integerOption('maxHoldSeconds', options.maxHoldSeconds, 1, 43_200, 43_200),
    ackBatchWindowMs: numberOption('ackBatchWindowMs', options.ackBatchWindowMs, 0, 60_000, 20),
    maxMessages: integerOption('maxMessages', options.maxMessages, 1, Infinity, Infinity),
    idleTimeoutMs:
      options.idleTimeoutMs === undefined
        ? undefined
        : numberOption('idleTimeoutMs', options.idleTimeoutMs, 1, 86_400_000, 0),
    retry: normalizeBackoff('retry', options.retry, DEFAULT_RETRY, true),
    emptyBackoff: normalizeBackoff(
      'emptyBackoff',
      options.emptyBackoff,
      DEFAULT_EMPTY_BACKOFF,
      false,
    ),
    signal: signalOption('signal', options.signal),
  };
}

export type { EmptyBackoffOptions };
