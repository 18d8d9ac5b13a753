import type { ResolvedRetryOptions } from './retry.js';

/**
 * The delay before retry number `retry` (1 = the first retry): `exponential-backoff`'s formula
 * (`startingDelay * timeMultiple ** (retry - 1)`, capped at `maxDelay`; with `'full'` jitter a
 * uniform pick between 0 and that, AWS's advice so consumers hit by one outage do not retry in
 * step), under its own option names. We compute it here instead of running its `backOff()` loop
 * because that loop's sleep cannot be aborted (a stopping stream would keep the process alive
 * for up to `maxDelay`) and never tells the caller the delay it chose, which the `'retry'` event
 * reports; its delay classes are not part of its public API.
 */
export function backoffDelay(options: ResolvedRetryOptions, retry: number): number {
  const exponent = Math.max(1, retry) - 1;
  const delay = Math.min(
    options.maxDelay,
    options.startingDelay * options.timeMultiple ** exponent,
  );
  return Math.round(options.jitter === 'full' ? Math.random() * delay : delay);
}
