import type { SQSClient } from '@aws-sdk/client-sqs';
import { settlesWithin } from '../core/deadline.js';
import { debug } from '../core/debug.js';
import type { MessageTracker } from '../settle/index.js';

export interface CloseOptions {
  tracker: MessageTracker | undefined;
  /** A natural end (`stop()`, `maxMessages`, `idleTimeoutMs`; then Node's autoDestroy). */
  natural: boolean;
  client: SQSClient;
  ownsClient: boolean;
  /** When `destroy()` was called (ms since the epoch): the bound counts from it. */
  startedAt: number;
  shutdownTimeoutMs: number;
  /** Receives still settling; the release waits for their messages to be tracked. */
  receives: Iterable<Promise<void>>;
  /** A release that failed or ran out of time: reported, never an error of the destroy. */
  onReleaseError: (error: unknown) => void;
}

/**
 * What SqsReadable's `_destroy` does with its held messages and its client (DESIGN.md
 * invariants 8 and 11).
 *
 * - A natural end is not a release: messages already read stay with the consumer and their acks
 *   keep working, so a client the stream built goes only once nothing is held.
 * - Any other destroy waits for the receives in flight (aborted, so their late messages are
 *   tracked too), releases every received, unsettled message (visibility 0) at once and waits
 *   for the acks already asked for, all within `shutdownTimeoutMs` of the call. Past it, what is
 *   still unconfirmed is aborted (those messages come back after their visibility timeout, so
 *   nothing is lost) and counted in `stats.releaseFailed` / `stats.ackFailed`.
 */
export async function closeReadable(options: CloseOptions): Promise<void> {
  const { tracker, natural, client, ownsClient } = options;
  if (natural && tracker !== undefined) {
    if (ownsClient) {
      void tracker.whenIdle().then(() => {
        tracker.close();
        client.destroy();
      });
    }
    return;
  }
  const left = (): number => options.startedAt + options.shutdownTimeoutMs - Date.now();
  try {
    await settlesWithin(Promise.allSettled(options.receives), left());
    if (tracker === undefined) return;
    const release = tracker.releaseAll().catch(options.onReleaseError);
    const done = release.then(() => tracker.flush());
    if (!(await settlesWithin(done, left()))) {
      debug(
        'destroy: SQS did not confirm the release within %d ms; giving up',
        options.shutdownTimeoutMs,
      );
      tracker.abort();
      await done;
    }
  } finally {
    tracker?.close();
    if (ownsClient) client.destroy();
  }
}
