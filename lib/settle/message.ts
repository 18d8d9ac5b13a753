import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { SqsStreamError } from '../core/errors.js';
import type { SlotAccess } from '../core/slot-set.js';
import { Settlement, type SettleCallback } from './settlement.js';

/**
 * What a message's settle methods call. One per stream: it batches the requests and tracks
 * which messages are still held (for heartbeats and release). An ack or nack ends `settlement`.
 */
export interface MessageSettler {
  ack(message: SqsMessage, settlement: Settlement): void;
  nack(message: SqsMessage, delaySeconds: number, settlement: Settlement): void;
  extend(message: SqsMessage, seconds: number): Promise<void>;
}

let readSettler: (message: SqsMessage) => MessageSettler;

/** The settler a message was received with (for sinks that batch through it). */
export function settlerOf(message: SqsMessage): MessageSettler {
  return readSettler(message);
}

let ackFromSink: (message: SqsMessage, callback: SettleCallback | undefined) => void;

/**
 * `message.ack()` for a sink that reports the outcome itself (through `callback`, or a later call
 * with one): no promise is made for it, and none the message hands out is an unhandled rejection.
 */
export function ackReported(message: SqsMessage, callback?: SettleCallback): void {
  ackFromSink(message, callback);
}

/** Where the body of a large-payload message was stored: an S3 object. */
export interface MessagePayload {
  /** The S3 bucket. */
  readonly bucket: string;
  /** The object's key. */
  readonly key: string;
}

/** @internal What the large-payload step puts on a message before it is delivered. */
export interface ResolvedPayload {
  /** The S3 object's content: the message's real body. */
  body: string;
  /** The attributes without the size marker. */
  messageAttributes: Record<string, MessageAttributeValue>;
  payload: MessagePayload;
  /** Runs once the delete is confirmed; `ack()` resolves after it (never rejects). */
  afterAck: (() => Promise<void>) | undefined;
}

let applyPayload: (message: SqsMessage, resolved: ResolvedPayload) => void;

/** @internal Replaces a pointer message's body by its payload, before the message is delivered. */
export function setPayload(message: SqsMessage, resolved: ResolvedPayload): void {
  applyPayload(message, resolved);
}

/**
 * @internal A message's place in the sets that hold it (core/slot-set.ts): its tracker's held
 * messages, its heartbeat's fresh ones, and a processor's written and settling ones.
 */
export let heldSlot: SlotAccess<SqsMessage>;
export let freshSlot: SlotAccess<SqsMessage>;
export let writtenSlot: SlotAccess<SqsMessage>;
export let settlingSlot: SlotAccess<SqsMessage>;

const NO_ATTRIBUTES: Readonly<Record<string, never>> = Object.freeze({});

/** Where a message stands: held by this consumer, or settled one way or the other. */
export type MessageState = 'held' | 'acked' | 'nacked' | 'released';

/**
 * One received message. `ack()` deletes it, `nack()` makes it visible again, `extend()` keeps it
 * invisible longer. A message is settled once: a second `ack()`/`nack()` returns the first
 * settle's promise and makes no request.
 */
export class SqsMessage {
  /** SQS's id for the message. */
  readonly messageId: string;
  /** The body, as sent. */
  readonly body: string;
  /** The handle this receive got; needed to delete or change visibility. Keep it out of logs. */
  readonly receiptHandle: string;
  /** System attributes (`ApproximateReceiveCount`, `SentTimestamp`, `MessageGroupId`, ...). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The sender's message attributes. */
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  /** How many times SQS has delivered this message, this delivery included. */
  readonly receiveCount: number;
  /**
   * For a message whose body was stored in S3 (`largePayloads` on the stream), where: `body` is
   * then that object's content, `raw` still has the pointer. Otherwise `undefined`.
   */
  readonly payload: MessagePayload | undefined;
  /** The SDK's message, untouched. */
  readonly raw: Message;
  /** The queue it came from. */
  readonly queueUrl: string;
  /** When this consumer received it (ms since the epoch). */
  readonly receivedAt: number;

