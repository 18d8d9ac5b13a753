import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setMaxListeners } from 'node:events';
import { debug } from './debug.js';
import { BatchEntryError, SqsStreamError, toStreamError } from './errors.js';
import type { SqsMessage } from './message.js';
import {
  backoffDelay,
  isAbortError,
  isTransientError,
  type OnRetry,
  type ResolvedRetryOptions,
} from './retry.js';
import type { SqsReadableStats } from './stats.js';

/** SQS's limit on entries per DeleteMessageBatch / ChangeMessageVisibilityBatch. */
export const MAX_BATCH_ENTRIES = 10;

/** Why a visibility change was asked for; decides what a race with a settle means. */
export type VisibilityKind = 'heartbeat' | 'extend' | 'nack' | 'release';
export type EntryKind = 'delete' | VisibilityKind;

type Operation = 'DeleteMessageBatch' | 'ChangeMessageVisibilityBatch';

/**
 * What became of one entry:
 * - `confirmed`: SQS confirmed it; `sentAt` is when the confirming request was sent (an
 *   extension's new deadline is at least `sentAt + seconds`);
 * - `dropped`: never sent or not retried, because it no longer mattered (an extension of a
 *   message settled meanwhile, or a heartbeat after `stopHeartbeats()`);
 * - `gone`: SQS said the receipt handle is no longer valid, and for this entry that is no error
 *   (a release, or an extension of a message settled while the request was in flight).
 */
export interface EntryOutcome {
  status: 'confirmed' | 'dropped' | 'gone';
  sentAt: number;
}

export interface AcknowledgerOptions {
  client: SQSClient;
  queueUrl: string;
  /** `deleteRequests`, `visibilityRequests` (each attempt counts) and `errorsRetried` are updated. */
  stats: Pick<SqsReadableStats, 'deleteRequests' | 'visibilityRequests' | 'errorsRetried'>;
  retry: ResolvedRetryOptions;
  /** How long the first waiting entry waits for company, in ms. A batch of 10 goes at once. */
  batchWindowMs: number;
  /** Called before each retry: a whole-request transient error, or entries that failed transiently. */
  onRetry?: OnRetry | undefined;
  /** Called whenever the acknowledger becomes idle (nothing waiting, retrying or in flight). */
  onIdle?: (() => void) | undefined;
}

interface Entry {
  readonly lane: Lane;
  readonly kind: EntryKind;
  readonly message: SqsMessage;
  /** Visibility timeout to set, for visibility changes. */
  readonly seconds: number;
  state: 'pending' | 'sending' | 'waiting' | 'done';
  sentAt: number;
  job: Job | undefined;
  readonly promise: Promise<EntryOutcome>;
  resolve(outcome: EntryOutcome): void;
  reject(error: SqsStreamError): void;
}

interface Lane {
  readonly operation: Operation;
  pending: Entry[];
  timer: NodeJS.Timeout | undefined;
}

interface Job {
  /** The entries of the current attempt (or of the retry being waited for). */
  round: Entry[];
  /** Ends the backoff wait early (every entry of the round was dropped, or an abort). */
  wake: (() => void) | undefined;
}

const INVALID_HANDLE_CODES = new Set([
  'ReceiptHandleIsInvalid',
  'AWS.SimpleQueueService.ReceiptHandleIsInvalid',
  'InvalidReceiptHandle',
  'MessageNotInflight',
  'AWS.SimpleQueueService.MessageNotInflight',
]);

/**
 * Whether SQS's answer means the receipt handle no longer lets this consumer act on the message:
 * it was deleted, or its visibility timeout ran out (and it may have been received again). No
 * retry can change that.
 */
export function isReceiptHandleProblem(code: string | undefined, message?: string): boolean {
  if (code === undefined) return false;
  if (INVALID_HANDLE_CODES.has(code)) return true;
  if (code === 'InvalidParameterValue' || code === 'AWS.SimpleQueueService.InvalidParameterValue') {
    return /receipt\s*handle/i.test(message ?? '');
  }
  return false;
}

function isExtension(kind: EntryKind): boolean {
  return kind === 'heartbeat' || kind === 'extend';
}

/** SQS repeats a bad receipt handle in its error text; it must never reach a log or an error. */
function scrub(text: string, entries: readonly Entry[]): string {
  let out = text;
  for (const entry of entries) {
    if (entry.message.receiptHandle !== '') {
      out = out.split(entry.message.receiptHandle).join('<receipt handle>');
    }
  }
  return out;
}

