import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RequestPolicy } from '../core/request-loop.js';
import type { OnRetry } from '../core/retry.js';
import type { PayloadResolver } from '../payloads/index.js';
import type { MessageTracker, SqsMessage } from '../settle/index.js';
import type { SqsReadableStats } from './readable-stats.js';

/** What the receive loop works with: the stream it fills, and the queue it receives from. */

/** What the loop needs of the stream it fills. */
export interface ReceiveHost {
  readonly readableLength: number;
  readonly destroyed: boolean;
  readonly stats: SqsReadableStats;
  push(message: SqsMessage | null): boolean;
  destroy(error: Error): this;
}

/** Emits an event of the stream; a listener that throws must not break the loop. */
export type SafeEmit = (event: string, ...args: unknown[]) => void;

export interface ReceiveContext {
  client: SQSClient;
  queueUrl: string;
  /** The queue as the user named it, for error messages. */
  queue: string;
  tracker: MessageTracker;
  policy: RequestPolicy;
  /** Aborted on destroy: every receive in flight and every backoff sleep listens to it. */
  lifetime: AbortSignal;
  onRetry: OnRetry;
  onListenerError: (error: unknown) => void;
  /** With `largePayloads`: reads the payloads of a receive before it counts as done. */
  payloads?: PayloadResolver | undefined;
}