  #settler: MessageSettler;
  #afterAck: (() => Promise<void>) | undefined;
  #heldSlot = -1;
  #freshSlot = -1;
  #writtenSlot = -1;
  #settlingSlot = -1;
  static {
    readSettler = (message) => message.#settler;
    heldSlot = { get: (m) => m.#heldSlot, set: (m, slot) => (m.#heldSlot = slot) };
    freshSlot = { get: (m) => m.#freshSlot, set: (m, slot) => (m.#freshSlot = slot) };
    writtenSlot = { get: (m) => m.#writtenSlot, set: (m, slot) => (m.#writtenSlot = slot) };
    settlingSlot = { get: (m) => m.#settlingSlot, set: (m, slot) => (m.#settlingSlot = slot) };
    ackFromSink = (message, callback) => {
      if (message.#state === 'released') {
        callback?.(message.#releasedError());
        return;
      }
      const settlement = message.#ack();
      settlement.markReported();
      if (callback !== undefined) settlement.onDone(callback);
    };
    applyPayload = (message, resolved) => {
      const writable = message as { body: string; messageAttributes: unknown; payload: unknown };
      writable.body = resolved.body;
      writable.messageAttributes = resolved.messageAttributes;
      writable.payload = resolved.payload;
      message.#afterAck = resolved.afterAck;
    };
  }
  #settlement: Settlement | undefined;
  #state: MessageState = 'held';

  constructor(raw: Message, queueUrl: string, settler: MessageSettler, receivedAt = Date.now()) {
    if (raw.MessageId === undefined || raw.ReceiptHandle === undefined) {
      throw new TypeError('ReceiveMessage returned a message without MessageId or ReceiptHandle');
    }
    this.messageId = raw.MessageId;
    this.body = raw.Body ?? '';
    this.receiptHandle = raw.ReceiptHandle;
    // The SDK's own objects, not copies: two object spreads per message showed in profiles.
    this.attributes = raw.Attributes ?? NO_ATTRIBUTES;
    this.messageAttributes = raw.MessageAttributes ?? NO_ATTRIBUTES;
    const count = Number(raw.Attributes?.ApproximateReceiveCount);
    this.receiveCount = Number.isFinite(count) && count > 0 ? count : 1;
    this.payload = undefined;
    this.raw = raw;
    this.queueUrl = queueUrl;
    this.receivedAt = receivedAt;
    this.#settler = settler;
  }

  /** `'held'` until settled; `'released'` when its stream was destroyed before it was settled. */
  get state(): MessageState {
    return this.#state;
  }

  /** Whether `ack()`, `nack()` or a release already settled it. */
  get settled(): boolean {
    return this.#state !== 'held';
  }

  /**
   * Deletes the message. Batched with other acks (DeleteMessageBatch); resolves when SQS
   * confirmed the delete, rejects with an `SqsStreamError` naming the message if it could not.
   * A large payload's S3 object is deleted after that (`largePayloads.deleteFromS3`), before it
   * resolves.
   */
  ack(): Promise<void> {
    // Resolving would claim a delete that never happened; the message will be redelivered.
    if (this.#state === 'released') return Promise.reject(this.#releasedError());
    return this.#ack().promise();
  }

  /** The first settle's outcome; starts the delete if there was none. */
  #ack(): Settlement {
    if (this.#settlement !== undefined) return this.#settlement;
    this.#state = 'acked';
    const settlement = (this.#settlement = new Settlement());
    const afterAck = this.#afterAck;
    if (afterAck === undefined) {
      this.#settler.ack(this, settlement);
    } else {
      const deleted = new Settlement();
      this.#settler.ack(this, deleted);
      settlement.follow(deleted.promise().then(afterAck));
    }
    return settlement;
  }

  #releasedError(): SqsStreamError {
    return new SqsStreamError(
      `Message ${this.messageId} was released (made visible again) when its stream was destroyed, so it was not deleted and will be delivered again; make processing idempotent or settle messages before destroying the stream`,
      { operation: 'DeleteMessageBatch', queue: this.queueUrl, messageId: this.messageId },
    );
  }

  /**
   * Gives the message back: visible again after `delaySeconds` (0-43200, default 0), so it is
   * redelivered, to this consumer or another.
   */
  nack(delaySeconds = 0): Promise<void> {
    if (this.#settlement === undefined) {
      if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 43_200) {
        return Promise.reject(
          new RangeError(
            `Expected \`delaySeconds\` to be an integer from 0 to 43200, got \`${String(delaySeconds)}\``,
          ),
        );
      }
      this.#state = 'nacked';
      this.#settlement = new Settlement();
      this.#settler.nack(this, delaySeconds, this.#settlement);
    }
    return this.#settlement.promise();
  }

  /**
   * Keeps the message invisible for `seconds` more from now (ChangeMessageVisibility, batched).
   * The heartbeat does this by itself for held messages; call it to ask for a specific time.
   */
  extend(seconds: number): Promise<void> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
      return Promise.reject(
        new RangeError(
          `Expected \`seconds\` to be an integer from 0 to 43200, got \`${String(seconds)}\``,
        ),
      );
    }
    return this.#settler.extend(this, seconds);
  }

  /** @internal The stream released it (visibility 0) on destroy; `nack()` gives that outcome. */
  markReleased(settlement: Settlement): void {
    if (this.#settlement !== undefined) return;
    this.#state = 'released';
    this.#settlement = settlement;
  }

  /**
   * `JSON.stringify(message)` (a logger, a tracing context) gives what identifies the message,
   * never its body or receipt handle; read `body` itself to serialise the content.
   */
  toJSON(): { messageId: string; queueUrl: string; receiveCount: number; state: MessageState } {
    return {
      messageId: this.messageId,
      queueUrl: this.queueUrl,
      receiveCount: this.receiveCount,
      state: this.#state,
    };
  }

  /** Keeps the receipt handle (a credential for this message) and the body out of logs. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SqsMessage { messageId: '${this.messageId}', receiveCount: ${this.receiveCount}, bodyLength: ${this.body.length}, state: '${this.#state}' }`;
  }
}
