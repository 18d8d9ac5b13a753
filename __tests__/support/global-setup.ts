// Jest globalSetup of the integration project. Runs in Jest's parent process, where a native
// `import()` of the ESM-only fauxqs works; the workers, started after this, inherit the
// endpoint through process.env.
//
// Jest loads this file with a plain `require` (no moduleNameMapper), which cannot map `.js`
// to a `.ts` source: so, unlike everywhere else, this import has no extension.
import { publishEndpoint, startSqsEndpoint, type SqsEndpoint } from './sqs-endpoint';

/** Where globalTeardown finds the endpoint (same process; Jest may load the modules afresh). */
export const ENDPOINT_KEY = '__sqsStreamsTestEndpoint';

export default async function globalSetup(): Promise<void> {
  // The SDK warns once per process that its 2027 releases will need Node 22; in every worker of
  // every run that is noise (engines says >= 20). Inherited by the workers like the endpoint.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const store = globalThis as Record<string, unknown>;
  // Several projects (integration, reliability) share this file; one endpoint serves them all.
  if (store[ENDPOINT_KEY]) return;
  const endpoint: SqsEndpoint = await startSqsEndpoint();
  publishEndpoint(endpoint);
  store[ENDPOINT_KEY] = endpoint;
}
