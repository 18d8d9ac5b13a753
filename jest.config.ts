import type { Config } from 'jest';

// `.js` suffixes in relative imports are real for the NodeNext build; Jest resolves the `.ts` source.
const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/setup-matchers.ts'],
} satisfies Config;

const config: Config = {
  // Two cores: one worker per core keeps a fauxqs server and the tests from starving each other.
  maxWorkers: 2,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/integration/**/*.test.ts'],
      testTimeout: 60_000,
    },
  ],
};

export default config;
