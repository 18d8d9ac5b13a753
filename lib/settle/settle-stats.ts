/**
 * The counters the settle path updates in place. The readable's `SqsReadableStats` has these
 * fields and more; settle names only what it writes, so it does not depend on the receive side.
 */
export interface SettleStats {
  /** Messages deleted (ack confirmed by SQS). */
  acked: number;
  /** Messages made visible again: `nack()` and releases on destroy. */
  released: number;
  /** DeleteMessageBatch requests sent. */
  deleteRequests: number;
  /** ChangeMessageVisibilityBatch requests sent (heartbeats, nacks, releases). */
  visibilityRequests: number;
  /** Transient errors retried, on any request. */
  errorsRetried: number;
  /** Messages received and not yet settled (buffered or being processed). */
  held: number;
  /** Acks (deletes) that failed: SQS refused them, or they were not confirmed in time. */
  ackFailed: number;
  /** Nacks and releases that failed; those messages come back after their visibility timeout. */
  releaseFailed: number;
}
