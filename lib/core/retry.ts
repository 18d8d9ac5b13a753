import { DelayFactory } from 'exponential-backoff/dist/delay/delay.factory.js';
import { getSanitizedOptions } from 'exponential-backoff/dist/options.js';
import { errorCode } from './errors.js';

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

/**
 * The delay before retry number `retry` (1 = the first retry), computed by `exponential-backoff`.
 * We take its delay rather than its `backOff()` loop because that loop's sleep cannot be aborted
 * (a stopping stream would keep the process alive for up to `maxDelay`) and does not tell the
 * caller the delay it chose, which the `'retry'` event reports.
 */
export function backoffDelay(options: ResolvedRetryOptions, retry: number): number {
  const sanitized = getSanitizedOptions({
    startingDelay: options.startingDelay,
    maxDelay: options.maxDelay,
    timeMultiple: options.timeMultiple,
    jitter: options.jitter,
    numOfAttempts: Number.isFinite(options.numOfAttempts)
      ? options.numOfAttempts
      : Number.MAX_SAFE_INTEGER,
    delayFirstAttempt: false,
  });
  // The library numbers attempts from 0 and skips the delay before attempt 0.
  const delay = DelayFactory(sanitized, Math.max(1, retry)) as unknown as { jitteredDelay: number };
  return Math.round(delay.jitteredDelay);
}

const TRANSIENT_CODES = new Set([
  // Throttling
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'KmsThrottled',
  'KMS.ThrottlingException',
  // Server side
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'AWS.SimpleQueueService.InternalError',
  'BadGateway',
  // Time and credentials the SDK refreshes on the next attempt
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'RequestTimeTooSkewed',
  // Network
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/**
 * Whether an error is worth retrying: throttling, 5xx, network failures, timeouts and expired
 * credentials. Everything else (missing queue, access denied, invalid parameter) is permanent.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    cause?: unknown;
  };
  if (e.name === 'AbortError') return false;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const code = errorCode(error);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  // The SDK wraps socket errors; the code is on the cause.
  if (e.cause !== undefined && e.cause !== error) return isTransientError(e.cause);
  return false;
}

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
 * Sleeps for `ms`, or until `signal` aborts (then rejects with an AbortError). The timer keeps
 * the process alive: a stream waiting to retry is work in progress, and a process that exited
 * here would leave messages unsent or unacked. Streams abort the signal on destroy, so a
 * pending retry never outlives its stream.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Called before each retry with the error, the retry's number (from 1) and its delay. */
export type OnRetry = (error: unknown, attempt: number, delayMs: number) => void;

/**
 * Runs `fn` until it succeeds, retrying transient errors with exponential backoff. A permanent
 * error, an abort or the last allowed attempt's error is thrown as is.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  options: ResolvedRetryOptions,
  signal: AbortSignal | undefined,
  onRetry?: OnRetry,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted || !isTransientError(error) || attempt >= options.numOfAttempts) {
        throw error;
      }
      const delay = backoffDelay(options, attempt);
      onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
