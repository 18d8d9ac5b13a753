import { setMaxListeners } from 'node:events';
import { runBatch, type BatchContext, type BatchOptions } from './batch-attempts.js';
import {
  createEntry,
  isExtension,
  type Entry,
  type EntryDone,
  type EntryKind,
  type EntryOutcome,
  type Lane,
  type VisibilityKind,
} from './settle-entry.js';
import { abortError } from './settle-errors.js';
import { FlushWaiters } from './flush-waiters.js';
import { closeWindow, newLane, openWindow, takeBatch } from './settle-lane.js';
import { SqsStreamError, toStreamError } from '../core/errors.js';
import { SlotSet, slotField } from '../core/slot-set.js';
import type { SqsMessage } from './message.js';

export interface SettleBatcherOptions extends BatchOptions {
  /** How long the first waiting entry waits for company, in ms. A batch of 10 goes at once. */
  batchWindowMs: number;
  /** Called whenever the acknowledger becomes idle (nothing waiting, retrying or in flight). */
  onIdle?: (() => void) | undefined;
}

/**
 * One per stream: turns acks and visibility changes into DeleteMessageBatch and
 * ChangeMessageVisibilityBatch requests of at most 10 entries, sent when 10 are waiting or
 * `batchWindowMs` after the first one started waiting. Each entry ends with SQS's answer for
 * that entry: transient failures (of the whole request or of single entries) are
 * retried with backoff, permanent ones fail that entry with a {@link BatchEntryError} (or the
 * request's {@link SqsStreamError}). Nothing is dropped silently. Each entry's `done` callback is
 * called once with its outcome or its error (a callback, not a promise per entry: the caller
 * makes the one promise its own caller awaits).
 *
 * Per message, visibility changes are ordered: a change waits while an earlier one for the same
 * message is in flight or retrying, so a nack can never be overtaken by a heartbeat.
 *
 * Every request carries the signal of an internal AbortController that only {@link abort}
 * fires: a stream's end or destroy does not cut off acks the consumer asked for.
 */
