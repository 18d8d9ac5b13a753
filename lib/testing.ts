/**
 * `sqs-streams/testing`: a real SQS API for the tests of your own pipelines, with no Docker.
 * {@link startSqs} starts the emulator (fauxqs, an optional peer dependency) in this process, or
 * uses the endpoint `SQS_ENDPOINT` names. It stands on the AWS SDK alone, not on the streams.
 * @module
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  check,
  createQueue,
  drain,
  isObject,
  send,
  type DrainOptions,
} from './testing/queue-helpers.js';

export type { DrainOptions };

/** Options of {@link startSqs}. */
export interface StartSqsOptions {
  /**
   * Where `SQS_ENDPOINT` and `AWS_REGION` are read, when `startSqs()` is called.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * The client's region (and, for SQS itself, the queues').
   * @default `AWS_REGION` from `env`, else `'us-east-1'`
   */
  region?: string;
  /**
   * More `SQSClient` configuration, applied over what `startSqs()` sets: `endpoint`, `region`
   * and, for a local endpoint (the emulator, LocalStack), the static credentials `test`/`test`.
   * @default {}
   */
  clientConfig?: SQSClientConfig;
}

/** What {@link startSqs} resolves to: an SQS endpoint, a client for it, and a few helpers. */
export interface TestSqs {
  /** The endpoint URL (`http://127.0.0.1:<port>` for the emulator). */
  readonly endpoint: string;
  /** `true` when `startSqs()` started the emulator; `false` when `SQS_ENDPOINT` named the endpoint. */
  readonly emulator: boolean;
  /** An `SQSClient` for the endpoint: give it to the code under test. */
  readonly client: SQSClient;
  /**
   * Creates a queue (CreateQueue) and resolves to the URL SQS returned: use that URL, not one
   * you spell yourself. A name ending in `.fifo` gets `FifoQueue: 'true'` unless `attributes`
   * say otherwise.
   */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /**
   * Sends `bodies` in order with SendMessageBatch, 10 (and at most 256 KiB) a request, one
   * request at a time. On a FIFO queue all go to the message group `sqs-streams-testing`, each
   * with its own deduplication id. Rejects if SQS refused any of them.
   */
  send(queueUrl: string, bodies: readonly string[]): Promise<void>;
  /**
   * Receives until a receive comes back empty, deletes what it received, and resolves to the
   * bodies in the order they were received: what was left on the queue.
   */
  drain(queueUrl: string, options?: DrainOptions): Promise<string[]>;
  /**
   * Stops the emulator, if `startSqs()` started one (the client is then left as it is); when
   * the endpoint came from `SQS_ENDPOINT`, destroys the client. Idempotent.
   */
  stop(): Promise<void>;
}

/** The part of fauxqs 1.9.2 used here (typed locally: fauxqs is an optional peer). */
interface FauxqsModule {
  startFauxqs(options: { port: number; logger: boolean }): Promise<{
    readonly port: number;
    stop(): Promise<void>;
  }>;
}

const INSTALL = 'npm install --save-dev fauxqs@1.9.2';
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

// fauxqs is ESM-only. TypeScript may compile `import()` in this CommonJS module into
// `require()`, which cannot load it; a Function body is left alone: a native dynamic import.
const nativeImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

/**
 * Starts an SQS endpoint for tests: the one `SQS_ENDPOINT` names if it is set (read at this
 * call), else the fauxqs emulator in this process on a free port, reached on loopback.
 *
 * In Jest, call it in a `globalSetup` file and set `process.env.SQS_ENDPOINT` to its `endpoint`
 * there: a Jest test cannot import fauxqs (an ES module) unless Jest runs with
 * `--experimental-vm-modules`, and `startSqs()` in the tests then uses that endpoint.
 */
export async function startSqs(options: StartSqsOptions = {}): Promise<TestSqs> {
  check(isObject(options), 'options', 'an object', options);
  check(options.env === undefined || isObject(options.env), 'env', 'an object', options.env);
  const env = options.env ?? process.env;
  const region = options.region ?? (env['AWS_REGION'] || 'us-east-1');
  check(typeof region === 'string' && region !== '', 'region', 'a non-empty string', region);
  const { clientConfig = {} } = options;
  check(isObject(clientConfig), 'clientConfig', 'an object', clientConfig);
  const given = env['SQS_ENDPOINT'];
  const server = given
    ? undefined
    : await (await loadFauxqs()).startFauxqs({ port: 0, logger: false });
  const endpoint = server ? `http://127.0.0.1:${server.port}` : checkedEndpoint(given as string);
  const local = server !== undefined || LOCAL_HOSTS.has(new URL(endpoint).hostname);
  const client = new SQSClient({
    endpoint,
    region,
    ...(local ? { credentials: LOCAL_CREDENTIALS } : {}),
    ...clientConfig,
  });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    emulator: server !== undefined,
    client,
    createQueue: (name, attributes) => createQueue(client, name, attributes),
    send: (queueUrl, bodies) => send(client, queueUrl, bodies),
    drain: (queueUrl, drainOptions) => drain(client, queueUrl, drainOptions),
    stop: () =>
      (stopped ??= server ? server.stop() : Promise.resolve().then(() => client.destroy())),
  };
}

async function loadFauxqs(): Promise<FauxqsModule> {
  let loaded: unknown;
  try {
    loaded = await nativeImport('fauxqs');
  } catch (error) {
    throw fauxqsLoadError(error);
  }
  if (typeof (loaded as Partial<FauxqsModule>).startFauxqs !== 'function') {
    throw new Error(
      `fauxqs has no startFauxqs(): sqs-streams/testing needs fauxqs 1.9.2 (${INSTALL})`,
    );
  }
  return loaded as FauxqsModule;
}

function fauxqsLoadError(error: unknown): Error {
  const { code, message = '' } = (error ?? {}) as { code?: string; message?: string };
  if (code === 'ERR_MODULE_NOT_FOUND' && /['"]fauxqs['"]/.test(message)) {
    return new Error(
      'startSqs() starts the fauxqs emulator when SQS_ENDPOINT is not set, and fauxqs is not ' +
        `installed: ${INSTALL} (or set SQS_ENDPOINT to LocalStack or SQS)`,
      { cause: error },
    );
  }
  if (
    code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' ||
    /experimental-vm-modules/.test(message)
  ) {
    return new Error(
      'startSqs() cannot import fauxqs (an ES module) here: this code runs in a VM context ' +
        'without import() (a Jest test). Call startSqs() in Jest globalSetup and set ' +
        'process.env.SQS_ENDPOINT to its endpoint there (startSqs() in the tests then uses it), ' +
        'or run Jest with NODE_OPTIONS=--experimental-vm-modules',
      { cause: error },
    );
  }
  return new Error(
    `fauxqs did not load (${code ?? 'no code'}): sqs-streams/testing needs fauxqs 1.9.2, and ` +
      `fauxqs 2 needs Node >= 22.5 (${INSTALL})`,
    { cause: error },
  );
}

function checkedEndpoint(value: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    // not a URL: said below
  }
  const http = protocol === 'http:' || protocol === 'https:';
  check(http, 'SQS_ENDPOINT', 'an http(s) URL such as http://localhost:4566', value);
  return value;
}
