import type { SqsMessage } from './message.js';
import { trackerOf } from './tracker.js';

function noop(): void {}

/**
 * What `SqsProcessor.destroy()` gives back: every message written to it and not settled is
 * released (visibility 0), sent at once instead of after the batch window. Resolves once those
 * releases and the settles of `settling` (already in flight) are answered (never rejects: a
 * failed release comes back after its visibility timeout).
 */
export function releaseAll(
  written: Iterable<SqsMessage>,
  settling: Iterable<SqsMessage>,
): Promise<unknown> {
  const waits: Array<Promise<unknown>> = [];
  // A settled message's nack() is its first settle's promise, and makes no request.
  for (const message of settling) waits.push(message.nack().catch(noop));
  const trackers = new Set<ReturnType<typeof trackerOf>>();
  for (const message of written) {
    if (message.settled) continue;
    waits.push(message.nack(0).catch(noop));
    trackers.add(trackerOf(message));
  }
  for (const tracker of trackers) tracker?.sendPending();
  return Promise.allSettled(waits);
}
