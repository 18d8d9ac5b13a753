// Jest globalSetup: one SQS endpoint for the whole test run, from sqs-streams/testing. It runs in
// Jest's own process before the test workers start, and they inherit the environment it sets.
// It is an ES module (.mjs), which Jest imports natively: that is what lets it start fauxqs.
import { startSqs } from 'sqs-streams/testing';

export default async function globalSetup() {
  // With SQS_ENDPOINT set (LocalStack, a real queue), startSqs() uses it; else it starts fauxqs.
  const sqs = await startSqs();
  globalThis.__SQS__ = sqs; // for globalTeardown, which runs in this same process
  if (!sqs.emulator) return;
  process.env.SQS_ENDPOINT = sqs.endpoint; // startSqs() in the tests uses it
  process.env.AWS_REGION ??= 'us-east-1';
  // For code under test that makes its own client: an emulator accepts any credentials.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
}
