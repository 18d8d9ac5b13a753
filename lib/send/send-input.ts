import type { MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { MessageTooLargeError } from '../core/errors.js';
import { injectChannel } from '../core/diagnostics.js';
import { messageSize, SQS_MAX_ATTRIBUTES } from '../core/message-size.js';
import { isPlainObject, show } from '../core/validate.js';

/**
 * What {@link SqsWritable} accepts, and how one write becomes one SendMessageBatch entry:
 * checked, serialised and measured once, when it is written, so a bad or oversize message is
 * an error before any request is made for it.
 */

/**
 * SQS's largest SendMessageBatch payload (the sum of its messages), in bytes: 1 MiB, like its
 * largest message. A queue can set a lower `MaximumMessageSize`; pass that as `maxMessageBytes`.
 */
export const SQS_MAX_BATCH_BYTES = 1_048_576;
/** Longest per-message delay SQS allows, in seconds (15 minutes). */
export const SQS_MAX_DELAY_SECONDS = 900;
// The size rule and the limits live in core: the large-payload path measures messages too.
export { messageSize, SQS_MAX_ATTRIBUTES, SQS_MAX_MESSAGE_BYTES } from '../core/message-size.js';

/** One message to send, as an object. A plain string written to the stream is its body. */
export interface SendInput {
  /**
   * The message body. A string is sent as it is; anything else is sent as `JSON.stringify(body)`.
   * It must not be empty.
   */
  body: unknown;
  /** Seconds (0 to 900) before the message becomes visible. Standard queues only. */
  delaySeconds?: number;
  /** SQS message attributes (at most 10). Their names, types and values count towards the size. */
  messageAttributes?: Record<string, MessageAttributeValue>;
  /**
   * Message group: required on FIFO queues (order is kept per group); on a standard queue it
   * makes the queue a fair queue.
   */
  groupId?: string;
  /**
   * FIFO only: SQS drops a message with the same id sent within 5 minutes. Without it the queue
   * must have content-based deduplication enabled.
   */
  deduplicationId?: string;
}

/** What may be written to an {@link SqsWritable}: a string body, or a {@link SendInput}. */
export type SendChunk = string | SendInput;

/** A written message, ready to be a batch entry. */
export interface PreparedMessage {
  /** Position of the write in the stream, from 0; error messages call it "message #index". */
  index: number;
  /** The entry without its `Id` (ids are given per request). */
  entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  /** Size as SQS counts it: body plus attribute names, types and values, in bytes. */
  size: number;
  /** The message group, when there is one. */
  groupId: string | undefined;
}

export interface PrepareContext {
  /** Whether the queue is a FIFO queue. */
  fifo: boolean;
  /** The queue, for error messages. */
  queue: string;
  /** Largest message accepted, in bytes. */
  maxMessageBytes: number;
}

// Characters SQS accepts in a body: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
// #x10000 to #x10FFFF. With the `u` flag a lone surrogate is one code point, and not allowed.
const INVALID_BODY_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// Group and deduplication ids: 1 to 128 of alphanumeric and punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~).
const ID_PATTERN = /^[\x21-\x7E]{1,128}$/;

function fieldError(index: number, field: string, expected: string, value: unknown): TypeError {
  return new TypeError(
    `Expected \`${field}\` of message #${index} to be ${expected}, got ${show(value)}`,
  );
}

function serializeBody(body: unknown, index: number): string {
  if (typeof body === 'string') return body;
  let json: string | undefined;
  try {
    json = JSON.stringify(body) as string | undefined;
  } catch (error) {
    // The JSON error can quote parts of the body: keep it as `cause`, out of the message.
    throw new TypeError(
      `Expected \`body\` of message #${index} to be a string or JSON-serialisable, but JSON.stringify failed (a circular reference, a BigInt or a throwing toJSON?)`,
      { cause: error },
    );
  }
  if (json === undefined)
    throw fieldError(index, 'body', 'a string or JSON-serialisable value', body);
  return json;
}

function checkBody(body: string, index: number): void {
  if (body.length === 0) {
    throw new TypeError(
      `Expected \`body\` of message #${index} to be non-empty; SQS does not accept an empty body`,
    );
  }
  const bad = INVALID_BODY_CHAR.exec(body);
  if (bad !== null) {
    const codePoint = (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    throw new TypeError(
      `Expected \`body\` of message #${index} to hold only characters SQS allows (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF), found U+${codePoint}; encode binary data, e.g. as base64`,
    );
  }
}

function copyAttributes(
  value: unknown,
  index: number,
): Record<string, MessageAttributeValue> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw fieldError(index, 'messageAttributes', 'an object', value);
  const names = Object.keys(value);
  if (names.length > SQS_MAX_ATTRIBUTES) {
    throw new RangeError(
      `Expected \`messageAttributes\` of message #${index} to have at most ${SQS_MAX_ATTRIBUTES} attributes, got ${names.length}`,
    );
  }
  const copy: Record<string, MessageAttributeValue> = {};
  for (const name of names) {
    const field = `messageAttributes.${name}`;
    const attribute = value[name];
    if (
      !isPlainObject(attribute) ||
      typeof attribute.DataType !== 'string' ||
      attribute.DataType === ''
    ) {
      throw fieldError(
        index,
        field,
        'an object with a `DataType` (String, Number or Binary)',
        attribute,
      );
    }
    const type = attribute.DataType;
    if (/^(String|Number)(\..+)?$/.test(type)) {
      if (typeof attribute.StringValue !== 'string' || attribute.StringValue === '') {
        throw fieldError(
          index,
          `${field}.StringValue`,
          `a non-empty string (DataType ${type})`,
          attribute.StringValue,
        );
      }
      copy[name] = { DataType: type, StringValue: attribute.StringValue };
    } else if (/^Binary(\..+)?$/.test(type)) {
      if (
        !(attribute.BinaryValue instanceof Uint8Array) ||
        attribute.BinaryValue.byteLength === 0
      ) {
        throw fieldError(
          index,
          `${field}.BinaryValue`,
          'a non-empty Uint8Array or Buffer',
          attribute.BinaryValue,
        );
      }
      copy[name] = { DataType: type, BinaryValue: attribute.BinaryValue };
    } else {
      throw fieldError(
        index,
        `${field}.DataType`,
        '`String`, `Number` or `Binary` (optionally `.label`)',
        type,
      );
    }
  }
  return names.length === 0 ? undefined : copy;
}

function idOption(value: unknown, index: number, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw fieldError(index, field, 'a string of 1 to 128 letters, digits or punctuation', value);
  }
  return value;
}

