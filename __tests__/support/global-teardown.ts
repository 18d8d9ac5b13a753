// Jest globalTeardown of the integration project: stops what globalSetup started.
import type { SqsEndpoint } from './sqs-endpoint';
import { ENDPOINT_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const store = globalThis as Record<string, unknown>;
  const endpoint = store[ENDPOINT_KEY] as SqsEndpoint | undefined;
  delete store[ENDPOINT_KEY];
  await endpoint?.stop();
}
