// ES module entry: re-exports the CommonJS build so `import` and `require` share one copy of
// each class (an error thrown by one is `instanceof` the other's class).
export {
  SqsReadable,
  STOP_GRACE_MS,
  createSqsClient,
  SqsMessage,
  SqsAckWritable,
  SqsProcessor,
  SchemaValidationError,
  SqsWritable,
  SqsStreamError,
  QueueDoesNotExistError,
  AccessDeniedError,
  MessageTooLargeError,
  BatchEntryError,
  PayloadError,
} from './index.js';
export type * from './index.js';
