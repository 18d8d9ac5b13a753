import { MAX_BATCH_ENTRIES, type Entry, type Lane } from './settle-entry.js';
import type { SqsMessage } from './message.js';

/**
 * Takes up to 10 sendable entries off the lane, in order; the rest stay, in order. With `busy`
 * (the visibility lane: per message, its change in flight or retrying), a change is not sendable
 * while another change of the same message is busy or already in this batch, so changes of one
 * message go out in the order they were asked for. With `onlyFull`, takes nothing unless 10 are
 * sendable.
 */
export function takeBatch(
  lane: Lane,
  onlyFull: boolean,
  busy: ReadonlyMap<SqsMessage, Entry> | undefined,
): Entry[] {
  // Most calls come from an enqueue into a lane that is not full yet.
  if (onlyFull && lane.pending.length < MAX_BATCH_ENTRIES) return [];
  const live = lane.pending.filter((entry) => entry.state === 'pending');
  if (onlyFull && live.length < MAX_BATCH_ENTRIES) {
    lane.pending = live;
    return [];
  }
  if (busy === undefined) {
    // Deletes: the first 10 go, whatever their messages.
    const batch = live.splice(0, MAX_BATCH_ENTRIES);
    lane.pending = live;
    return batch;
  }
  const batch: Entry[] = [];
  const rest: Entry[] = [];
  const inBatch = new Set<SqsMessage>();
  for (const entry of live) {
    const sendable = !busy.has(entry.message) && !inBatch.has(entry.message);
    if (batch.length < MAX_BATCH_ENTRIES && sendable) {
      batch.push(entry);
      inBatch.add(entry.message);
    } else {
      rest.push(entry);
    }
  }
  if (onlyFull && batch.length < MAX_BATCH_ENTRIES) {
    lane.pending = live;
    return [];
  }
  lane.pending = rest;
  return batch;
}

/** Ends the lane's batch window, if one is running: nothing is sent when it would have ended. */
export function closeWindow(lane: Lane): void {
  if (lane.timer !== undefined) clearTimeout(lane.timer);
  lane.timer = undefined;
}
