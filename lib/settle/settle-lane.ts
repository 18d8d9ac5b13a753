import { MAX_BATCH_ENTRIES, type Entry, type Lane, type Operation } from './settle-entry.js';
import type { SqsMessage } from './message.js';

/** An empty lane, its window closed; `sendAll` sends what waits in it when its window ends. */
export function newLane(operation: Operation, sendAll: () => void): Lane {
  return { operation, pending: [], timer: undefined, opening: undefined, sendAll };
}

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

/**
 * Opens the lane's batch window, unless one is open: the lane's `sendAll` runs `windowMs` from
 * now. Its timer is armed only once the event loop turns with entries still waiting. A burst (a
 * receive's messages through a pipeline) fills its batch within one turn, and a timer set and
 * cleared within it would still wake the idle process when it was due: Node leaves libuv's timer
 * armed (measured at 20 ms RTT: 965 `epoll_pwait`s per 1,500 messages, 680 after, the raw loop
 * 672).
 */
export function openWindow(lane: Lane, windowMs: number): void {
  if (lane.timer !== undefined || lane.opening !== undefined) return;
  const openedAt = Date.now();
  lane.opening = setImmediate(() => {
    lane.opening = undefined;
    if (lane.pending.length === 0) return;
    // Not unref'd: a caller awaits these entries, and the wait is short.
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        lane.sendAll();
      },
      Math.max(0, openedAt + windowMs - Date.now()),
    );
  });
}

/** Ends the lane's batch window, if one is open: nothing is sent when it would have ended. */
export function closeWindow(lane: Lane): void {
  if (lane.opening !== undefined) clearImmediate(lane.opening);
  lane.opening = undefined;
  if (lane.timer !== undefined) clearTimeout(lane.timer);
  lane.timer = undefined;
}
