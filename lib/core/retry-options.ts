import type { ResolvedRetryOptions, RetryOptions } from './retry.js';
import { integerOption, numberOption, objectOption } from './validate.js';

/** Delays between receives that came back empty, in `exponential-backoff`'s option names. */
export interface EmptyBackoffOptions {
  /**
   * Delay after the first empty receive, in milliseconds.
   * @default 200
   */
  startingDelay?: number;
  /**
   * Largest delay, in milliseconds: an idle queue then costs about as much as long polling.
   * @default 20000
   */
  maxDelay?: number;
  /**
   * Factor the delay grows by after each further empty receive.
   * @default 2
   */
  timeMultiple?: number;
  /**
   * Random spread of each delay, so idle consumers do not poll in step.
   * @default 'full'
   */
  jitter?: 'full' | 'none';
}

export const DEFAULT_EMPTY_BACKOFF: ResolvedRetryOptions = {
  startingDelay: 200,
  maxDelay: 20_000,
  timeMultiple: 2,
  numOfAttempts: Infinity,
  jitter: 'full',
};

function jitterOption(name: string, value: unknown, fallback: 'full' | 'none'): 'full' | 'none' {
  if (value === undefined) return fallback;
  if (value !== 'full' && value !== 'none') {
    throw new TypeError(`Expected \`${name}\` to be 'full' or 'none', got \`${String(value)}\``);
  }
  return value;
}

export function normalizeBackoff(
  name: string,
  value: unknown,
  defaults: ResolvedRetryOptions,
  withAttempts: boolean,
): ResolvedRetryOptions {
  const given = objectOption<RetryOptions>(name, value) ?? {};
  const startingDelay = numberOption(
    `${name}.startingDelay`,
    given.startingDelay,
    0,
    3_600_000,
    defaults.startingDelay,
  );
  const maxDelay = numberOption(
    `${name}.maxDelay`,
    given.maxDelay,
    0,
    3_600_000,
    defaults.maxDelay,
  );
  if (maxDelay < startingDelay) {
    throw new RangeError(
      `Expected \`${name}.maxDelay\` to be at least \`${name}.startingDelay\` (${startingDelay}), got \`${maxDelay}\``,
    );
  }
  return {
    startingDelay,
    maxDelay,
    timeMultiple: numberOption(
      `${name}.timeMultiple`,
      given.timeMultiple,
      1,
      100,
      defaults.timeMultiple,
    ),
    numOfAttempts: withAttempts
      ? integerOption(
          `${name}.numOfAttempts`,
          given.numOfAttempts,
          1,
          Infinity,
          defaults.numOfAttempts,
        )
      : Infinity,
    jitter: jitterOption(`${name}.jitter`, given.jitter, defaults.jitter),
  };
}
