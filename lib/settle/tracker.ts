import type { TrackerOptions } from './tracker-options.js';
import { SettleBatcher } from './settle-batcher.js';
import type { EntryKind, EntryOutcome } from './settle-entry.js';
import { shutdownError } from './settle-errors.js';
import { debug } from '../core/debug.js';
import { SqsStreamError } from '../core/errors.js';
import { Heartbeat, type DueExtension } from './heartbeat.js';
import { IdleWatch } from './idle-watch.js';
import { heldSlot, settlerOf, type MessageSettler, type SqsMessage } from './message.js';
import { SlotSet } from '../core/slot-set.js';
import { Settlement } from './settlement.js';
import { notify } from '../core/notify.js';
import { HeartbeatErrors, releaseError } from './tracker-errors.js';

export type { TrackerOptions };

/**
 * The tracker that settles a message. Read from the message itself: a WeakMap keyed by every
 * received message cost 7-10% of the stream layer's CPU (V8 scans its entries in every GC).
 */
export function trackerOf(message: SqsMessage): MessageTracker | undefined {
  const settler = settlerOf(message);
  return settler instanceof MessageTracker ? settler : undefined;
}

const SETTLE_KINDS: ReadonlySet<EntryKind> = new Set(['delete', 'nack']);

/**
 * One per stream: knows which received messages are still held (unsettled), settles them through
 * one batching {@link SettleBatcher}, and keeps them alive with a {@link Heartbeat} until they are
 * settled. It outlives the stream: acks after the stream ended keep working.
 */
export class MessageTracker implements MessageSettler {
  readonly #options: TrackerOptions;
  readonly #acks: SettleBatcher;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #held = new SlotSet(heldSlot);
  readonly #heartbeatErrors = new HeartbeatErrors();
  readonly #idle = new IdleWatch(() => this.#held.size === 0 && this.#acks.idle);
  #closed = false;

