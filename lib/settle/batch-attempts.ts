import {
  abortError,
  entryError,
  exhaustedError,
  isReceiptHandleProblem,
  quietWhenGone,
  scrub,
} from './settle-errors.js';
import type { Entry, EntryOutcome, Job, Lane } from './settle-entry.js';
import { sendBatchRequest, type RequestContext, type RequestOptions } from './batch-request.js';
import { debug } from '../core/debug.js';
import { toStreamError, type SqsStreamError } from '../core/errors.js';
import {
  backoffDelay,
  isAbortError,
  isTransientError,
  type OnRetry,
  type ResolvedRetryOptions,
} from '../core/retry.js';
import type { SettleStats } from './settle-stats.js';

export interface BatchOptions extends RequestOptions {
  /** `deleteRequests`, `visibilityRequests` (each attempt counts) and `errorsRetried` are updated. */
  stats: Pick<SettleStats, 'deleteRequests' | 'visibilityRequests' | 'errorsRetried'>;
  retry: ResolvedRetryOptions;
  /** Called before each retry: a whole-request transient error, or entries that failed transiently. */
  onRetry?: OnRetry | undefined;
}

/** What a batch needs from the acknowledger that owns its entries. */
export interface BatchContext extends RequestContext {
  readonly options: BatchOptions;
  /** Whether an entry no longer needs sending; if so it is dropped. */
  stale(entry: Entry): boolean;
  /** Settles an entry (at most once) with its outcome or its error. */
  finish(entry: Entry, outcome: EntryOutcome | SqsStreamError): void;
}

/**
 * Carries one batch of entries through its attempts: sends a request, settles each entry SQS
 * answered for good, and retries the transient failures (of the whole request or of single
 * entries) with backoff until they succeed or `retry.numOfAttempts` is used up. Entries that no
 * longer matter are dropped between attempts; an abort ends the batch at once.
 */
export async function runBatch(context: BatchContext, lane: Lane, entries: Entry[]): Promise<void> {
  const { options, signal } = context;
  const job: Job = { round: entries, wake: undefined };
  for (const entry of entries) {
    entry.job = job;
    entry.state = 'sending';
  }
  const { retry, queueUrl } = options;
  for (let attempt = 1; ; attempt++) {
    const round = job.round.filter((entry) => !context.stale(entry));
    job.round = round;
    if (round.length === 0 || signal.aborted) return;
    const sentAt = Date.now();
    for (const entry of round) {
      entry.state = 'sending';
      entry.sentAt = sentAt;
    }

    let again: Entry[];
    let retryError: unknown;
    const entryErrors = new Map<Entry, unknown>();
    try {
      const failed = await sendBatchRequest(context, lane.operation, round);
      again = [];
      for (const [entry, failure] of failed) {
        if (entry.state === 'done') continue;
        const code = failure.Code;
        const said = scrub(failure.Message ?? '', [entry]);
        if (isReceiptHandleProblem(code, said)) {
          if (quietWhenGone(entry)) {
            debug(
              '%s: message %s %s (%s); nothing to do',
              lane.operation,
              entry.message.messageId,
              entry.kind === 'release' ? 'needs no release' : 'was settled meanwhile',
              code,
            );
            context.finish(entry, { status: 'gone', sentAt });
          } else {
            context.finish(entry, entryError(entry, queueUrl, failure, ''));
          }
        } else if (failure.SenderFault === false || isTransientError({ name: code })) {
          again.push(entry);
          retryError = entryError(entry, queueUrl, failure, ' (transient)');
          entryErrors.set(entry, retryError);
        } else {
          context.finish(entry, entryError(entry, queueUrl, failure, ''));
        }
      }
    } catch (error) {
      if (signal.aborted || isAbortError(error)) {
        for (const entry of round) context.finish(entry, abortError(entry, queueUrl));
        return;
      }
      if (!isTransientError(error)) {
        const handles = round.map((entry) => entry.message.receiptHandle);
        const streamError = toStreamError(error, lane.operation, queueUrl, handles);
        debug('%s failed for %d entries: %s', lane.operation, round.length, streamError.code);
        for (const entry of round) context.finish(entry, streamError);
        return;
      }
      again = round.filter((entry) => entry.state !== 'done');
      retryError = error;
    }

    if (again.length === 0) return;
    if (attempt >= retry.numOfAttempts) {
      for (const entry of again) {
        const error = entryErrors.get(entry) ?? retryError;
        context.finish(entry, exhaustedError(entry, queueUrl, error, attempt));
      }
      return;
    }
    const delay = backoffDelay(retry, attempt);
    options.stats.errorsRetried++;
    debug(
      '%s: retrying %d entries in %d ms (attempt %d)',
      lane.operation,
      again.length,
      delay,
      attempt,
    );
    try {
      options.onRetry?.(retryError, attempt, delay);
    } catch (error) {
      // A throwing 'retry' listener is the listener's bug: surface it as EventEmitter would.
      process.nextTick(() => {
        throw error;
      });
    }
    job.round = again;
    for (const entry of again) entry.state = 'waiting';
    // A heartbeat retry alone must not keep the process alive; an ack someone awaits does.
    await pause(
      job,
      delay,
      again.some((entry) => entry.kind !== 'heartbeat'),
      signal,
    );
  }
}

/** Waits out a backoff; `job.wake()` or an abort ends the wait early. */
function pause(job: Job, ms: number, keepAlive: boolean, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      job.wake = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (!keepAlive) timer.unref();
    signal.addEventListener('abort', done, { once: true });
    job.wake = done;
  });
}
