// ES module entry of `sqs-streams/otel`: re-exports the CommonJS build, so `import` and
// `require` share one set of channel subscriptions and one copy of the error classes.
export { instrumentSqsStreams } from './otel.js';
export type * from './otel.js';
