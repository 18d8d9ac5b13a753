import type { SQSClientConfig } from '@aws-sdk/client-sqs';
// No `.js` suffix, unlike elsewhere: this file is also loaded by plain `require` (Jest's
// globalSetup, ts-node for scripts), where nothing maps `./x.js` to the `./x.ts` source.
import { startFauxqsServer, type FauxqsMode } from './fauxqs-launcher';

/**
 * Which SQS the integration suite talks to. `env`: the one `SQS_ENDPOINT` names (real AWS or
 * any LocalStack); `localstack`: a LocalStack container started through testcontainers;
 * `fauxqs`: the embedded emulator on a free loopback port.
 */
export type SqsEndpointKind = 'env' | 'localstack' | 'fauxqs';

/** Static credentials for local endpoints (LocalStack and fauxqs accept any). */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A running (or external) SQS endpoint. */
export interface SqsEndpoint {
  /** Base URL to give SQSClient as `endpoint`. */
  readonly endpoint: string;
  readonly kind: SqsEndpointKind;
  readonly region: string;
  /** Static credentials for a local endpoint; `undefined`: the SDK's default chain. */
  readonly credentials?: StaticCredentials;
  /** How long deciding whether Docker answers took, in ms (module loading included); 0 for `env`. */
  readonly detectMs: number;
  /** Stops what the harness started (nothing for `env`). Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startSqsEndpoint}. */
export interface StartSqsEndpointOptions {
  /** Environment to read `SQS_ENDPOINT`, `AWS_REGION`, ... from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where fauxqs runs. Default: `SQS_TEST_FAUXQS` or `in-process`. */
  fauxqs?: FauxqsMode;
  /** Look for Docker at all. Default: true unless `SQS_TEST_DOCKER=0` (fauxqs even with Docker). */
  docker?: boolean;
  /** Upper bound on the Docker probe, after testcontainers has loaded. Default 500 ms. */
  dockerProbeTimeoutMs?: number;
}

/** Environment variables through which globalSetup hands the endpoint to Jest workers. */
export const PUBLISHED_ENV = {
  endpoint: 'SQS_TEST_ENDPOINT',
  kind: 'SQS_TEST_KIND',
  region: 'SQS_TEST_REGION',
  /** `1` when the endpoint takes the static test credentials. */
  staticCredentials: 'SQS_TEST_STATIC_CREDENTIALS',
  detectMs: 'SQS_TEST_DETECT_MS',
} as const;

/** The endpoint as published to Jest workers (no `stop`: only globalTeardown stops it). */
export type PublishedSqsEndpoint = Omit<SqsEndpoint, 'stop'>;

export const TEST_CREDENTIALS: StaticCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };
export const DEFAULT_REGION = 'us-east-1';
/** Pinned: `latest` moves, and newer LocalStack images may want an auth token. */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4.4.0';

const LOCAL_HOSTNAMES = new Set([
  'localhost',
  '127.0.0.1',
  '[::1]',
  '0.0.0.0',
  'host.docker.internal',
]);

/** True when `url` points at this machine (LocalStack, fauxqs): static credentials apply. */
export function isLocalEndpoint(url: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    throw new Error(`SQS endpoint "${url}" is not a URL (e.g. http://localhost:4566)`);
  }
  return (
    LOCAL_HOSTNAMES.has(hostname) ||
    hostname.endsWith('.localhost') ||
    hostname.endsWith('localhost.localstack.cloud')
  );
}

/**
 * Picks and starts the SQS endpoint: `SQS_ENDPOINT` if set; else LocalStack through
 * testcontainers when a Docker engine answers; else fauxqs on a free loopback port.
 * Usable from plain Node (CLI demo, benchmarks) and from Jest's globalSetup; not from inside a
 * Jest test, which reads the published endpoint instead ({@link readPublishedEndpoint}).
 */
export async function startSqsEndpoint(
  options: StartSqsEndpointOptions = {},
): Promise<SqsEndpoint> {
  const env = options.env ?? process.env;
  const fromEnv = endpointFromEnv(env);
  if (fromEnv) return { ...fromEnv, stop: async () => {} };
  const lookForDocker = options.docker ?? env['SQS_TEST_DOCKER'] !== '0';
  const probe = lookForDocker
    ? await dockerAnswers(options.dockerProbeTimeoutMs ?? 500)
    : { answers: false, ms: 0 };
  if (probe.answers) return { ...(await startLocalstack(env)), detectMs: probe.ms };
  const mode = options.fauxqs ?? fauxqsModeFrom(env);
  const server = await startFauxqsServer(mode);
  return {
    endpoint: server.endpoint,
    kind: 'fauxqs',
    region: DEFAULT_REGION,
    credentials: TEST_CREDENTIALS,
    detectMs: probe.ms,
    stop: () => server.stop(),
  };
}

