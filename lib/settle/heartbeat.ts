import { debug } from '../core/debug.js';
import { SlotSet } from '../core/slot-set.js';
import { freshSlot, type SqsMessage } from './message.js';

/** SQS's cap on a message's total invisibility, counted from its receipt. */
export const MAX_HOLD_SECONDS = 43_200;

/**
 * SQS starts a message's clock before the ReceiveMessage response reaches us, so the last
 * extension stops this many seconds short of SQS's 12-hour cap instead of being refused.
 */
export const HOLD_CAP_SLACK_SECONDS = 5;

/** One extension the heartbeat wants sent. */
export interface DueExtension {
  message: SqsMessage;
  /** The visibility timeout to set, from now: the visibility timeout, or what is left of the maximum hold. */
  seconds: number;
}

export interface HeartbeatOptions {
  /** Seconds each extension adds, from the time it is sent. Must be at least 1. */
  visibilityTimeout: number;
  /** Stop extending once a message has been held this long, in seconds from its receipt. */
  maxHoldSeconds: number;
  /**
   * Called with the messages whose extension is due, grouped. Each one is busy until the caller
   * reports back with {@link Heartbeat.extended} or {@link Heartbeat.failed} (or deletes it).
   */
  onDue: (due: DueExtension[]) => void;
}

interface Beat {
  /** When the message becomes visible again unless extended (ms since the epoch). */
  deadline: number;
  /** Never extend past this (receipt + maximum hold). */
  end: number;
  /** Extensions of this message outstanding (the heartbeat's or the consumer's own). */
  busy: number;
  /** The extension in flight reaches `end`: nothing follows it. */
  final: boolean;
}

/**
 * Keeps held messages from expiring: one unref'd timer, set for the earliest due extension.
 *
 * A message's extension is due when a third of the visibility timeout is left before its deadline
 * (the margin absorbs timer lateness, the batching window and the request itself). When the timer
 * fires it also takes every message due within the next sixth of the timeout, so messages whose
 * deadlines are close go out in one batch; since each extension is by the visibility timeout from
 * the moment it is sent, messages extended together stay together afterwards. A message is
 * extended until it is settled (the caller deletes it) or until `maxHoldSeconds` after its
 * receipt; the last extension is cut to reach exactly that point.
 *
 * Most messages are settled long before their first extension is due, so a message added gets
 * no record of its own: it waits in a set of fresh messages (its deadline follows from its
 * receipt) and gets one only when a beat or an extension first needs it.
 */
export class Heartbeat {
  readonly #periodMs: number;
  readonly #leadMs: number;
  readonly #groupMs: number;
  readonly #maxHoldMs: number;
  readonly #onDue: (due: DueExtension[]) => void;
  readonly #beats = new Map<SqsMessage, Beat>();
  /** Added, and not yet looked at by a beat or an extension: deadline = receipt + timeout. */
  readonly #fresh = new SlotSet(freshSlot);
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #stopped = false;

  constructor(options: HeartbeatOptions) {
    if (!(options.visibilityTimeout >= 1)) {
      throw new RangeError(
        `Expected \`visibilityTimeout\` to be at least 1 second for a heartbeat, got \`${String(options.visibilityTimeout)}\``,
      );
    }
    this.#periodMs = options.visibilityTimeout * 1000;
    this.#leadMs = this.#periodMs / 3;
    this.#groupMs = this.#periodMs / 6;
    const hold = Math.min(options.maxHoldSeconds, MAX_HOLD_SECONDS - HOLD_CAP_SLACK_SECONDS);
    this.#maxHoldMs = Math.max(0, hold) * 1000;
    this.#onDue = options.onDue;
  }

  /** Messages it keeps alive. */
  get size(): number {
    return this.#beats.size + this.#fresh.size;
  }

  /** When the timer fires next (ms since the epoch), `undefined` when none is set. */
  get nextBeatAt(): number | undefined {
    return this.#timer === undefined ? undefined : this.#timerAt;
  }

  has(message: SqsMessage): boolean {
    return this.#fresh.has(message) || this.#beats.has(message);
  }

