/** Live counters of a stream; read them any time, they are updated in place. */
export interface SqsReadableStats {
  /** Messages received from SQS. */
  received: number;
  /** Messages deleted (ack confirmed by SQS). */
  acked: number;
  /** Messages made visible again: `nack()` and releases on destroy. */
  released: number;
  /** ReceiveMessage requests sent (each attempt counts). */
  receiveRequests: number;
  /** ReceiveMessage requests that returned no message. */
  emptyReceives: number;
  /** DeleteMessageBatch requests sent. */
  deleteRequests: number;
  /** ChangeMessageVisibilityBatch requests sent (heartbeats, nacks, releases). */
  visibilityRequests: number;
  /** Transient errors retried, on any request. */
  errorsRetried: number;
  /** ReceiveMessage requests in flight now. */
  inFlight: number;
  /** Messages received but not yet read by the consumer. */
  buffered: number;
  /** Messages received and not yet settled (buffered or being processed). */
  held: number;
  /** Acks (deletes) that failed: SQS refused them, or they were not confirmed in time. */
  ackFailed: number;
  /** Nacks and releases that failed; those messages come back after their visibility timeout. */
  releaseFailed: number;
}

export function newStats(): SqsReadableStats {
  return {
    received: 0,
    acked: 0,
    released: 0,
    receiveRequests: 0,
    emptyReceives: 0,
    deleteRequests: 0,
    visibilityRequests: 0,
    errorsRetried: 0,
    inFlight: 0,
    buffered: 0,
    held: 0,
    ackFailed: 0,
    releaseFailed: 0,
  };
}
