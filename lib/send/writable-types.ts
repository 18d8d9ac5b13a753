import type { PreparedMessage } from './send-input.js';

/** Live counters of an {@link SqsWritable}; read them any time, they are updated in place. */
export interface SqsWritableStats {
  /** Messages SQS accepted. */
  sent: number;
  /** SendMessageBatch requests made (each attempt counts). */
  sendRequests: number;
  /**
   * Retries after transient errors: one per failed request, and one per response in which SQS
   * failed some entries for now (only those entries are sent again).
   */
  errorsRetried: number;
  /** SendMessageBatch requests in flight now. */
  inFlight: number;
  /**
   * Messages written that were not sent: invalid, refused by SQS, or not confirmed within
   * `shutdownTimeoutMs` of `end()`. Each one's write callback got the error.
   */
  failed: number;
}

export type WriteCallback = (error?: Error | null) => void;

/** One write, as it travels through Node's buffer to `_writev`. */
export interface Item {
  index: number;
  /** The checked message, or why the write is invalid (it is then never sent). */
  message: PreparedMessage | undefined;
  invalid: Error | undefined;
  /** `null` once SQS accepted it, an error once it is known not to be sent. */
  result: Error | null | undefined;
  callback: WriteCallback | undefined;
}
