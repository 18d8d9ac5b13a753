import type { SqsMessage } from './message.js';
import { isStandardSchema, type StandardSchemaV1 } from './schema.js';
import { integerOption, show } from '../core/validate.js';

/** What a handler gets besides the message. */
export interface ProcessContext<Data = undefined> {
  /**
   * Aborted when the handler ran past `timeoutMs` (reason: a `TimeoutError`) or the processor was
   * destroyed (reason: an `AbortError`). Pass it on to the work (`fetch(url, { signal })`): the
   * processor does not wait for a handler that ignores it.
   */
  readonly signal: AbortSignal;
  /** The body parsed as JSON and validated by `schema`, its output; `undefined` without one. */
  readonly data: Data;
}

/**
 * Processes one message. Resolve (or return) when done: the message is acked. Reject (or throw):
 * it is nacked with `retryDelaySeconds` and `'failed'` is emitted with the error.
 */
export type ProcessHandler<Data = undefined> = (
  message: SqsMessage,
  context: ProcessContext<Data>,
) => unknown;

/** Seconds before a failed message is visible again: a number, or computed per failure. */
export type RetryDelay = number | ((message: SqsMessage, error: unknown) => number);

/**
 * - `'group'`: messages sharing a `MessageGroupId` run one at a time in receive order, groups in
 *   parallel; messages without a group are unordered.
 * - `'none'`: every message runs as soon as a slot is free.
 * - `'auto'`: `'group'` for a FIFO queue (its URL ends in `.fifo`), else `'none'` (fair queues
 *   included: their groups are about fairness, not order).
 */
export type ProcessOrdering = 'auto' | 'group' | 'none';

export interface SqsProcessorOptions<Data = undefined> {
  /**
   * Handlers running at once (1 to 10000). Messages waiting behind an earlier message of their
   * group do not take a slot; up to `concurrency` of them wait in the processor.
   * @default 10
   */
  concurrency?: number;
  /**
   * Seconds (0 to 43200) before a failed message is visible again, or a function of the message
   * and the error. A function's result is rounded into 0-43200; if it throws or returns no
   * number, the default applies.
   * @default min(2 ** (receiveCount - 1), 900): 1 s, 2 s, 4 s ... at most 15 minutes
   */
  retryDelaySeconds?: RetryDelay;
  /**
   * Milliseconds a handler may run. Past it, its `signal` aborts with a `TimeoutError`, the
   * message fails at once (nacked, `'failed'`), its slot is free, and whatever the handler does
   * later is ignored.
   * @default undefined (no limit; the heartbeat keeps the message invisible)
   */
  timeoutMs?: number;
  /**
   * Which messages may run at the same time.
   * @default 'auto'
   */
  ordering?: ProcessOrdering;
  /**
   * A Standard Schema v1 validator (zod, valibot, arktype, ...). The body is parsed as JSON and
   * validated before the handler, which gets the output as `data`; a body that fails never
   * reaches the handler and fails the message with a {@link SchemaValidationError}.
   * @default undefined (the body is not parsed; `data` is `undefined`)
   */
  schema?: StandardSchemaV1<unknown, Data>;
  /**
   * The longest `destroy()` waits for SQS to confirm the releases of what the processor held, in
   * milliseconds, counted from the call. Past it the processor closes anyway: those messages
   * come back after their visibility timeout (nothing is lost).
   * @default 10000, as the streams' own `shutdownTimeoutMs`
   */
  shutdownTimeoutMs?: number;
}

/** Live counters of an SqsProcessor. */
export interface SqsProcessorStats {
  /** Handlers that succeeded and whose ack SQS confirmed. */
  processed: number;
  /** Messages that failed: the handler rejected or threw, ran past `timeoutMs`, or the body failed `schema`. */
  failed: number;
  /** Messages nacked without running because an earlier message of their group failed. */
  skipped: number;
  /** Handlers running now. */
  readonly active: number;
  /** Messages written and not yet settled by the processor (its write buffer included). */
  readonly held: number;
}

export interface NormalizedProcessorOptions<Data> {
  concurrency: number;
  retryDelaySeconds: (message: SqsMessage, error: unknown) => number;
  timeoutMs: number | undefined;
  ordering: ProcessOrdering;
  schema: StandardSchemaV1<unknown, Data> | undefined;
  shutdownTimeoutMs: number;
}