  constructor(options: TrackerOptions) {
    this.#options = options;
    this.#acks = new SettleBatcher({
      client: options.client,
      queueUrl: options.queueUrl,
      stats: options.stats,
      policy: options.policy,
      batchWindowMs: options.ackBatchWindowMs,
      onRetry: options.onRetry,
      onListenerError: options.onListenerError,
      onIdle: () => this.#idle.check(),
    });
    if (options.heartbeat && options.visibilityTimeout >= 1) {
      this.#heartbeat = new Heartbeat({
        visibilityTimeout: options.visibilityTimeout,
        maxHoldSeconds: options.maxHoldSeconds,
        onDue: (due) => this.#beat(due),
      });
    }
  }

  /** Received and not yet settled (buffered in the stream or being processed). */
  get held(): number {
    return this.#held.size;
  }

  /** Acks, nacks and extensions waiting for their batch, retrying or in flight. */
  get pending(): number {
    return this.#acks.size;
  }

  /** Whether `message` is held by this tracker (received, not settled). */
  holds(message: SqsMessage): boolean {
    return this.#held.has(message);
  }

  /** Holds a received message: counted in `held`, kept alive, released on destroy. */
  track(message: SqsMessage): void {
    if (message.settled || !this.#held.add(message)) return;
    this.#options.stats.held = this.#held.size;
    this.#heartbeat?.add(message);
  }

  /**
   * Stops holding a message without settling it: no more heartbeat, no release on destroy. Its
   * visibility runs out and SQS delivers it again (or its redrive policy moves it to a
   * dead-letter queue). For a message that cannot be delivered (an unreadable large payload).
   */
  abandon(message: SqsMessage): void {
    this.#forget(message);
    this.#idle.check();
  }

  /** Deletes the message; `settlement` ends when SQS confirmed it. */
  ack(message: SqsMessage, settlement: Settlement): void {
    this.#settleHeld(message, 'delete', 0, settlement);
  }

  /** Makes the message visible again after `delaySeconds`; `settlement` ends once confirmed. */
  nack(message: SqsMessage, delaySeconds: number, settlement: Settlement): void {
    this.#settleHeld(message, 'nack', delaySeconds, settlement);
  }

  /**
   * Keeps the message invisible for `seconds` from now, and moves its heartbeat deadline to
   * match (0 makes it visible at once and stops its heartbeat: prefer `nack()`). On a settled
   * message it does nothing.
   */
  extend(message: SqsMessage, seconds: number): Promise<void> {
    if (message.settled) {
      debug('extend: message %s is already settled; nothing to do', message.messageId);
      return Promise.resolve();
    }
    const heartbeat = this.#heartbeat;
    heartbeat?.begin(message);
    return new Promise((resolve, reject) => {
      this.#acks.changeVisibility(message, seconds, 'extend', (result) => {
        if (result instanceof SqsStreamError) {
          heartbeat?.failed(message);
          reject(result);
          return;
        }
        if (result.status !== 'confirmed') heartbeat?.failed(message);
        else if (seconds === 0) heartbeat?.delete(message);
        else heartbeat?.extended(message, result.sentAt + seconds * 1000);
        resolve();
      });
    });
  }

  /**
   * Releases every held message at once (visibility 0, in batches of 10) and marks each one
   * released. Resolves when SQS confirmed every release; rejects with an `SqsStreamError` if any
   * could not be released (after retrying transient failures). A message whose receipt handle is
   * no longer valid needs no release (it is visible again already, or received by someone else)
   * and is skipped quietly.
   */
  async releaseAll(): Promise<void> {
    const messages = this.#held.values();
    if (messages.length === 0) return;
    debug('releasing %d held messages', messages.length);
    const releases = this.#idle.settling(() =>
      messages.map((message) => {
        const released = new Settlement();
        this.#settle(message, 'release', 0, released);
        // Its failure is reported below, whether or not anyone asks the message for it.
        released.markReported();
        message.markReleased(released);
        this.#forget(message);
        return released.promise();
      }),
    );
    this.#acks.sendPending();
    const results = await Promise.allSettled(releases);
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason] : [],
    );
    if (failures.length === 0) return;
    throw releaseError(failures, messages.length, this.#options.queueUrl);
  }

  /** Sends what waits now; resolves once every request so far completed. Never rejects. */
  flush(): Promise<void> {
    return this.#acks.flush();
  }

  /**
   * As {@link flush}, for the acks and nacks only: what `stop()` waits for. The heartbeat
   * extensions of messages the consumer still holds are not a settle, and go on.
   */
  flushSettles(): Promise<void> {
    return this.#acks.flush(SETTLE_KINDS);
  }

  /** Sends everything waiting now, without waiting for the window; does not wait for answers. */
  sendPending(): void {
    this.#acks.sendPending();
  }

  /** Resolves once nothing is held and nothing waits, retries or is in flight. */
  whenIdle(): Promise<void> {
    return this.#idle.whenIdle();
  }

  /**
   * Stops the heartbeat for good (after `releaseAll()`, or on a hard abort): its timer is
   * cleared and heartbeat extensions not yet in flight are dropped. Acks, nacks and releases
   * asked for still complete; `abort()` cuts those off too.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeat?.stop();
    this.#acks.stopHeartbeats();
  }

  /**
   * Gives up on the acks and nacks not yet confirmed (a bounded `stop()` ran out of time): each
   * rejects with an `SqsStreamError` saying so, and counts as failed. Returns how many. Acks
   * asked for later are sent as usual; heartbeats go on for messages still held.
   */
  giveUpSettles(timeoutMs: number): number {
    return this.#acks.giveUp(SETTLE_KINDS, (entry) =>
      shutdownError(entry, this.#options.queueUrl, timeoutMs),
    );
  }

  /**
   * `close()`, and aborts every request in flight: entries not yet confirmed reject with an
   * `SqsStreamError` (code `AbortError`). Their messages come back after their visibility timeout.
   */
  abort(): void {
    this.close();
    this.#acks.abort();
  }

  /** Settles a message the consumer holds: from now on it is not held, and not kept alive. */
  #settleHeld(
    message: SqsMessage,
    kind: 'delete' | 'nack',
    seconds: number,
    settlement: Settlement,
  ): void {
    this.#idle.enter();
    try {
      this.#forget(message);
      this.#settle(message, kind, seconds, settlement);
    } finally {
      this.#idle.leave();
    }
  }

  /**
   * An ack (`delete`), a nack or a release: `settlement` ends when SQS confirmed it (or it no
   * longer mattered), or with its error; counted in `stats` either way.
   */
  #settle(
    message: SqsMessage,
    kind: 'delete' | 'nack' | 'release',
    seconds: number,
    settlement: Settlement,
  ): void {
    const ack = kind === 'delete';
    const options = this.#options;
    const done = (result: EntryOutcome | SqsStreamError): void => {
      if (result instanceof SqsStreamError) {
        if (ack) options.stats.ackFailed++;
        else options.stats.releaseFailed++;
        settlement.finish(result);
        return;
      }
      if (result.status === 'confirmed') {
        if (ack) options.stats.acked++;
        else options.stats.released++;
        notify(ack ? options.onAck : options.onRelease, message);
      }
      settlement.finish();
    };
    if (ack) this.#acks.delete(message, done);
    else this.#acks.changeVisibility(message, seconds, kind, done);
  }

  /** The message is settled: it is no longer held, kept alive, or extended. */
  #forget(message: SqsMessage): void {
    if (this.#held.delete(message)) this.#options.stats.held = this.#held.size;
    this.#heartbeat?.delete(message);
    this.#acks.dropExtensions(message);
  }

  #beat(due: DueExtension[]): void {
    for (const { message, seconds } of due) {
      this.#acks.changeVisibility(message, seconds, 'heartbeat', (result) => {
        if (result instanceof SqsStreamError) this.#beatFailed(message, result);
        else this.#beaten(message, seconds, result);
      });
    }
    // Grouping already happened: the heartbeat hands over messages whose deadlines are close.
    this.#acks.sendPending();
  }

  #beaten(message: SqsMessage, seconds: number, outcome: EntryOutcome): void {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined) return;
    if (outcome.status === 'confirmed')
      heartbeat.extended(message, outcome.sentAt + seconds * 1000);
    else heartbeat.failed(message);
  }

  #beatFailed(message: SqsMessage, error: unknown): void {
    this.#heartbeat?.delete(message);
    if (message.settled || this.#closed) {
      // Settled while its extension was in flight (or shutting down): nothing was lost.
      debug('heartbeat: ignoring a failed extension of settled message %s', message.messageId);
      return;
    }
    const report = this.#heartbeatErrors.report(message, error, this.#options.queueUrl);
    if (report !== undefined) notify(this.#options.onHeartbeatError, report);
  }
}
