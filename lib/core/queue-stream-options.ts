import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { integerOption, objectOption, queueNameOption, queueUrlOption } from './validate.js';

/** What every stream needs to reach its queue. One of `queueUrl` and `queueName` is required. */
export interface QueueStreamOptions {
  /** The queue URL, as CreateQueue or GetQueueUrl returned it. */
  queueUrl?: string;
  /** The queue's name, resolved to its URL once with GetQueueUrl before the first request. */
  queueName?: string;
  /**
   * The SDK client to use. A client passed in is never destroyed by the stream.
   * @default a new SQSClient from `clientConfig`, destroyed with the stream
   */
  client?: SQSClient;
  /**
   * Config for the client the stream builds when `client` is not given.
   * @default `{}`: the SDK's default credential and region chains, region falling back to us-east-1
   */
  clientConfig?: SQSClientConfig;
  /**
   * The longest one attempt of any request may take beyond its long-poll wait, in milliseconds
   * (a ReceiveMessage attempt gets `waitTimeSeconds * 1000 + requestTimeoutMs`). An attempt past
   * it is aborted and retried as a transient error (a `'retry'` event with a `TimeoutError`), so
   * a hung connection costs one deadline. It holds whatever the client's own timeouts.
   * @default 10000: SQS answers in tens of milliseconds and the SDK's own retries inside one
   * attempt take a few seconds at most, so only a connection that is not answering reaches it
   */
  requestTimeoutMs?: number;
  /**
   * The longest `destroy()` spends releasing held messages (counted from the call), and
   * `stop()` / `end()` spend confirming acks or sends once the last message was read or
   * written, in milliseconds, when SQS does not answer. Past it the stream closes anyway: what
   * was not released becomes visible again after its visibility timeout, and the counts are in
   * `stats`.
   * @default 10000: a third of Kubernetes' default 30 s termination grace, leaving the rest for
   * the work in hand
   */
  shutdownTimeoutMs?: number;
}

export interface NormalizedQueueStreamOptions {
  queueUrl: string | undefined;
  queueName: string | undefined;
  client: SQSClient | undefined;
  clientConfig: SQSClientConfig | undefined;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** The keys of {@link QueueStreamOptions}, for each stream's list of known options. */
export const QUEUE_STREAM_KEYS = [
  'queueUrl',
  'queueName',
  'client',
  'clientConfig',
  'requestTimeoutMs',
  'shutdownTimeoutMs',
] as const;

/**
 * The checks every stream's options start with: an object, no unknown key (a misspelt option
 * would otherwise be ignored silently), exactly one of `queueUrl` and `queueName`, and the
 * client options.
 */
export function queueStreamOptions<T extends QueueStreamOptions>(
  stream: string,
  input: unknown,
  known: ReadonlySet<string>,
): { options: T; queue: NormalizedQueueStreamOptions } {
  const options = objectOption<T>('options', input);
  if (options === undefined) {
    throw new TypeError('Expected options with `queueUrl` or `queueName`, got `undefined`');
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new TypeError(
        `Unknown option \`${key}\` for ${stream}; see the ${stream}Options reference`,
      );
    }
  }
  const queueUrl = queueUrlOption('queueUrl', options.queueUrl);
  const queueName = queueNameOption('queueName', options.queueName);
  if ((queueUrl === undefined) === (queueName === undefined)) {
    throw new TypeError(
      queueUrl === undefined
        ? 'Expected `queueUrl` or `queueName`, got neither'
        : 'Expected only one of `queueUrl` and `queueName`, got both',
    );
  }
  return {
    options,
    queue: {
      queueUrl,
      queueName,
      client: objectOption<SQSClient>('client', options.client),
      clientConfig: objectOption<SQSClientConfig>('clientConfig', options.clientConfig),
      requestTimeoutMs: integerOption(
        'requestTimeoutMs',
        options.requestTimeoutMs,
        1,
        3_600_000,
        DEFAULT_REQUEST_TIMEOUT_MS,
      ),
      shutdownTimeoutMs: integerOption(
        'shutdownTimeoutMs',
        options.shutdownTimeoutMs,
        0,
        3_600_000,
        DEFAULT_SHUTDOWN_TIMEOUT_MS,
      ),
    },
  };
}
