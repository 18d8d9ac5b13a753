// Jest 30 ignores a project's `testTimeout`: integration tests talk to a real endpoint (long
// polls, visibility timeouts), so they get a minute here instead of the 5 s default.
jest.setTimeout(60_000);
