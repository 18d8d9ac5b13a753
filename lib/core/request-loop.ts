import { classify, isExpiredCredentials, type Verdict } from './classify.js';
import { backoffDelay } from './backoff.js';
import { debug } from './debug.js';
import { rethrowLater } from './notify.js';
import { giveBackController, takeController } from './attempt-controllers.js';
import { linkAbort, unlinkAbort, type AbortLink } from './abort-links.js';
import { isTraced, traceKindOf, traced, type RequestTraceContext } from './diagnostics.js';
import {
  abortError,
  isAbortError,
  sleep,
  type OnRetry,
  type ResolvedRetryOptions,
} from './retry.js';

/**
 * The one retry loop every request of the library goes through (GetQueueUrl, GetQueueAttributes,
 * ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch, SendMessageBatch, and the S3
 * calls of large payloads): attempts with a deadline each, classified errors, exponential backoff
 * with jitter between them, and a tracing channel around each attempt (DESIGN.md invariants 5,
 * 10 and 12).
 */

/** How long one attempt may take, and how to retry. */
export interface RequestPolicy {
  retry: ResolvedRetryOptions;
  /** The longest one attempt may take beyond its long-poll wait, in ms. */
  requestTimeoutMs: number;
}

/** An attempt that got part of its work done: retry the rest, reporting `error`. */
export class Again {
  constructor(readonly error: unknown) {}
}

/** What an attempt is given. */
export interface Attempt {
  /** Pass as `abortSignal` to `client.send`: the caller's abort, and this attempt's deadline. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly number: number;
  /** The tracing context of this attempt, when a subscriber listens (set `messageCount`). */
  readonly trace: RequestTraceContext | undefined;
}

export interface RequestSpec<T> {
  /** The SQS (or S3) action: decides the classification and the tracing channel. */
  operation: string;
  /** The queue URL (or name), for tracing and debug output. */
  queueUrl: string;
  policy: RequestPolicy;
  /** Aborts the attempt in flight and the backoff sleep (the stream was destroyed). */
  signal?: AbortSignal | undefined;
  /** The long-poll wait of each attempt, in ms, on top of which the deadline runs. */
  waitMs?: number;
  /** Messages each attempt carries, for tracing. */
  messageCount?: number;
  /** One attempt; resolve with an {@link Again} to retry what is left. */
  attempt: (attempt: Attempt) => Promise<T | Again>;
  /** Called before each retry. A listener that throws is reported through `onListenerError`. */
  onRetry?: OnRetry | undefined;
  /** Where a throwing `onRetry` goes; it never changes the request's outcome. */
  onListenerError?: ((error: unknown) => void) | undefined;
  /** Whether a backoff sleep keeps the process alive. @default true */
  keepAlive?: boolean;
  /** Aborts only the backoff sleep (an AbortError then ends the loop); attempts in flight go on. */
  sleepSignal?: AbortSignal | undefined;
}

/** Thrown when an attempt ran past its deadline; transient, so the loop retries it. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * Runs the attempts until one succeeds. Throws the error of a permanent failure, of the last
 * allowed attempt, or an AbortError when `signal` (or, during a backoff sleep, `sleepSignal`)
 * aborted.
 */
export async function runRequest<T>(spec: RequestSpec<T>): Promise<T> {
  const { policy, signal } = spec;
  let expiredInARow = 0;
  for (let number = 1; ; number++) {
    if (signal?.aborted) throw abortError(signal);
    let error: unknown;
    let verdict: Verdict;
    try {
      const outcome = await attemptOnce(spec, number);
      if (!(outcome instanceof Again)) return outcome;
      error = outcome.error;
      verdict = 'retry';
      expiredInARow = 0;
    } catch (thrown) {
      if (signal?.aborted || isAbortError(thrown)) throw thrown;
      error = thrown;
      expiredInARow = isExpiredCredentials(thrown) ? expiredInARow + 1 : 0;
      verdict = classify(thrown, spec.operation, expiredInARow);
    }
    if (verdict === 'fail' || number >= policy.retry.numOfAttempts) throw error;
    const delay = backoffDelay(policy.retry, number);
    debug('%s: retry %d in %d ms (%s)', spec.operation, number, delay, nameOf(error));
    if (spec.onRetry !== undefined) {
      try {
        spec.onRetry(error, number, delay);
      } catch (listenerError) {
        reportListenerError(spec, listenerError);
      }
    }
    await sleep(delay, [signal, spec.sleepSignal], spec.keepAlive ?? true);
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function reportListenerError(spec: RequestSpec<unknown>, error: unknown): void {
  if (spec.onListenerError !== undefined) spec.onListenerError(error);
  else rethrowLater(error);
}

/**
 * One attempt under its deadline: `waitMs + requestTimeoutMs` from now, combined with the
 * caller's signal. An attempt the deadline cut off is a {@link TimeoutError}, whatever the SDK
 * made of the abort; one the caller's signal cut off stays an AbortError.
 */
async function attemptOnce<T>(spec: RequestSpec<T>, number: number): Promise<T | Again> {
  const controller = takeController();
  const parent = spec.signal;
  const limitMs = (spec.waitMs ?? 0) + spec.policy.requestTimeoutMs;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new TimeoutError(`${spec.operation} took longer than ${limitMs} ms`));
  }, limitMs);
  // Once the caller aborted, the deadline has nothing left to do: cleared now, not when the
  // attempt settles, which a client that ignores its signal never does (the timer would hold
  // the process open for the whole deadline).
  const link: AbortLink = {
    slot: -1,
    onAbort: (reason) => {
      clearTimeout(timer);
      controller.abort(reason);
    },
  };
  if (parent !== undefined) linkAbort(parent, link);
  const kind = traceKindOf(spec.operation);
  const trace: RequestTraceContext | undefined = isTraced(kind)
    ? { queueUrl: spec.queueUrl, operation: spec.operation, messageCount: spec.messageCount ?? 0 }
    : undefined;
  const attempt: Attempt = { signal: controller.signal, number, trace };
  try {
    if (trace === undefined || kind === undefined) return await spec.attempt(attempt);
    return await traced(kind, trace, () => spec.attempt(attempt));
  } catch (error) {
    if (timedOut && !parent?.aborted) {
      throw new TimeoutError(
        `${spec.operation} on queue \`${spec.queueUrl}\` got no answer within ${limitMs} ms ` +
          `(requestTimeoutMs ${spec.policy.requestTimeoutMs}); retrying`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (parent !== undefined) unlinkAbort(parent, link);
    giveBackController(controller);
  }
}
