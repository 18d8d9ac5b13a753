import type { SqsStreamError } from '../core/errors.js';
import type { SqsMessage } from './message.js';

/** SQS's limit on entries per DeleteMessageBatch / ChangeMessageVisibilityBatch. */
export const MAX_BATCH_ENTRIES = 10;

/** Why a visibility change was asked for; decides what a race with a settle means. */
export type VisibilityKind = 'heartbeat' | 'extend' | 'nack' | 'release';
export type EntryKind = 'delete' | VisibilityKind;

export type Operation = 'DeleteMessageBatch' | 'ChangeMessageVisibilityBatch';

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

/** Told once what became of an entry: its outcome, or the error it failed with. */
export type EntryDone = (result: EntryOutcome | SqsStreamError) => void;

/** One ack or visibility change, from the moment it is asked for until it is done. */
export interface Entry {
  readonly lane: Lane;
  readonly kind: EntryKind;
  readonly message: SqsMessage;
  /** Visibility timeout to set, for visibility changes. */
  readonly seconds: number;
  state: 'pending' | 'sending' | 'waiting' | 'done';
  sentAt: number;
  job: Job | undefined;
  /** SQS's failure of this entry in its last attempt, when that was transient (retried). */
  transientError: SqsStreamError | undefined;
  readonly done: EntryDone;
  /** Its place in the batcher's open entries (core/slot-set.ts). */
  slot: number;
}

/** The entries waiting for one kind of batch request. */
export interface Lane {
  readonly operation: Operation;
  pending: Entry[];
  /** The batch window's timer, once armed. */
  timer: NodeJS.Timeout | undefined;
  /** The batch window opened and its timer is not armed yet (see `openWindow`). */
  opening: NodeJS.Immediate | undefined;
  /** Sends every entry waiting (when the window ends). */
  readonly sendAll: () => void;
}

/** One batch on its way through its attempts. */
export interface Job {
  /** The entries of the current attempt (or of the retry being waited for). */
  round: Entry[];
  /** Ends the backoff wait early (every entry of the round was dropped, or an abort). */
  wake: (() => void) | undefined;
}

export function isExtension(kind: EntryKind): boolean {
  return kind === 'heartbeat' || kind === 'extend';
}

/** A new entry, `pending`; `done` is called once, when it settles. */
export function createEntry(
  lane: Lane,
  kind: EntryKind,
  message: SqsMessage,
  seconds: number,
  done: EntryDone,
): Entry {
  return {
    lane,
    kind,
    message,
    seconds,
    state: 'pending',
    sentAt: 0,
    job: undefined,
    transientError: undefined,
    done,
    slot: -1,
  };
}
