import { errorCode } from './errors.js';

/**
 * Which errors are worth another attempt, per operation (DESIGN.md invariants 5 and 12).
 * Transient: throttling, 5xx, network failures, our own attempt deadline, `OverLimit` on a
 * receive, a signature error the SDK has just corrected its clock for, and expired credentials
 * (the SDK refreshes them on the next attempt) for a few attempts in a row. Everything else
 * (queue missing, access denied, invalid parameter, a disabled KMS key) is permanent.
 */

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
  // Time: our own deadline, the server's, and a clock the SDK corrects on the next attempt
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
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

/** Credentials that expired: the SDK's provider chain refreshes them on the next attempt. */
const EXPIRED_CREDENTIAL_CODES = new Set(['ExpiredToken', 'ExpiredTokenException']);

/** Signature errors, which a clock skew the SDK has just corrected explains. */
const SIGNATURE_CODES = new Set(['SignatureDoesNotMatch', 'InvalidSignatureException']);

/** Only a receive may meet the in-flight limit, and only waiting helps: retry it. */
const OVER_LIMIT_CODES = new Set(['OverLimit', 'AWS.SimpleQueueService.OverLimit']);

/**
 * How many attempts in a row may fail on expired credentials before the error is permanent: the
 * SDK refreshes expired credentials before its next attempt, so five in a row (a few seconds of
 * backoff, room for a slow credential endpoint) mean nothing is refreshing them: a static session
 * token, a stopped credential process, an expired SSO session.
 */
export const EXPIRED_CREDENTIAL_ATTEMPTS = 5;

type ErrorShape = {
  name?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown; clockSkewCorrected?: unknown };
  cause?: unknown;
};

/**
 * Whether an error is worth retrying on any operation: throttling, 5xx, network failures and
 * timeouts. Operation-specific cases are in {@link classify}.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  if (e.name === 'AbortError') return false;
  const code = errorCode(error);
  // Expired credentials count as transient here; `classify` bounds how long they may last.
  if (code !== undefined && EXPIRED_CREDENTIAL_CODES.has(code)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  // The SDK wraps socket errors; the code is on the cause.
  if (e.cause !== undefined && e.cause !== error) return isTransientError(e.cause);
  return false;
}

/** Whether the error says the credentials expired. */
export function isExpiredCredentials(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && EXPIRED_CREDENTIAL_CODES.has(code);
}

/** What the request loop does with an attempt's error. */
export type Verdict = 'retry' | 'fail';

/**
 * The verdict on an attempt's error for `operation`. `expiredInARow` counts the attempts in a
 * row (this one included) that failed on expired credentials.
 */
export function classify(error: unknown, operation: string, expiredInARow: number): Verdict {
  const code = errorCode(error);
  if (code !== undefined) {
    if (OVER_LIMIT_CODES.has(code)) return operation === 'ReceiveMessage' ? 'retry' : 'fail';
    if (EXPIRED_CREDENTIAL_CODES.has(code)) {
      return expiredInARow < EXPIRED_CREDENTIAL_ATTEMPTS ? 'retry' : 'fail';
    }
    if (SIGNATURE_CODES.has(code)) {
      // The SDK sets this when the server's clock disagreed and it adjusted its offset: the next
      // attempt is signed with the corrected time.
      const corrected = (error as ErrorShape).$metadata?.clockSkewCorrected === true;
      return corrected ? 'retry' : 'fail';
    }
  }
  return isTransientError(error) ? 'retry' : 'fail';
}
