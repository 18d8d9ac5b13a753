// setupFilesAfterEnv of the reliability project. Jest 30 reads `testTimeout` from the global
// config only (a project's own `testTimeout` is ignored), so the project sets its timeout here.
// Faults, crashes and visibility timeouts run in real time: each test is bounded in itself.
jest.setTimeout(120_000);