/** The endpoint `SQS_ENDPOINT` names, if set: region from `AWS_REGION`, else us-east-1. */
function endpointFromEnv(env: NodeJS.ProcessEnv): PublishedSqsEndpoint | undefined {
  const endpoint = env['SQS_ENDPOINT'];
  if (!endpoint) return undefined;
  return {
    endpoint,
    kind: 'env',
    region: env['AWS_REGION'] || DEFAULT_REGION,
    // A local endpoint takes any key; a remote one gets the SDK's default chain.
    ...(isLocalEndpoint(endpoint) ? { credentials: TEST_CREDENTIALS } : {}),
    detectMs: 0,
  };
}

/**
 * Whether a Docker engine answers, decided by testcontainers' own strategies. Without Docker
 * `getContainerRuntimeClient()` fails within milliseconds; the timeout bounds an engine that
 * exists but hangs. `ms` includes loading testcontainers (most of it).
 */
export async function dockerAnswers(timeoutMs = 500): Promise<{ answers: boolean; ms: number }> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Docker probe timed out')), timeoutMs);
    });
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return { answers: true, ms: elapsed() };
  } catch {
    return { answers: false, ms: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

async function startLocalstack(env: NodeJS.ProcessEnv): Promise<Omit<SqsEndpoint, 'detectMs'>> {
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const image = env['SQS_TEST_LOCALSTACK_IMAGE'] || LOCALSTACK_IMAGE;
  const container = await new LocalstackContainer(image)
    .withEnvironment({ SERVICES: 'sqs' })
    .start()
    .catch((error: unknown) => {
      throw new Error(
        `Docker answers but LocalStack (${image}) did not start. Set SQS_TEST_DOCKER=0 to use ` +
          'the embedded fauxqs, or SQS_ENDPOINT to use another endpoint.',
        { cause: error },
      );
    });
  let stopped: Promise<void> | undefined;
  return {
    endpoint: container.getConnectionUri(),
    kind: 'localstack',
    region: DEFAULT_REGION,
    credentials: TEST_CREDENTIALS,
    stop: () => (stopped ??= container.stop().then(() => undefined)),
  };
}

function fauxqsModeFrom(env: NodeJS.ProcessEnv): FauxqsMode {
  const mode = env['SQS_TEST_FAUXQS'];
  if (mode === undefined || mode === '' || mode === 'in-process') return 'in-process';
  if (mode === 'child-process' || mode === 'child') return 'child-process';
  throw new Error(`SQS_TEST_FAUXQS must be "in-process" or "child-process", not "${mode}"`);
}

/** SQSClient configuration for `endpoint` (explicit endpoint: fauxqs' queue URL hosts do not resolve). */
export function sqsClientConfig(endpoint: PublishedSqsEndpoint): SQSClientConfig {
  return {
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    ...(endpoint.credentials ? { credentials: endpoint.credentials } : {}),
  };
}

/** Writes `endpoint` into `env` (globalSetup: `process.env`, inherited by the Jest workers). */
export function publishEndpoint(endpoint: PublishedSqsEndpoint, env = process.env): void {
  env[PUBLISHED_ENV.endpoint] = endpoint.endpoint;
  env[PUBLISHED_ENV.kind] = endpoint.kind;
  env[PUBLISHED_ENV.region] = endpoint.region;
  env[PUBLISHED_ENV.staticCredentials] = endpoint.credentials ? '1' : '0';
  env[PUBLISHED_ENV.detectMs] = String(endpoint.detectMs);
}

/**
 * The endpoint globalSetup published. Without one (a test run outside the integration
 * project), falls back to `SQS_ENDPOINT`; else throws, saying how to run the suite.
 */
export function readPublishedEndpoint(env = process.env): PublishedSqsEndpoint {
  const endpoint = env[PUBLISHED_ENV.endpoint];
  if (!endpoint) {
    const fromEnv = endpointFromEnv(env);
    if (fromEnv) return fromEnv;
    throw new Error(
      `No SQS endpoint published (${PUBLISHED_ENV.endpoint} is unset): run integration tests ` +
        'through the Jest "integration" project (its globalSetup starts one), or set SQS_ENDPOINT.',
    );
  }
  const kind = env[PUBLISHED_ENV.kind];
  if (kind !== 'env' && kind !== 'localstack' && kind !== 'fauxqs') {
    throw new Error(`${PUBLISHED_ENV.kind} is "${kind ?? ''}", expected env, localstack or fauxqs`);
  }
  return {
    endpoint,
    kind,
    region: env[PUBLISHED_ENV.region] || DEFAULT_REGION,
    ...(env[PUBLISHED_ENV.staticCredentials] === '1' ? { credentials: TEST_CREDENTIALS } : {}),
    detectMs: Number(env[PUBLISHED_ENV.detectMs] ?? 0),
  };
}
