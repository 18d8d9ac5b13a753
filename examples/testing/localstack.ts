// LocalStack in a container for a test run, with testcontainers (needs a Docker engine).
// Use it from a Jest globalSetup, or a `beforeAll` with a generous timeout (the first run pulls
// the image). testcontainers 11.x: version 12 does not load on Node 20.
import { LocalstackContainer, type StartedLocalStackContainer } from '@testcontainers/localstack';

let localstack: StartedLocalStackContainer | undefined;

/** Starts LocalStack (SQS only) and points `SQS_ENDPOINT` at it. */
export async function startLocalStack(): Promise<string> {
  localstack = await new LocalstackContainer('localstack/localstack:4.4.0')
    .withEnvironment({ SERVICES: 'sqs' })
    .start();
  process.env.SQS_ENDPOINT = localstack.getConnectionUri();
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test'; // LocalStack accepts any credentials
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  return process.env.SQS_ENDPOINT;
}

export async function stopLocalStack(): Promise<void> {
  await localstack?.stop();
  localstack = undefined;
}
