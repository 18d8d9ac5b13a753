/** The send path: SqsWritable, its input checks, batch planning and the send requests. */
export { SqsWritable } from './sqs-writable.js';
export type { SqsWritableOptions, SendInput, SendChunk, SqsWritableStats } from './sqs-writable.js';