export class SettleBatcher {
  readonly #options: SettleBatcherOptions;
  readonly #delete: Lane = newLane('DeleteMessageBatch', () => this.#sendAll(this.#delete));
  readonly #visibility: Lane = newLane('ChangeMessageVisibilityBatch', () =>
    this.#sendAll(this.#visibility),
  );
  /** Every entry not yet done. */
  readonly #open = new SlotSet<Entry>(slotField);
  /** Per message, its visibility entry that is sending or waiting to retry (at most one). */
  readonly #busy = new Map<SqsMessage, Entry>();
  /** Per message, its extension entries not yet done. */
  readonly #extensions = new Map<SqsMessage, Set<Entry>>();
  readonly #controller = new AbortController();
  /** What each batch on its way through its attempts uses of this acknowledger. */
  readonly #batch: BatchContext;
  /** Each `flush()` under way: the entries it waits for. */
  readonly #flushes = new FlushWaiters();
  #heartbeatsStopped = false;

  constructor(options: SettleBatcherOptions) {
    this.#options = options;
    // Every request and every retry wait listens on this one signal: a release of hundreds of
    // messages runs dozens of requests at once, which is no leak.
    setMaxListeners(0, this.#controller.signal);
    this.#batch = {
      options,
      signal: this.#controller.signal,
      stale: (entry) => this.#stale(entry),
      finish: (entry, outcome) => this.#finish(entry, outcome),
    };
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

  /** Deletes the message (DeleteMessageBatch); `done` gets the outcome. */
  delete(message: SqsMessage, done: EntryDone): void {
    this.#enqueue(this.#delete, 'delete', message, 0, done);
  }

  /**
   * Sets the message's visibility timeout to `seconds` from now (ChangeMessageVisibilityBatch);
   * `done` gets the outcome.
   */
  changeVisibility(
    message: SqsMessage,
    seconds: number,
    kind: VisibilityKind,
    done: EntryDone,
  ): void {
    if (kind === 'extend') {
      // The caller's extension replaces a heartbeat that has not gone out yet.
      for (const entry of this.#extensions.get(message) ?? []) {
        if (entry.kind === 'heartbeat' && entry.state === 'pending') this.#drop(entry);
      }
    }
    this.#enqueue(this.#visibility, kind, message, seconds, done);
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
    for (const entry of this.#open.values()) {
      if (entry.kind === 'heartbeat' && entry.state !== 'sending') this.#drop(entry);
    }
  }

  /** Sends every waiting entry now, without waiting for the window. Returns at once. */
  sendPending(): void {
    this.#sendAll(this.#delete);
    this.#sendAll(this.#visibility);
  }

  /**
   * Sends every waiting entry now, then resolves when every entry asked for so far (of `kinds`,
   * when given) has its outcome (retries included). Never rejects: each entry's own `done` gets
   * its failure.
   */
  flush(kinds?: ReadonlySet<EntryKind>): Promise<void> {
    const open = this.#open
      .values()
      .filter((entry) => kinds === undefined || kinds.has(entry.kind));
    const flushed = this.#flushes.wait(open);
    this.sendPending();
    return flushed;
  }

  /**
   * Gives up on every entry of the given kinds not yet confirmed: each rejects with the error
   * `reason` makes for it, and returns how many. Requests in flight end on their own deadline; a
   * batch whose entries are all given up stops retrying. Later entries are taken as usual.
   */
  giveUp(kinds: ReadonlySet<EntryKind>, reason: (entry: Entry) => SqsStreamError): number {
    let count = 0;
    for (const entry of this.#open.values()) {
      if (!kinds.has(entry.kind)) continue;
      count++;
      this.#finish(entry, reason(entry));
    }
    return count;
  }

  /**
   * Aborts every request in flight (through the internal AbortController every request
   * carries) and rejects every entry not yet confirmed. Later entries are rejected at once.
   */
  abort(): void {
    if (this.aborted) return;
    this.#controller.abort();
    for (const lane of [this.#delete, this.#visibility]) closeWindow(lane);
    for (const entry of this.#open.values()) {
      this.#finish(entry, abortError(entry, this.#options.queueUrl));
    }
  }

  #enqueue(
    lane: Lane,
    kind: EntryKind,
    message: SqsMessage,
    seconds: number,
    done: EntryDone,
  ): void {
    const entry = createEntry(lane, kind, message, seconds, done);
    if (this.aborted) {
      entry.state = 'done';
      done(abortError(entry, this.#options.queueUrl));
      return;
    }
    if (kind === 'heartbeat' && this.#heartbeatsStopped) {
      entry.state = 'done';
      done({ status: 'dropped', sentAt: 0 });
      return;
    }
    this.#open.add(entry);
    if (isExtension(kind)) {
      let set = this.#extensions.get(message);
      if (set === undefined) this.#extensions.set(message, (set = new Set()));
      set.add(entry);
    }
    lane.pending.push(entry);
    this.#schedule(lane);
  }

  /** Sends full batches now; starts the window for what is left. */
  #schedule(lane: Lane): void {
    if (this.aborted) return;
    for (;;) {
      const batch = this.#take(lane, true);
      if (batch.length === 0) break;
      this.#start(lane, batch);
    }
    // Full batches took everything: the window the first entry started has nothing left to send.
    if (lane.pending.length === 0) {
      closeWindow(lane);
    } else {
      openWindow(lane, this.#options.batchWindowMs);
    }
  }

  #sendAll(lane: Lane): void {
    closeWindow(lane);
    if (this.aborted) return;
    for (;;) {
      const batch = this.#take(lane, false);
      if (batch.length === 0) break;
      this.#start(lane, batch);
    }
    // Entries that wait for an earlier change of the same message go when it completes.
  }

  /** Up to 10 entries to send now, off the lane; see {@link takeBatch}. */
  #take(lane: Lane, onlyFull: boolean): Entry[] {
    return takeBatch(lane, onlyFull, lane === this.#visibility ? this.#busy : undefined);
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
    if (lane === this.#visibility) {
      for (const entry of entries) this.#busy.set(entry.message, entry);
    }
    runBatch(this.#batch, lane, entries).catch((error: unknown) => {
      // Not SQS's answer but a bug or a throwing callback: no entry may hang because of it.
      const handles = entries.map((entry) => entry.message.receiptHandle);
      const streamError = toStreamError(error, lane.operation, this.#options.queueUrl, handles);
      for (const entry of entries) this.#finish(entry, streamError);
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
    const job = entry.job;
    if (job?.wake !== undefined && job.round.every((e) => e.state === 'done')) job.wake();
    if (unblocked && entry.lane.pending.length > 0 && !this.aborted) this.#schedule(entry.lane);
    this.#flushes.done(entry);
    if (this.#open.size === 0) this.#options.onIdle?.();
    // Last, once this batcher's own state is consistent: `done` runs the caller's code.
    entry.done(outcome);
  }
}
