import type { Config } from 'jest';

// `.js` suffixes in relative imports are real for the NodeNext build; Jest resolves the `.ts` source.
// Examples import the `sqs-streams/testing` and `/otel` subpaths as a user would: here, their source.
const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^sqs-streams/testing$': '<rootDir>/lib/testing.ts',
    '^sqs-streams/otel$': '<rootDir>/lib/otel.ts',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/setup-matchers.ts'],
} satisfies Config;

const config: Config = {
  // Two cores: one worker per core keeps a fauxqs server and the tests from starving each other.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/__tests__/support/summary-reporter.cjs'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/integration/**/*.test.ts'],
      setupFilesAfterEnv: [
        ...shared.setupFilesAfterEnv,
        '<rootDir>/__tests__/support/integration-setup.ts',
      ],
      // Starts one SQS endpoint for the whole run and publishes it to the workers (docs/testing.md).
      globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
      globalTeardown: '<rootDir>/__tests__/support/global-teardown.ts',
    },
    {
      ...shared,
      displayName: 'reliability',
      testMatch: ['<rootDir>/__tests__/reliability/**/*.test.ts'],
      // Faults, crashes and visibility timeouts run in real time (docs/reliability.md). Jest 30
      // ignores a project's `testTimeout` (only the global one counts): the setup file sets it.
      setupFilesAfterEnv: [
        ...shared.setupFilesAfterEnv,
        '<rootDir>/__tests__/support/reliability-setup.ts',
      ],
      globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
      globalTeardown: '<rootDir>/__tests__/support/global-teardown.ts',
    },
  ],
};

export default config;
