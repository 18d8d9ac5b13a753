import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { SqsStreamError } from '../core/errors.js';

/**
 * What a message's settle methods call. One per stream: it batches the requests and tracks
 * which messages are still held (for heartbeats and release).
 */
export interface MessageSettler {
  ack(message: SqsMessage): Promise<void>;
  nack(message: SqsMessage, delaySeconds: number): Promise<void>;
  extend(message: SqsMessage, seconds: number): Promise<void>;
}

let readSettler: (message: SqsMessage) => MessageSettler;

/** The settler a message was received with (for sinks that batch through it). */
export function settlerOf(message: SqsMessage): MessageSettler {
  return readSettler(message);
}

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
  /** The SDK's message, untouched. */
  readonly raw: Message;
  /** The queue it came from. */
  readonly queueUrl: string;
  /** When this consumer received it (ms since the epoch). */
  readonly receivedAt: number;

  #settler: MessageSettler;
  static {
    readSettler = (message) => message.#settler;
  }
  #settled: Promise<void> | undefined;
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
   */
  ack(): Promise<void> {
    if (this.#state === 'released') {
      // Resolving would claim a delete that never happened; the message will be redelivered.
      return Promise.reject(
        new SqsStreamError(
          `Message ${this.messageId} was released (made visible again) when its stream was destroyed, so it was not deleted and will be delivered again; make processing idempotent or settle messages before destroying the stream`,
          { operation: 'DeleteMessageBatch', queue: this.queueUrl, messageId: this.messageId },
        ),
      );
    }
    if (this.#settled === undefined) {
      this.#state = 'acked';
      this.#settled = this.#settler.ack(this);
    }
    return this.#settled;
  }

  /**
   * Gives the message back: visible again after `delaySeconds` (0-43200, default 0), so it is
   * redelivered, to this consumer or another.
   */
  nack(delaySeconds = 0): Promise<void> {
    if (this.#settled === undefined) {
      if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 43_200) {
        return Promise.reject(
          new RangeError(
            `Expected \`delaySeconds\` to be an integer from 0 to 43200, got \`${String(delaySeconds)}\``,
          ),
        );
      }
      this.#state = 'nacked';
      this.#settled = this.#settler.nack(this, delaySeconds);
    }
    return this.#settled;
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

  /** @internal The stream released it (visibility 0) on destroy. */
  markReleased(settled: Promise<void>): void {
    if (this.#settled !== undefined) return;
    this.#state = 'released';
    this.#settled = settled;
  }

  /** Keeps the receipt handle (a credential for this message) and the body out of logs. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SqsMessage { messageId: '${this.messageId}', receiveCount: ${this.receiveCount}, bodyLength: ${this.body.length}, state: '${this.#state}' }`;
  }
}
