import { backoffDelay } from '../core/backoff.js';
import type { ResolvedRetryOptions } from '../core/retry.js';

/**
 * The demand rule of SqsReadable (DESIGN.md invariant 1), as pure functions of the stream's
 * counts, so the rule reads in one place and is testable without a stream.
 */

export interface DemandState {
  highWaterMark: number;
  batchSize: number;
  maxMessages: number;
  /** Messages received so far. */
  received: number;
  /** Received, not yet read by the consumer. */
  buffered: number;
  /** MaxNumberOfMessages summed over the receives in flight. */
  requested: number;
}

/**
 * How many messages the next ReceiveMessage should ask for, or 0 to start none: the unmet
 * demand (`highWaterMark - buffered - requested`, within what is left of `maxMessages`), capped
 * at `batchSize`, and only once it reaches a full batch unless the reader is starving.
 */
export function nextReceiveSize(state: DemandState): number {
  const { highWaterMark, batchSize, maxMessages, received, buffered, requested } = state;
  const left = maxMessages - received;
  const demand = Math.min(highWaterMark - buffered - requested, left - requested, batchSize);
  if (demand <= 0) return 0;
  // A request costs the same for 1 message or 10: keep them full unless the buffer is empty.
  const fullBatch = Math.min(batchSize, highWaterMark, left);
  if (demand < fullBatch && buffered > 0) return 0;
  return demand;
}

/**
 * The long-poll wait of the next receive: the configured one, cut short so that an idle
 * timeout is noticed when the poll returns instead of by aborting it (an aborted poll may
 * leave a message invisible on the server).
 */
export function nextWaitSeconds(
  waitTimeSeconds: number,
  idleTimeoutMs: number | undefined,
  emptySince: number | undefined,
  now: number,
): number {
  if (idleTimeoutMs === undefined) return waitTimeSeconds;
  const idleFor = emptySince === undefined ? 0 : now - emptySince;
  return Math.max(0, Math.min(waitTimeSeconds, Math.ceil((idleTimeoutMs - idleFor) / 1000)));
}

/** What an empty receive leads to: end (idle), go on at once, or pause before the next. */
export type AfterEmpty =
  { end: true } | { end: false; pauseMs: number | undefined; streak: number };

/**
 * After an empty receive (DESIGN.md invariants 3 and 4): end once the queue has been empty for
 * `idleTimeoutMs`; a long poll that waited its time is its own backoff; a short poll, or a long
 * poll that came back early (another consumer won the message that woke it), waits the
 * `emptyBackoff` delay for its place in the streak, never past the idle deadline.
 */
export function afterEmpty(empty: {
  startedAt: number;
  now: number;
  waitSeconds: number;
  emptySince: number;
  /** Empty short polls in a row before this one. */
  streak: number;
  idleTimeoutMs: number | undefined;
  emptyBackoff: ResolvedRetryOptions;
}): AfterEmpty {
  const { startedAt, now, waitSeconds, emptySince, streak, idleTimeoutMs } = empty;
  if (idleTimeoutMs !== undefined && now - emptySince >= idleTimeoutMs) return { end: true };
  if (waitSeconds > 0 && now - startedAt >= (waitSeconds * 1000) / 2) {
    return { end: false, pauseMs: undefined, streak };
  }
  const delay = backoffDelay(empty.emptyBackoff, streak + 1);
  const idleLeft = idleTimeoutMs === undefined ? Infinity : idleTimeoutMs - (now - emptySince);
  return { end: false, pauseMs: Math.max(0, Math.min(delay, idleLeft)), streak: streak + 1 };
}
