export { SqsReadable, STOP_GRACE_MS } from './readable.js';
export { createSqsClient } from './client.js';
export type { SqsReadableOptions, EmptyBackoffOptions } from './readable-options.js';
export { SqsMessage } from './message.js';
export type { MessageState } from './message.js';
export { SqsAckWritable } from './ack-writable.js';
export type { SqsAckWritableOptions } from './ack-writable.js';
export { SqsWritable } from './writable.js';
export type { SqsWritableOptions, SendInput, SendChunk, SqsWritableStats } from './writable.js';
export type { SqsReadableStats } from './stats.js';
export type { QueueStreamOptions } from './queue-stream-options.js';
export type { RetryOptions } from './retry.js';
export {
  SqsStreamError,
  QueueDoesNotExistError,
  AccessDeniedError,
  MessageTooLargeError,
  BatchEntryError,
} from './errors.js';
export type { SqsStreamErrorDetails } from './errors.js';