/**
 * Checks a written chunk and turns it into a batch entry. Throws a TypeError or RangeError naming
 * the message's index and the field, or a {@link MessageTooLargeError}; the caller turns that
 * into the write's error.
 */
export function prepareMessage(
  chunk: unknown,
  index: number,
  context: PrepareContext,
): PreparedMessage {
  let input: Record<string, unknown>;
  if (typeof chunk === 'string') {
    input = { body: chunk };
  } else if (isPlainObject(chunk) && !(chunk instanceof Uint8Array) && 'body' in chunk) {
    input = chunk;
  } else {
    const got =
      isPlainObject(chunk) && !(chunk instanceof Uint8Array)
        ? 'an object without `body`'
        : show(chunk);
    throw new TypeError(
      `Expected message #${index} to be a string or an object with a \`body\`, got ${got}`,
    );
  }
  const body = serializeBody(input.body, index);
  checkBody(body, index);

  const { fifo } = context;
  let delaySeconds: number | undefined;
  if (input.delaySeconds !== undefined) {
    const value = input.delaySeconds;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < 0 ||
      value > SQS_MAX_DELAY_SECONDS
    ) {
      const error = fieldError(
        index,
        'delaySeconds',
        `an integer from 0 to ${SQS_MAX_DELAY_SECONDS}`,
        value,
      );
      throw typeof value === 'number' ? new RangeError(error.message) : error;
    }
    if (fifo && value !== 0) {
      throw new TypeError(
        `Expected no \`delaySeconds\` on message #${index}: FIFO queue \`${context.queue}\` does not support per-message delays; set the queue's DelaySeconds attribute instead`,
      );
    }
    if (!fifo) delaySeconds = value;
  }

  const groupId = idOption(input.groupId, index, 'groupId');
  if (fifo && groupId === undefined) {
    throw new TypeError(
      `Expected \`groupId\` on message #${index}: queue \`${context.queue}\` is a FIFO queue and SQS needs a message group for each message (order is kept per group)`,
    );
  }
  const deduplicationId = idOption(input.deduplicationId, index, 'deduplicationId');
  if (!fifo && deduplicationId !== undefined) {
    throw new TypeError(
      `Expected no \`deduplicationId\` on message #${index}: queue \`${context.queue}\` is a standard queue, which does not deduplicate; use a .fifo queue or drop the field`,
    );
  }

  let messageAttributes = copyAttributes(input.messageAttributes, index);
  if (injectChannel.hasSubscribers) {
    // Tracing context (a `traceparent`) goes into the attributes before the size is checked.
    const attributes = messageAttributes ?? {};
    injectChannel.publish({ queueUrl: context.queue, messageAttributes: attributes });
    if (Object.keys(attributes).length > 0) messageAttributes = attributes;
  }
  const size = messageSize(body, messageAttributes);
  if (size > context.maxMessageBytes) {
    throw new MessageTooLargeError(
      `Message #${index} is ${size} bytes (body plus attributes), over the limit of ${context.maxMessageBytes} bytes; it was not sent. Make it smaller, or store the payload elsewhere (e.g. S3) and send a reference`,
      size,
      context.maxMessageBytes,
      { operation: 'SendMessageBatch', queue: context.queue },
    );
  }

  const entry: Omit<SendMessageBatchRequestEntry, 'Id'> = { MessageBody: body };
  if (delaySeconds !== undefined) entry.DelaySeconds = delaySeconds;
  if (messageAttributes !== undefined) entry.MessageAttributes = messageAttributes;
  if (groupId !== undefined) entry.MessageGroupId = groupId;
  if (deduplicationId !== undefined) entry.MessageDeduplicationId = deduplicationId;
  return { index, entry, size, groupId };
}
