import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { classify, isTransientError } from '../core/classify.js';
import { debug } from '../core/debug.js';
import { toStreamError, type SqsStreamError } from '../core/errors.js';
import { Again, runRequest, type RequestPolicy, type RequestSpec } from '../core/request-loop.js';
import { isAbortError, type OnRetry } from '../core/retry.js';
import { sendBatchRequest, type RequestContext, type RequestOptions } from './batch-request.js';
import type { Entry, EntryOutcome, Job, Lane } from './settle-entry.js';
import {
  abortError,
  entryError,
  exhaustedError,
  isReceiptHandleProblem,
  quietWhenGone,
  scrub,
} from './settle-errors.js';
import type { SettleStats } from './settle-stats.js';

export interface BatchOptions extends RequestOptions {
  /** `deleteRequests`, `visibilityRequests` (each attempt counts) and `errorsRetried` are updated. */
  stats: Pick<SettleStats, 'deleteRequests' | 'visibilityRequests' | 'errorsRetried'>;
  policy: RequestPolicy;
  /** Called before each retry: a whole-request transient error, or entries that failed transiently. */
  onRetry?: OnRetry | undefined;
  /** Where a throwing `onRetry` goes. */
  onListenerError?: ((error: unknown) => void) | undefined;
}

/** What a batch needs from the batcher that owns its entries. */
export interface BatchContext extends RequestContext {
  readonly options: BatchOptions;
  /** Whether an entry no longer needs sending; if so it is dropped. */
  stale(entry: Entry): boolean;
  /** Settles an entry (at most once) with its outcome or its error. */
  finish(entry: Entry, outcome: EntryOutcome | SqsStreamError): void;
}

/**
 * Carries one batch of entries through its attempts, in the one request loop: each attempt sends
 * the entries still worth sending, settles each entry SQS answered for good, and hands the
 * transient failures (of the whole request or of single entries) back to the loop to retry with
 * backoff until they succeed or `retry.numOfAttempts` is used up. An attempt that gets no answer
 * within `requestTimeoutMs` is retried like any transient failure. Entries that no longer matter
 * are dropped between attempts; when every entry is settled meanwhile (dropped, or given up at
 * shutdown), the backoff wait ends at once.
 */
export async function runBatch(context: BatchContext, lane: Lane, entries: Entry[]): Promise<void> {
  const { options, signal } = context;
  const job: Job = { round: entries, wake: undefined };
  for (const entry of entries) {
    entry.job = job;
    entry.state = 'sending';
  }
  const { queueUrl } = options;
  let attempts = 0;
  try {
    const request: RequestSpec<undefined> = {
      operation: lane.operation,
      queueUrl,
      policy: options.policy,
      signal,
      messageCount: entries.length,
      // A heartbeat retry alone must not keep the process alive; an ack someone awaits does.
      keepAlive: entries.some((entry) => entry.kind !== 'heartbeat'),
      onRetry: (error, attempt, delay) => {
        options.stats.errorsRetried++;
        debug('%s: retrying %d entries in %d ms', lane.operation, job.round.length, delay);
        for (const entry of job.round) entry.state = 'waiting';
        request.sleepSignal ??= wakeSignal(job);
        options.onRetry?.(error, attempt, delay);
      },
      onListenerError: options.onListenerError,
      attempt: async ({ signal: attemptSignal, number, trace }) => {
        attempts = number;
        const round = job.round.filter((entry) => !context.stale(entry));
        job.round = round;
        if (round.length === 0) return undefined;
        if (trace !== undefined) trace.messageCount = round.length;
        const sentAt = Date.now();
        for (const entry of round) {
          entry.state = 'sending';
          entry.sentAt = sentAt;
        }
        const failed = await sendBatchRequest(context, lane.operation, round, attemptSignal);
        const again = settleFailures(context, lane, failed, sentAt, number > 1);
        job.round = again;
        return again.length === 0 ? undefined : new Again((again[0] as Entry).transientError);
      },
    };
    await runRequest(request);
  } catch (error) {
    const round = job.round.filter((entry) => entry.state !== 'done');
    if (round.length === 0) return;
    if (signal.aborted || isAbortError(error)) {
      for (const entry of round) context.finish(entry, abortError(entry, queueUrl));
      return;
    }
    const handles = round.map((entry) => entry.message.receiptHandle);
    const exhausted =
      attempts >= options.policy.retry.numOfAttempts &&
      ((round[0] as Entry).transientError !== undefined ||
        classify(error, lane.operation, 0) === 'retry');
    if (!exhausted) {
      const streamError = toStreamError(error, lane.operation, queueUrl, handles);
      debug('%s failed for %d entries: %s', lane.operation, round.length, streamError.code);
      for (const entry of round) context.finish(entry, streamError);
      return;
    }
    for (const entry of round) {
      const last = entry.transientError ?? error;
      context.finish(entry, exhaustedError(entry, queueUrl, last, attempts));
    }
  }
}

/**
 * Ends the job's backoff waits early once every entry of its round is settled. Made on the first
 * retry: a batch that succeeds at once needs no AbortController.
 */
function wakeSignal(job: Job): AbortSignal {
  const wake = new AbortController();
  job.wake = () => wake.abort();
  if (job.round.every((entry) => entry.state === 'done')) wake.abort();
  return wake.signal;
}

/**
 * Settles the entries SQS failed for good and returns those worth another attempt, recording
 * each one's error. A receipt handle that no longer works ends an entry quietly when it no
 * longer mattered (a release, an extension of a settled message).
 */
function settleFailures(
  context: BatchContext,
  lane: Lane,
  failed: Array<[Entry, BatchResultErrorEntry]>,
  sentAt: number,
  retried: boolean,
): Entry[] {
  const { queueUrl } = context.options;
  const again: Entry[] = [];
  for (const [entry, failure] of failed) {
    if (entry.state === 'done') continue;
    const code = failure.Code;
    const said = scrub(failure.Message ?? '', [entry]);
    if (isReceiptHandleProblem(code, said)) {
      if (retried && (entry.kind === 'nack' || entry.kind === 'release')) {
        // An earlier attempt of this batch got no answer in time, yet SQS applied it: the
        // message was made visible (and may be someone else's now). What was asked is done.
        context.finish(entry, { status: 'confirmed', sentAt });
      } else if (quietWhenGone(entry)) {
        debug(
          '%s: message %s needs nothing more (%s)',
          lane.operation,
          entry.message.messageId,
          code,
        );
        context.finish(entry, { status: 'gone', sentAt });
      } else {
        context.finish(entry, entryError(entry, queueUrl, failure, ''));
      }
    } else if (failure.SenderFault === false || isTransientError({ name: code })) {
      again.push(entry);
      entry.transientError = entryError(entry, queueUrl, failure, ' (transient)');
    } else {
      context.finish(entry, entryError(entry, queueUrl, failure, ''));
    }
  }
  return again;
}
