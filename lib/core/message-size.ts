import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * How SQS measures a message, shared by the send path (its limits) and the large-payload path
 * (its threshold and the pointer message).
 */

/**
 * SQS's largest message in bytes: 1 MiB since SQS raised it from 256 KiB (262,144 bytes) in
 * 2025. A queue can set a lower `MaximumMessageSize`.
 */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** Most message attributes on one message. */
export const SQS_MAX_ATTRIBUTES = 10;

/** Body bytes plus, per attribute, the bytes of its name, its type and its value. */
export function messageSize(
  body: string,
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, attribute] of Object.entries(attributes ?? {})) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attribute.DataType ?? '', 'utf8');
    if (attribute.StringValue !== undefined)
      size += Buffer.byteLength(attribute.StringValue, 'utf8');
    if (attribute.BinaryValue !== undefined) size += attribute.BinaryValue.byteLength;
  }
  return size;
}
