import { SlotSet, slotField } from './slot-set.js';

/** What one request attempt does if its caller's signal aborts while it runs. */
export interface AbortLink {
  onAbort(reason: unknown): void;
  /** Its place among the links of its signal. */
  slot: number;
}

/** The links of each signal, told by one listener of the signal's own. */
const linksOf = new WeakMap<AbortSignal, SlotSet<AbortLink>>();

/**
 * Calls `link.onAbort(signal.reason)` if `signal` aborts before {@link unlinkAbort}. A stream's
 * signal outlives thousands of attempts: one listener for all of them, where an EventTarget
 * listener added and removed per attempt cost 4.5% of the stream layer's instructions
 * (bench/notes.md). Like a listener, it is not called for a signal that had aborted already.
 */
export function linkAbort(signal: AbortSignal, link: AbortLink): void {
  let links = linksOf.get(signal);
  if (links === undefined) {
    const created = new SlotSet<AbortLink>(slotField);
    linksOf.set(signal, created);
    const abortAll = (): void => {
      for (const each of created) {
        created.delete(each);
        each.onAbort(signal.reason);
      }
    };
    signal.addEventListener('abort', abortAll, { once: true });
    links = created;
  }
  links.add(link);
}

export function unlinkAbort(signal: AbortSignal, link: AbortLink): void {
  linksOf.get(signal)?.delete(link);
}
