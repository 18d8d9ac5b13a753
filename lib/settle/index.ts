/**
 * The settle path: a received message and everything that settles it (ack, nack, extend,
 * heartbeats, release), batched through one {@link SettleBatcher} per stream. The receive side
 * and the sinks reach it through this entry only.
 */
export { SqsMessage, settlerOf, type MessageSettler, type MessageState } from './message.js';
export { MessageTracker, trackerOf, type TrackerOptions } from './tracker.js';
export { SqsAckWritable, type SqsAckWritableOptions } from './ack-writable.js';
export { MAX_BATCH_ENTRIES } from './settle-entry.js';
export type { SettleStats } from './settle-stats.js';
