import type { SQSClient } from '@aws-sdk/client-sqs';
import type { MessageTracker } from '../settle/index.js';

/**
 * What SqsReadable's `_destroy` does with its held messages and its client, once no receive is
 * in flight (DESIGN.md invariant 8).
 *
 * - A natural end (`stop()`, `maxMessages`, `idleTimeoutMs`; then Node's autoDestroy) is not a
 *   release: messages already read stay with the consumer and their acks keep working, so a
 *   client the stream built goes only once nothing is held.
 * - Any other destroy releases every received, unsettled message (visibility 0) at once, waits
 *   for the acks already asked for, then stops the heartbeat and destroys a client it built.
 */
export async function closeReadable(
  tracker: MessageTracker | undefined,
  natural: boolean,
  client: SQSClient,
  ownsClient: boolean,
): Promise<void> {
  if (natural && tracker !== undefined) {
    if (ownsClient) {
      void tracker.whenIdle().then(() => {
        tracker.close();
        client.destroy();
      });
    }
    return;
  }
  try {
    if (tracker !== undefined) {
      await tracker.releaseAll();
      await tracker.flush();
    }
  } finally {
    tracker?.close();
    if (ownsClient) client.destroy();
  }
}
