import { getEventListeners } from 'node:events';

/**
 * The AbortControllers of request attempts, reused. Node 20 makes every new AbortSignal costly:
 * about 2 µs to create, and each one keeps the young objects around it alive into the old
 * generation (2M signals: 4.7 s and 41% of young objects surviving a scavenge, against 0.2 s and
 * 3.5% for as many plain EventTargets). One per attempt was half of the stream layer's CPU on
 * Node 20 (bench/notes.md); Node 22 and 24 do not have the problem.
 *
 * A controller comes back only unaborted, and goes out again only if no listener is left on its
 * signal (the SDK removes its own when the request closes, before the attempt ends; one that still
 * has a listener is dropped). An attempt never shares a signal with anything still listening for
 * an earlier one, so each attempt still has a signal of its own.
 */
const pool: AbortController[] = [];

/** More than any process keeps in flight at once; past it, controllers are left to the GC. */
const MAX_POOLED = 64;

/** A controller for one attempt: unaborted, with no listener on its signal. */
export function takeController(): AbortController {
  for (let controller = pool.pop(); controller !== undefined; controller = pool.pop()) {
    // Someone still listens for an earlier attempt: left to them (the SDK never leaves one).
    if (getEventListeners(controller.signal, 'abort').length === 0) return controller;
  }
  return new AbortController();
}

/** The attempt is over and removed its own listeners; an aborted controller is not reused. */
export function giveBackController(controller: AbortController): void {
  if (!controller.signal.aborted && pool.length < MAX_POOLED) pool.push(controller);
}

/** How many controllers wait to be reused (for tests). */
export function pooledControllers(): number {
  return pool.length;
}
