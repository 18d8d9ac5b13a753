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