function action(kind: EntryKind, seconds: number): string {
  switch (kind) {
    case 'delete':
      return 'delete';
    case 'nack':
      return seconds === 0 ? 'make visible again' : `make visible again after ${seconds} s`;
    case 'release':
      return 'release (make visible again)';
    default:
      return `extend the visibility (by ${seconds} s) of`;
  }
}

function entryError(
  entry: Entry,
  queue: string,
  failure: BatchResultErrorEntry,
  detail: string,
): BatchEntryError {
  const operation = entry.lane.operation;
  const code = failure.Code ?? 'UnknownError';
  const said = scrub(failure.Message ?? '', [entry]);
  const what = `${action(entry.kind, entry.seconds)} message ${entry.message.messageId}`;
  let text: string;
  if (code === 'MessageNotInflight' || code === 'AWS.SimpleQueueService.MessageNotInflight') {
    text =
      `Could not ${what} on queue \`${queue}\`: it is no longer in flight (${code}). Its ` +
      'visibility timeout already ran out, so it is visible in the queue again and will be ' +
      'delivered again. Settle messages within their visibility timeout: keep `heartbeat` on, or ' +
      'call extend().';
  } else if (isReceiptHandleProblem(code, said)) {
    text =
      `Could not ${what} on queue \`${queue}\`: its receipt handle is no longer valid (${code}). ` +
      'The message was already deleted, or its visibility timeout ran out and it was received ' +
      'again, so this receive no longer owns it (if not deleted, it will be delivered again). ' +
      'Settle messages within their visibility timeout: keep `heartbeat` on, or call extend().';
  } else {
    text = `${operation} could not ${what} on queue \`${queue}\` (${code}${said ? `: ${said}` : ''})${detail}.`;
  }
  return new BatchEntryError(text, failure.SenderFault ?? true, {
    operation,
    queue,
    code,
    messageId: entry.message.messageId,
    cause: { ...failure, Message: said },
  });
}

/**
 * One per stream: turns acks and visibility changes into DeleteMessageBatch and
 * ChangeMessageVisibilityBatch requests of at most 10 entries, sent when 10 are waiting or
 * `batchWindowMs` after the first one started waiting. Each entry's promise settles with SQS's
 * answer for that entry: transient failures (of the whole request or of single entries) are
 * retried with backoff, permanent ones reject that entry with a {@link BatchEntryError} (or the
 * request's {@link SqsStreamError}). Nothing is dropped silently.
 *
 * Per message, visibility changes are ordered: a change waits while an earlier one for the same
 * message is in flight or retrying, so a nack can never be overtaken by a heartbeat.
 *
 * Every request carries the signal of an internal AbortController that only {@link abort}
 * fires: a stream's end or destroy does not cut off acks the consumer asked for.
 */
