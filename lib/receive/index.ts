/** The receive path: SqsReadable, its options, its demand rule and its stats. */
export { SqsReadable, STOP_GRACE_MS } from './sqs-readable.js';
export type { SqsReadableOptions, EmptyBackoffOptions } from './readable-options.js';
export type { SqsReadableStats } from './readable-stats.js';
