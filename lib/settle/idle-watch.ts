/**
 * Tells when a tracker is idle: nothing is held, nothing waits, retries or is in flight, and no
 * settle is under way. A settle counts because, between forgetting a message and enqueueing its
 * request, nothing is held and nothing waits, yet the tracker is not done.
 */
export class IdleWatch {
  /** Whether nothing is held and nothing waits, retries or is in flight. */
  readonly #quiet: () => boolean;
  #waiters: Array<() => void> = [];
  #inSettle = 0;

  constructor(quiet: () => boolean) {
    this.#quiet = quiet;
  }

  get idle(): boolean {
    return this.#inSettle === 0 && this.#quiet();
  }

  /** Runs a settle; while it runs, the tracker does not count as idle. */
  settling<T>(settle: () => T): T {
    this.enter();
    try {
      return settle();
    } finally {
      this.leave();
    }
  }

  /** A settle starts (as {@link settling}, without a closure per message). */
  enter(): void {
    this.#inSettle++;
  }

  /** The settle {@link enter} began has enqueued its request. */
  leave(): void {
    this.#inSettle--;
    this.check();
  }

  /** Resolves once idle. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves the waiters if idle now; call whenever the tracker may have become idle. */
  check(): void {
    if (this.#waiters.length === 0 || !this.idle) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