export class Acknowledger {
  readonly #options: AcknowledgerOptions;
  readonly #delete: Lane = { operation: 'DeleteMessageBatch', pending: [], timer: undefined };
  readonly #visibility: Lane = {
    operation: 'ChangeMessageVisibilityBatch',
    pending: [],
    timer: undefined,
  };
  /** Every entry not yet done. */
  readonly #open = new Set<Entry>();
  /** Per message, its visibility entry that is sending or waiting to retry (at most one). */
  readonly #busy = new Map<SqsMessage, Entry>();
  /** Per message, its extension entries not yet done. */
  readonly #extensions = new Map<SqsMessage, Set<Entry>>();
  readonly #controller = new AbortController();
  #heartbeatsStopped = false;

  constructor(options: AcknowledgerOptions) {
    this.#options = options;
    // Every request and every retry wait listens on this one signal: a release of hundreds of
    // messages runs dozens of requests at once, which is no leak.
    setMaxListeners(0, this.#controller.signal);
  }

  /** Entries waiting, retrying or in flight. */
  get size(): number {
    return this.#open.size;
  }

  get idle(): boolean {
    return this.#open.size === 0;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Deletes the message (DeleteMessageBatch). */
  delete(message: SqsMessage): Promise<EntryOutcome> {
    return this.#enqueue(this.#delete, 'delete', message, 0);
  }

  /** Sets the message's visibility timeout to `seconds` from now (ChangeMessageVisibilityBatch). */
  changeVisibility(
    message: SqsMessage,
    seconds: number,
    kind: VisibilityKind,
  ): Promise<EntryOutcome> {
    if (kind === 'extend') {
      // The caller's extension replaces a heartbeat that has not gone out yet.
      for (const entry of this.#extensions.get(message) ?? []) {
        if (entry.kind === 'heartbeat' && entry.state === 'pending') this.#drop(entry);
      }
    }
    return this.#enqueue(this.#visibility, kind, message, seconds);
  }

  /**
   * The message was settled: its extensions that have not gone out, or wait to be retried, no
   * longer matter. One already in flight is left alone; if SQS then says the receipt handle is
   * invalid, that entry ends as `gone`, quietly.
   */
  dropExtensions(message: SqsMessage): void {
    const entries = this.#extensions.get(message);
    if (entries === undefined) return;
    for (const entry of [...entries]) {
      if (entry.state === 'pending' || entry.state === 'waiting') this.#drop(entry);
    }
  }

  /** Drops every heartbeat not in flight now, and refuses new ones (they end as `dropped`). */
  stopHeartbeats(): void {
    this.#heartbeatsStopped = true;
    for (const entry of [...this.#open]) {
      if (entry.kind === 'heartbeat' && entry.state !== 'sending') this.#drop(entry);
    }
  }

  /** Sends every waiting entry now, without waiting for the window. Returns at once. */
  sendPending(): void {
    this.#sendAll(this.#delete);
    this.#sendAll(this.#visibility);
  }

  /**
   * Sends every waiting entry now, then resolves when every entry asked for so far has its
   * outcome (retries included). Never rejects: each entry's own promise carries its failure.
   */
  async flush(): Promise<void> {
    const promises = [...this.#open].map((entry) => entry.promise);
    this.sendPending();
    await Promise.allSettled(promises);
  }

  /**
   * Aborts every request in flight (through the internal AbortController every request
   * carries) and rejects every entry not yet confirmed. Later entries are rejected at once.
   */
  abort(): void {
    if (this.aborted) return;
    this.#controller.abort();
    for (const lane of [this.#delete, this.#visibility]) {
      if (lane.timer !== undefined) clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    for (const entry of [...this.#open]) this.#finish(entry, this.#abortError(entry));
  }

  #enqueue(
    lane: Lane,
    kind: EntryKind,
    message: SqsMessage,
    seconds: number,
  ): Promise<EntryOutcome> {
    let resolve!: (outcome: EntryOutcome) => void;
    let reject!: (error: SqsStreamError) => void;
    const promise = new Promise<EntryOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry = {
      lane,
      kind,
      message,
      seconds,
      state: 'pending',
      sentAt: 0,
      job: undefined,
      promise,
      resolve,
      reject,
    };
    if (this.aborted) {
      entry.state = 'done';
      reject(this.#abortError(entry));
      return promise;
    }
    if (kind === 'heartbeat' && this.#heartbeatsStopped) {
      entry.state = 'done';
      resolve({ status: 'dropped', sentAt: 0 });
      return promise;
    }
    this.#open.add(entry);
    if (isExtension(kind)) {
      let set = this.#extensions.get(message);
      if (set === undefined) this.#extensions.set(message, (set = new Set()));
      set.add(entry);
    }
    lane.pending.push(entry);
    this.#schedule(lane);
    return promise;
  }

  /** Sends full batches now; starts the window for what is left. */
  #schedule(lane: Lane): void {
    if (this.aborted) return;
    for (;;) {
      const batch = this.#take(lane, true);
      if (batch.length === 0) break;
      this.#start(lane, batch);
    }
    if (lane.timer === undefined && lane.pending.length > 0) {
      // Not unref'd: a caller awaits these entries, and the wait is short.
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.#sendAll(lane);
      }, this.#options.batchWindowMs);
    }
  }

  #sendAll(lane: Lane): void {
    if (lane.timer !== undefined) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    if (this.aborted) return;
    for (;;) {
      const batch = this.#take(lane, false);
      if (batch.length === 0) break;
      this.#start(lane, batch);
    }
    // Entries that wait for an earlier change of the same message go when it completes.
  }

  /**
   * Takes up to 10 sendable entries off the lane, in order. A visibility change is not sendable
   * while another change of the same message is in flight, retrying, or already in this batch.
   * With `onlyFull`, takes nothing unless 10 are sendable.
   */
  #take(lane: Lane, onlyFull: boolean): Entry[] {
    const live = lane.pending.filter((entry) => entry.state === 'pending');
    if (onlyFull && live.length < MAX_BATCH_ENTRIES) {
      lane.pending = live;
      return [];
    }
    const batch: Entry[] = [];
    const rest: Entry[] = [];
    const inBatch = new Set<SqsMessage>();
    for (const entry of live) {
      if (batch.length < MAX_BATCH_ENTRIES && this.#sendable(entry, inBatch)) {
        batch.push(entry);
        inBatch.add(entry.message);
      } else {
        rest.push(entry);
      }
    }
    if (onlyFull && batch.length < MAX_BATCH_ENTRIES) {
      lane.pending = live;
      return [];
    }
    lane.pending = rest;
    return batch;
  }

  #sendable(entry: Entry, inBatch: ReadonlySet<SqsMessage>): boolean {
    if (entry.lane !== this.#visibility) return true;
    return !this.#busy.has(entry.message) && !inBatch.has(entry.message);
  }

  /** Whether an entry no longer needs sending; if so it is dropped. */
  #stale(entry: Entry): boolean {
    if (entry.state === 'done') return true;
    const stale =
      (isExtension(entry.kind) && entry.message.settled) ||
      (entry.kind === 'heartbeat' && this.#heartbeatsStopped);
    if (stale) this.#drop(entry);
    return stale;
  }

  #start(lane: Lane, entries: Entry[]): void {
    this.#run(lane, entries).catch((error: unknown) => {
      // Not SQS's answer but a bug or a throwing callback: no entry may hang because of it.
      const streamError = toStreamError(error, lane.operation, this.#options.queueUrl);
      for (const entry of entries) this.#finish(entry, streamError);
    });
  }

  async #run(lane: Lane, entries: Entry[]): Promise<void> {
    const job: Job = { round: entries, wake: undefined };
    for (const entry of entries) {
      entry.job = job;
      entry.state = 'sending';
      if (lane === this.#visibility) this.#busy.set(entry.message, entry);
    }
    const { retry, queueUrl } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const round = job.round.filter((entry) => !this.#stale(entry));
      job.round = round;
      if (round.length === 0 || this.aborted) return;
      const sentAt = Date.now();
      for (const entry of round) {
        entry.state = 'sending';
        entry.sentAt = sentAt;
      }

      let again: Entry[];
      let retryError: unknown;
      const entryErrors = new Map<Entry, unknown>();
      try {
        const failed = await this.#send(lane, round);
        again = [];
        for (const [entry, failure] of failed) {
          if (entry.state === 'done') continue;
          const code = failure.Code;
          const said = scrub(failure.Message ?? '', [entry]);
          if (isReceiptHandleProblem(code, said)) {
            if (this.#quietWhenGone(entry)) {
              debug(
                '%s: message %s %s (%s); nothing to do',
                lane.operation,
                entry.message.messageId,
                entry.kind === 'release' ? 'needs no release' : 'was settled meanwhile',
                code,
              );
              this.#finish(entry, { status: 'gone', sentAt });
            } else {
              this.#finish(entry, entryError(entry, queueUrl, failure, ''));
            }
          } else if (failure.SenderFault === false || isTransientError({ name: code })) {
            again.push(entry);
            retryError = entryError(entry, queueUrl, failure, ' (transient)');
            entryErrors.set(entry, retryError);
          } else {
            this.#finish(entry, entryError(entry, queueUrl, failure, ''));
          }
        }
      } catch (error) {
        if (this.aborted || isAbortError(error)) {
          for (const entry of round) this.#finish(entry, this.#abortError(entry));
          return;
        }
        if (!isTransientError(error)) {
          const streamError = toStreamError(error, lane.operation, queueUrl);
          const scrubbed = scrub(streamError.message, round);
          if (scrubbed !== streamError.message) streamError.message = scrubbed;
          debug('%s failed for %d entries: %s', lane.operation, round.length, streamError.code);
          for (const entry of round) this.#finish(entry, streamError);
          return;
        }
        again = round.filter((entry) => entry.state !== 'done');
        retryError = error;
      }

      if (again.length === 0) return;
      if (attempt >= retry.numOfAttempts) {
        for (const entry of again) {
          const error = entryErrors.get(entry) ?? retryError;
          this.#finish(entry, this.#exhaustedError(entry, error, attempt));
        }
        return;
      }
      const delay = backoffDelay(retry, attempt);
      this.#options.stats.errorsRetried++;
      debug(
        '%s: retrying %d entries in %d ms (attempt %d)',
        lane.operation,
        again.length,
        delay,
        attempt,
      );
      try {
        this.#options.onRetry?.(retryError, attempt, delay);
      } catch (error) {
        // A throwing 'retry' listener is the listener's bug: surface it as EventEmitter would.
        process.nextTick(() => {
          throw error;
        });
      }
      job.round = again;
      for (const entry of again) entry.state = 'waiting';
      // A heartbeat retry alone must not keep the process alive; an ack someone awaits does.
      await this.#pause(
        job,
        delay,
        again.some((entry) => entry.kind !== 'heartbeat'),
      );
    }
  }

  /** Sends one request; returns the entries SQS did not confirm, with SQS's failure for each. */
  async #send(lane: Lane, round: Entry[]): Promise<Array<[Entry, BatchResultErrorEntry]>> {
    const { client, queueUrl, stats } = this.#options;
    const options = { abortSignal: this.#controller.signal };
    let out: { Successful?: Array<{ Id?: string | undefined }>; Failed?: BatchResultErrorEntry[] };
    if (lane === this.#delete) {
      stats.deleteRequests++;
      out = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: round.map((entry, i) => ({
            Id: String(i),
            ReceiptHandle: entry.message.receiptHandle,
          })),
        }),
        options,
      );
    } else {
      stats.visibilityRequests++;
      out = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: round.map((entry, i) => ({
            Id: String(i),
            ReceiptHandle: entry.message.receiptHandle,
            VisibilityTimeout: entry.seconds,
          })),
        }),
        options,
      );
    }
    const sentAt = round[0]?.sentAt ?? Date.now();
    const unanswered = new Map(round.map((entry, i) => [String(i), entry]));
    for (const ok of out.Successful ?? []) {
      const entry = ok.Id === undefined ? undefined : unanswered.get(ok.Id);
      if (entry === undefined) continue;
      unanswered.delete(ok.Id as string);
      this.#finish(entry, { status: 'confirmed', sentAt });
    }
    const failed: Array<[Entry, BatchResultErrorEntry]> = [];
    for (const failure of out.Failed ?? []) {
      const entry = failure.Id === undefined ? undefined : unanswered.get(failure.Id);
      if (entry === undefined) continue;
      unanswered.delete(failure.Id as string);
      failed.push([entry, failure]);
    }
    for (const [id, entry] of unanswered) {
      // SQS answers for every entry; one it skipped is worth another try.
      failed.push([
        entry,
        {
          Id: id,
          Code: 'MissingEntryResult',
          SenderFault: false,
          Message: 'SQS returned no result for this entry',
        },
      ]);
    }
    return failed;
  }

  /** An invalid receipt handle needs no report when the entry no longer mattered anyway. */
  #quietWhenGone(entry: Entry): boolean {
    return entry.kind === 'release' || (isExtension(entry.kind) && entry.message.settled);
  }

  #pause(job: Job, ms: number, keepAlive: boolean): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#controller.signal;
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

  #drop(entry: Entry): void {
    this.#finish(entry, { status: 'dropped', sentAt: 0 });
  }

  #finish(entry: Entry, outcome: EntryOutcome | SqsStreamError): void {
    if (entry.state === 'done') return;
    const wasOut = entry.state === 'sending' || entry.state === 'waiting';
    entry.state = 'done';
    this.#open.delete(entry);
    const extensions = this.#extensions.get(entry.message);
    if (extensions !== undefined) {
      extensions.delete(entry);
      if (extensions.size === 0) this.#extensions.delete(entry.message);
    }
    let unblocked = false;
    if (wasOut && this.#busy.get(entry.message) === entry) {
      this.#busy.delete(entry.message);
      unblocked = true;
    }
    if (outcome instanceof SqsStreamError) entry.reject(outcome);
    else entry.resolve(outcome);

    const job = entry.job;
    if (job?.wake !== undefined && job.round.every((e) => e.state === 'done')) job.wake();
    if (unblocked && entry.lane.pending.length > 0 && !this.aborted) this.#schedule(entry.lane);
    if (this.#open.size === 0) this.#options.onIdle?.();
  }

  #abortError(entry: Entry): SqsStreamError {
    return new SqsStreamError(
      `${entry.lane.operation} on queue \`${this.#options.queueUrl}\` was aborted before SQS ` +
        `confirmed it: could not ${action(entry.kind, entry.seconds)} message ${entry.message.messageId}. ` +
        'The message stays invisible until its visibility timeout runs out, then is delivered again.',
      {
        operation: entry.lane.operation,
        queue: this.#options.queueUrl,
        code: 'AbortError',
        messageId: entry.message.messageId,
      },
    );
  }

  #exhaustedError(entry: Entry, error: unknown, attempts: number): SqsStreamError {
    const operation = entry.lane.operation;
    const queue = this.#options.queueUrl;
    const base = error instanceof SqsStreamError ? error : toStreamError(error, operation, queue);
    return new SqsStreamError(
      `Could not ${action(entry.kind, entry.seconds)} message ${entry.message.messageId} on queue ` +
        `\`${queue}\`: ${operation} still failed after ${attempts} attempts (${base.code ?? 'transient error'}). ` +
        'Raise `retry.numOfAttempts`, or check the service and network.',
      { operation, queue, code: base.code, messageId: entry.message.messageId, cause: error },
    );
  }
}
