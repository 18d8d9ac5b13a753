/**
 * Delays between attempts, in `exponential-backoff`'s own option names.
 */
export interface RetryOptions {
  /**
   * Delay before the first retry, in milliseconds.
   * @default 100
   */
  startingDelay?: number;
  /**
   * Largest delay between two attempts, in milliseconds.
   * @default 20000
   */
  maxDelay?: number;
  /**
   * Factor the delay grows by after each failed attempt.
   * @default 2
   */
  timeMultiple?: number;
  /**
   * Attempts in all, the first included. `Infinity` retries a transient error for as long as the
   * stream lives.
   * @default Infinity
   */
  numOfAttempts?: number;
  /**
   * `'full'` picks each delay at random between 0 and the exponential value (AWS's advice, so
   * many consumers hit by one outage do not retry in step); `'none'` uses the value itself.
   * @default 'full'
   */
  jitter?: 'full' | 'none';
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryOptions = {
  startingDelay: 100,
  maxDelay: 20_000,
  timeMultiple: 2,
  numOfAttempts: Infinity,
  jitter: 'full',
};

/** An error shaped like the one `AbortSignal` users expect. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error('The operation was aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}

export function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'AbortError'
  );
}

/**
 * Sleeps for `ms`, or until one of `signals` aborts (then rejects with an AbortError). With
 * `keepAlive` the timer keeps the process alive: a stream waiting to retry is work in progress,
 * and a process that exited here would leave messages unsent or unacked. Streams abort the
 * signal on destroy, so a pending retry never outlives its stream.
 */
export function sleep(
  ms: number,
  signals: ReadonlyArray<AbortSignal | undefined> = [],
  keepAlive = true,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = signals.find((signal) => signal?.aborted);
    if (aborted !== undefined) {
      reject(abortError(aborted));
      return;
    }
    const listeners: Array<[AbortSignal, () => void]> = [];
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const [signal, listener] of listeners) signal.removeEventListener('abort', listener);
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve();
    }, ms);
    if (!keepAlive) timer.unref();
    for (const signal of signals) {
      if (signal === undefined) continue;
      const listener = (): void => {
        cleanup();
        reject(abortError(signal));
      };
      listeners.push([signal, listener]);
      signal.addEventListener('abort', listener, { once: true });
    }
  });
}

/** Called before each retry with the error, the retry's number (from 1) and its delay. */
export type OnRetry = (error: unknown, attempt: number, delayMs: number) => void;
