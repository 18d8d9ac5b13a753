import {
  runRequest,
  TimeoutError,
  type Attempt,
  type RequestPolicy,
} from '../../lib/core/request-loop.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';
import { pooledControllers } from '../../lib/core/attempt-controllers.js';

// Attempts reuse AbortControllers (a new AbortSignal is costly on Node 20), yet each attempt
// still has a signal of its own: never one that is aborted, that another attempt in flight uses,
// or that something from an earlier attempt still listens on.

const POLICY: RequestPolicy = {
  retry: { ...DEFAULT_RETRY, jitter: 'none', startingDelay: 10, numOfAttempts: 3 },
  requestTimeoutMs: 1_000,
};

/** Runs one request whose attempts are `attempt`; resolves with the signal of each attempt. */
async function signalsOf(
  attempt: (given: Attempt) => Promise<string>,
  signal?: AbortSignal,
): Promise<AbortSignal[]> {
  const signals: AbortSignal[] = [];
  await runRequest({
    operation: 'DeleteMessageBatch',
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q',
    policy: POLICY,
    signal,
    attempt: (given) => {
      signals.push(given.signal);
      return attempt(given);
    },
  });
  return signals;
}

const answer = (): Promise<string> => Promise.resolve('ok');

afterEach(() => jest.useRealTimers());

describe('attempt signals', () => {
  it('reuse the controller of an attempt that ended cleanly', async () => {
    const [first] = await signalsOf(answer);
    const [second] = await signalsOf(answer);
    expect(second).toBe(first);
    expect(second!.aborted).toBe(false);
  });

  it('never hand out a signal something from an earlier attempt still listens on', async () => {
    const left = jest.fn();
    // A request handler that forgot to remove its listener.
    const [first] = await signalsOf(({ signal }) => {
      signal.addEventListener('abort', left);
      return answer();
    });
    const [second] = await signalsOf(answer);
    expect(second).not.toBe(first);
    first!.removeEventListener('abort', left);
  });

  it('give attempts in flight at once a signal each', async () => {
    const release: Array<() => void> = [];
    const waiting = (): Promise<string> =>
      new Promise((resolve) => release.push(() => resolve('ok')));
    const runs = [signalsOf(waiting), signalsOf(waiting), signalsOf(waiting)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(release).toHaveLength(3);
    for (const done of release) done();
    const signals = (await Promise.all(runs)).flat();
    expect(new Set(signals).size).toBe(3);
    expect(pooledControllers()).toBeGreaterThanOrEqual(3);
  });

  it('never reuse the signal of an attempt cut off by its deadline', async () => {
    jest.useFakeTimers();
    let calls = 0;
    const hangsOnce = ({ signal }: Attempt): Promise<string> => {
      if (++calls > 1) return answer();
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
      );
    };
    const running = signalsOf(hangsOnce);
    await jest.advanceTimersByTimeAsync(POLICY.requestTimeoutMs + 100);
    const [cut, retried] = await running;
    expect(cut!.aborted).toBe(true);
    expect(cut!.reason).toBeInstanceOf(TimeoutError);
    expect(retried).not.toBe(cut);
    expect(retried!.aborted).toBe(false);
    const [next] = await signalsOf(answer);
    expect(next).not.toBe(cut);
    expect(next!.aborted).toBe(false);
  });

  it("abort only the attempt in flight when the caller's signal aborts", async () => {
    const [idle] = await signalsOf(answer);
    const caller = new AbortController();
    let inFlight: AbortSignal | undefined;
    const running = signalsOf(({ signal }) => {
      inFlight = signal;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
      );
    }, caller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    caller.abort(new Error('stream destroyed'));
    await expect(running).rejects.toThrow('stream destroyed');
    expect(inFlight!.aborted).toBe(true);
    // The controller that sat in the pool meanwhile was taken by that attempt or is untouched.
    const [next] = await signalsOf(answer);
    expect(next!.aborted).toBe(false);
    expect(next).not.toBe(inFlight);
    expect(idle === inFlight || !idle!.aborted).toBe(true);
  });
});
