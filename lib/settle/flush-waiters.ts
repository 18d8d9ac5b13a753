import type { Entry } from './settle-entry.js';

/**
 * The `flush()` calls of a settle batcher waiting for their entries: each resolves once every
 * entry it was given is done. A promise per flush, not per entry.
 */
export class FlushWaiters {
  #flushes: Array<{ waiting: Set<Entry>; resolve: () => void }> = [];

  /** Resolves once every one of `entries` is done (at once when there are none). */
  wait(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#flushes.push({ waiting: new Set(entries), resolve }));
  }

  /** `entry` is done: resolves each flush whose last entry it was. */
  done(entry: Entry): void {
    if (this.#flushes.length === 0) return;
    this.#flushes = this.#flushes.filter((flush) => {
      flush.waiting.delete(entry);
      if (flush.waiting.size > 0) return true;
      flush.resolve();
      return false;
    });
  }
}
