import { toStreamError } from '../../lib/core/errors.js';
import { backoffDelay } from '../../lib/core/backoff.js';
import { isTransientError } from '../../lib/core/classify.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';

// What is retried and what ends a stream (DESIGN.md invariant 5).

const sdk = (name: string, status?: number): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const net = (code: string): Error => Object.assign(new Error(`socket ${code}`), { code });

describe('isTransientError', () => {
  it.each([
    ['throttling', sdk('ThrottlingException', 400)],
    ['RequestThrottled', sdk('RequestThrottled', 400)],
    ['a 500', sdk('InternalError', 500)],
    ['a 503', sdk('ServiceUnavailable', 503)],
    ['an unknown 5xx', sdk('Whatever', 502)],
    ['a 429', sdk('TooMany', 429)],
    ['expired credentials', sdk('ExpiredTokenException', 400)],
    ['a reset connection', net('ECONNRESET')],
    ['a refused connection (a restarting endpoint)', net('ECONNREFUSED')],
    ['a DNS hiccup', net('EAI_AGAIN')],
    ['a socket error wrapped by the SDK', Object.assign(new Error('x'), { cause: net('EPIPE') })],
    ['an SDK-marked retryable error', Object.assign(new Error('x'), { $retryable: {} })],
  ])('retries %s', (_label, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['a missing queue', sdk('QueueDoesNotExist', 400)],
    ['access denied', sdk('AccessDenied', 403)],
    ['a bad signature', sdk('InvalidSignatureException', 403)],
    ['an invalid parameter', sdk('InvalidParameterValue', 400)],
    ['a host that does not exist (a misspelt endpoint)', net('ENOTFOUND')],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' })],
    ['a plain bug', new TypeError('x is not a function')],
  ])('does not retry %s', (_label, error) => {
    expect(isTransientError(error)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles from startingDelay up to maxDelay without jitter', () => {
    const options = { ...DEFAULT_RETRY, jitter: 'none' as const, maxDelay: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(options, n))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('stays between 0 and the exponential value with full jitter', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(DEFAULT_RETRY, 3);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });
});

describe('toStreamError', () => {
  it('says what to do about a host that does not resolve', () => {
    const error = toStreamError(net('ENOTFOUND'), 'ReceiveMessage', 'https://nope.example/1/q');
    expect(error.message).toMatch(/endpoint host does not resolve: check `clientConfig.endpoint`/);
  });

  it('names the IAM action a batch call needs', () => {
    const error = toStreamError(sdk('AccessDenied', 403), 'DeleteMessageBatch', 'q');
    expect(error.message).toContain('sqs:DeleteMessage.');
  });
});
