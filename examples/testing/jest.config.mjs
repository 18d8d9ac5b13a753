// The Jest configuration of a project whose tests use SQS: TypeScript through ts-jest, and the
// emulator from global-setup.mjs for the whole run.
export default {
  preset: 'ts-jest',
  testEnvironment: 'node',
  globalSetup: '<rootDir>/global-setup.mjs',
  globalTeardown: '<rootDir>/global-teardown.mjs',
  testTimeout: 30_000, // long polls and visibility timeouts take seconds, not milliseconds
};