/**
 * Node's write buffer: one receive's worth, so a receive's messages move into the processor
 * together (and reach `_writev` together) while the rest wait in the source.
 */
export const PROCESSOR_WRITE_BUFFER = 10;
/** Settles (acks, nacks) not yet confirmed before new messages wait: ten full batches at least. */
export const MIN_SETTLING = 100;
/** Live stats: counters, with `active` and `held` read from the processor. */
export function processorStats(active: () => number, held: () => number): SqsProcessorStats {
  const stats = { processed: 0, failed: 0, skipped: 0 };
  return Object.defineProperties(stats, {
    active: { enumerable: true, get: active },
    held: { enumerable: true, get: held },
  }) as SqsProcessorStats;
}

export const DEFAULT_CONCURRENCY = 10;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const MAX_CONCURRENCY = 10_000;
/** SQS's longest visibility timeout, the most a nack can delay. */
const MAX_DELAY_SECONDS = 43_200;
/** The default backoff's cap: 15 minutes. */
const MAX_DEFAULT_DELAY_SECONDS = 900;
/** setTimeout's limit. */
const MAX_TIMEOUT_MS = 2_147_483_647;

const KNOWN = [
  'concurrency',
  'retryDelaySeconds',
  'timeoutMs',
  'ordering',
  'schema',
  'shutdownTimeoutMs',
];
const ORDERINGS: readonly ProcessOrdering[] = ['auto', 'group', 'none'];

/** 1 s for a first delivery, doubling with each one, at most 15 minutes. */
export function defaultRetryDelaySeconds(message: SqsMessage): number {
  return Math.min(2 ** Math.max(0, message.receiveCount - 1), MAX_DEFAULT_DELAY_SECONDS);
}

function retryDelayOption(value: unknown): (message: SqsMessage, error: unknown) => number {
  if (value === undefined) return defaultRetryDelaySeconds;
  if (typeof value === 'function') {
    const compute = value as (message: SqsMessage, error: unknown) => unknown;
    return (message, error) => {
      let seconds: unknown;
      try {
        seconds = compute(message, error);
      } catch {
        return defaultRetryDelaySeconds(message);
      }
      if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
        return defaultRetryDelaySeconds(message);
      }
      return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(seconds)));
    };
  }
  if (typeof value !== 'number') {
    throw new TypeError(
      `Expected \`retryDelaySeconds\` to be an integer from 0 to ${MAX_DELAY_SECONDS} or a function, got ${show(value)}`,
    );
  }
  const seconds = integerOption('retryDelaySeconds', value, 0, MAX_DELAY_SECONDS, 0);
  return () => seconds;
}

export function normalizeProcessorOptions<Data>(
  handler: unknown,
  options: unknown,
): NormalizedProcessorOptions<Data> {
  if (typeof handler !== 'function') {
    throw new TypeError(
      `Expected \`handler\` to be a function (message, { signal, data }) => Promise, got ${show(handler)}`,
    );
  }
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new TypeError(
        `Unknown option \`${key}\` for SqsProcessor; the options are ${KNOWN.map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
  const given = options as SqsProcessorOptions<Data>;
  const ordering = given.ordering ?? 'auto';
  if (!ORDERINGS.includes(ordering)) {
    throw new TypeError(
      `Expected \`ordering\` to be one of 'auto', 'group', 'none', got ${show(given.ordering)}`,
    );
  }
  const schema: unknown = given.schema;
  if (schema !== undefined && !isStandardSchema(schema)) {
    throw new TypeError(
      `Expected \`schema\` to be a Standard Schema (a zod, valibot or arktype schema: an object with \`~standard.validate\`), got ${show(schema)}`,
    );
  }
  const timeoutMs =
    given.timeoutMs === undefined
      ? undefined
      : integerOption('timeoutMs', given.timeoutMs, 1, MAX_TIMEOUT_MS, 0);
  return {
    concurrency: integerOption(
      'concurrency',
      given.concurrency,
      1,
      MAX_CONCURRENCY,
      DEFAULT_CONCURRENCY,
    ),
    retryDelaySeconds: retryDelayOption(given.retryDelaySeconds),
    timeoutMs,
    ordering,
    schema: schema as StandardSchemaV1<unknown, Data> | undefined,
    shutdownTimeoutMs: integerOption(
      'shutdownTimeoutMs',
      given.shutdownTimeoutMs,
      0,
      3_600_000,
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
    ),
  };
}
