// Jest globalSetup: one SQS emulator (fauxqs, in Jest's own process) for the whole test run.
// It runs before the test workers start, and they inherit the environment it sets.
// fauxqs is ESM-only, so this file is an ES module (.mjs): Jest imports it natively.
import { startFauxqs } from 'fauxqs';

export default async function globalSetup() {
  if (process.env.SQS_ENDPOINT) return; // LocalStack or a real queue was given: use it
  const server = await startFauxqs({ port: 0, logger: false });
  globalThis.__FAUXQS__ = server; // for globalTeardown, which runs in this same process
  process.env.SQS_ENDPOINT = `http://127.0.0.1:${server.port}`;
  process.env.AWS_REGION ??= 'us-east-1';
  // An emulator accepts any credentials, but the SDK needs some.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
}
