// The package's main entry: the public names of DESIGN.md, from the folder entries.
export { SqsReadable, STOP_GRACE_MS } from './receive/index.js';
export type { SqsReadableOptions, EmptyBackoffOptions, SqsReadableStats } from './receive/index.js';
export { SqsMessage, SqsAckWritable } from './settle/index.js';
export type { MessageState, SqsAckWritableOptions } from './settle/index.js';
export { SqsWritable } from './send/index.js';
export type { SqsWritableOptions, SendInput, SendChunk, SqsWritableStats } from './send/index.js';
export { createSqsClient } from './core/client.js';
export type { QueueStreamOptions } from './core/queue-stream-options.js';
export type { RetryOptions } from './core/retry.js';
export {
  SqsStreamError,
  QueueDoesNotExistError,
  AccessDeniedError,
  MessageTooLargeError,
  BatchEntryError,
} from './core/errors.js';
export type { SqsStreamErrorDetails } from './core/errors.js';
