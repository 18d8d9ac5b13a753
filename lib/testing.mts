// ES module entry of `sqs-streams/testing`: re-exports the CommonJS build, like index.mts, so
// `import` and `require` share one copy of it.
export { startSqs } from './testing.js';
export type * from './testing.js';