  /** The deadline the heartbeat knows for a message (ms since the epoch). */
  deadlineOf(message: SqsMessage): number | undefined {
    return this.#beatOf(message)?.deadline;
  }

  /**
   * Starts keeping a message alive. Its first deadline is its receipt plus the visibility
   * timeout (SQS started the clock then).
   */
  add(message: SqsMessage): void {
    if (this.#stopped || this.has(message)) return;
    // The maximum hold is reached without any extension.
    if (this.#periodMs >= this.#maxHoldMs) return;
    this.#fresh.add(message);
    this.#arm(message.receivedAt + this.#periodMs - this.#leadMs);
  }

  /** Stops keeping a message alive (settled, released, or given up). */
  delete(message: SqsMessage): void {
    if (!this.#fresh.delete(message)) this.#beats.delete(message);
    if (this.size === 0) this.#disarm();
  }

  /** An extension of the message (the heartbeat's, or one the consumer asked for) is outstanding. */
  begin(message: SqsMessage): void {
    const beat = this.#beatOf(message);
    if (beat !== undefined) beat.busy++;
  }

  /**
   * An extension was confirmed: the message is visible again at `deadline` at the earliest
   * (ms since the epoch). After the last extension allowed, the heartbeat lets the message go.
   */
  extended(message: SqsMessage, deadline: number): void {
    const beat = this.#beatOf(message);
    if (beat === undefined) return;
    beat.busy = Math.max(0, beat.busy - 1);
    beat.deadline = deadline;
    if (beat.final && beat.busy === 0) {
      debug(
        'heartbeat: message %s reached its maximum hold; no more extensions',
        message.messageId,
      );
      this.delete(message);
      return;
    }
    if (beat.busy === 0) this.#arm(deadline - this.#leadMs);
  }

  /** An extension did not happen (dropped, or failed in a way worth another try later). */
  failed(message: SqsMessage): void {
    const beat = this.#beatOf(message);
    if (beat === undefined) return;
    beat.busy = Math.max(0, beat.busy - 1);
    beat.final = false;
    if (beat.busy === 0) this.#arm(beat.deadline - this.#leadMs);
  }

  /** Stops for good: clears the timer and forgets every message. */
  stop(): void {
    this.#stopped = true;
    this.#beats.clear();
    this.#fresh.clear();
    this.#disarm();
  }

  /** The message's record, made on first need for a fresh one; `undefined` if not kept alive. */
  #beatOf(message: SqsMessage): Beat | undefined {
    let beat = this.#beats.get(message);
    if (beat === undefined && this.#fresh.delete(message)) {
      const deadline = message.receivedAt + this.#periodMs;
      beat = { deadline, end: message.receivedAt + this.#maxHoldMs, busy: 0, final: false };
      this.#beats.set(message, beat);
    }
    return beat;
  }

  #arm(at: number): void {
    if (this.#stopped || at >= this.#timerAt) return;
    this.#disarm();
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#beat(), Math.max(0, at - Date.now()));
    // A heartbeat alone must not keep the process alive.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #beat(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    const horizon = now + this.#leadMs + this.#groupMs;
    const due: DueExtension[] = [];
    let next = Infinity;
    for (const message of this.#fresh) this.#beatOf(message);
    for (const [message, beat] of this.#beats) {
      if (beat.busy > 0) continue;
      if (beat.deadline > horizon) {
        next = Math.min(next, beat.deadline - this.#leadMs);
        continue;
      }
      const left = beat.end - now;
      const seconds = Math.min(this.#periodMs, left) / 1000;
      const whole = Math.floor(seconds);
      if (whole < 1 || beat.deadline >= beat.end) {
        debug(
          'heartbeat: message %s reached its maximum hold; no more extensions',
          message.messageId,
        );
        this.#beats.delete(message);
        continue;
      }
      beat.final = left <= this.#periodMs;
      beat.busy++;
      due.push({ message, seconds: whole });
    }
    if (next !== Infinity) this.#arm(next);
    if (due.length > 0) {
      debug('heartbeat: extending %d messages', due.length);
      this.#onDue(due);
    }
  }
}
