import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsStreamError } from '../core/errors.js';
import type { RequestPolicy } from '../core/request-loop.js';
import type { OnRetry } from '../core/retry.js';
import type { SqsMessage } from './message.js';
import type { SettleStats } from './settle-stats.js';

/** What a {@link MessageTracker} is built with: one per stream. */
export interface TrackerOptions {
  client: SQSClient;
  queueUrl: string;
  /** Updated in place: acked, released, deleteRequests, visibilityRequests, errorsRetried, held. */
  stats: SettleStats;
  policy: RequestPolicy;
  /** Flush when 10 entries wait or this long (ms) after the first one started waiting. */
  ackBatchWindowMs: number;
  /** Extend the visibility of held messages before it runs out. */
  heartbeat: boolean;
  /** Seconds: what each heartbeat extension sets, and a fresh message's first deadline. */
  visibilityTimeout: number;
  /** Stop extending a message this long after its receipt (SQS's cap is 12 hours). */
  maxHoldSeconds: number;
  onAck?: ((message: SqsMessage) => void) | undefined;
  /** A nack, or a release on destroy. */
  onRelease?: ((message: SqsMessage) => void) | undefined;
  onRetry?: OnRetry | undefined;
  /** Where a throwing `onRetry` goes. */
  onListenerError?: ((error: unknown) => void) | undefined;
  /** A heartbeat extension failed for a message still held; never fatal. */
  onHeartbeatError?: ((error: SqsStreamError) => void) | undefined;
}
