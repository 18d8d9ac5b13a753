import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { describeQueue, type QueueRef } from '../core/queue.js';
import { isQueueName } from '../core/validate.js';
import { createSqsClient } from '../index.js';
import { InvalidArgumentError, Option, type Command } from 'commander';

/** A failure the CLI reports and exits on. `exitCode` 2 is a usage error, 1 everything else. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The flags every command that talks to SQS takes. */
export interface ConnectionFlags {
  endpoint?: string;
  region?: string;
  retries?: number;
}

/** Flags of the commands that receive. */
export interface ReceiveFlags extends ConnectionFlags {
  concurrency?: number;
  wait?: number;
  visibilityTimeout?: number;
  max?: number;
  idleTimeout?: number;
}

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const parsed = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`${name} must be an integer ${range}.`);
    }
    return parsed;
  };
}

/** Parses a non-negative or positive integer flag value; a bad one is a usage error. */
export const parseInteger = integer;

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      'the endpoint must be a URL such as http://localhost:4566 (LocalStack) or https://sqs.eu-west-1.amazonaws.com.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('the endpoint must be an http:// or https:// URL.');
  }
  return value;
}

/** `--endpoint`, `--region`, `--retries`. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--endpoint <url>',
        'SQS endpoint (LocalStack, an emulator, a VPC endpoint); default: AWS for the region',
      ).argParser(parseEndpoint),
    )
    .addOption(
      new Option(
        '--region <region>',
        'AWS region; default: the SDK chain (AWS_REGION, profile), else us-east-1',
      ),
    )
    .addOption(
      new Option(
        '--retries <n>',
        'retries of a transient error (throttling, 5xx, network) per request before giving up',
      )
        .argParser(integer('--retries', 0, 1_000_000))
        .default(10),
    );
}

/** `--concurrency`, `--wait`, `--visibility-timeout`, `--max`, `--idle-timeout`. */
export function addReceiveOptions(
  command: Command,
  defaultIdleMs?: number,
  idleDefaultText?: string,
): Command {
  const idle = new Option(
    '--idle-timeout <ms>',
    `end once the queue has been empty this long, in ms (0: never${idleDefaultText === undefined ? '' : `; default: ${idleDefaultText}`})`,
  ).argParser(integer('--idle-timeout', 0, 86_400_000));
  if (defaultIdleMs !== undefined) idle.default(defaultIdleMs);
  return command
    .addOption(
      new Option('--max <n>', 'end after receiving this many messages').argParser(
        integer('--max', 1, Number.MAX_SAFE_INTEGER),
      ),
    )
    .addOption(idle)
    .addOption(
      new Option('--wait <seconds>', 'long-poll wait of each receive, 0-20')
        .argParser(integer('--wait', 0, 20))
        .default(20),
    )
    .addOption(
      new Option('--concurrency <n>', 'ReceiveMessage requests in flight at once, 1-100')
        .argParser(integer('--concurrency', 1, 100))
        .default(1),
    )
    .addOption(
      new Option(
        '--visibility-timeout <seconds>',
        "visibility timeout of received messages, 0-43200; default: the queue's",
      ).argParser(integer('--visibility-timeout', 0, 43_200)),
    );
}

export type { QueueRef };

export function queueRef(value: string, what = 'queue'): QueueRef {
  if (/^https?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new CliError(
        `The ${what} \`${value}\` is not a valid URL; give a queue URL or a queue name.`,
        2,
      );
    }
    return { queueUrl: value };
  }
  if (!isQueueName(value)) {
    throw new CliError(
      `The ${what} \`${value}\` is neither a queue URL (https://...) nor a queue name (up to 80 letters, digits, - and _, FIFO names ending in .fifo).`,
      2,
    );
  }
  return { queueName: value };
}

/** A queue as the user gave it, for messages. */
export const describeRef = describeQueue;

/**
 * Whether the environment names credentials. With `--endpoint` and none of these, the CLI signs
 * with LocalStack's conventional `test`/`test` instead of walking the SDK's whole chain (whose
 * instance-metadata step stalls for seconds off EC2).
 */
function credentialsConfigured(): boolean {
  const env = process.env;
  if (
    env.AWS_ACCESS_KEY_ID ||
    env.AWS_PROFILE ||
    env.AWS_WEB_IDENTITY_TOKEN_FILE ||
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI
  ) {
    return true;
  }
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials'),
    env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config'),
  ];
  return files.some((file) => existsSync(file));
}

/**
 * The client for a command: `--endpoint` and `--region` when given, else the SDK's default
 * chains, with `us-east-1` when no region is configured anywhere. `testCredentials`: sign with
 * `test`/`test` whatever the environment says (the embedded emulator).
 */
export function createCliClient(flags: ConnectionFlags, testCredentials = false): SQSClient {
  const config: SQSClientConfig = {};
  if (flags.endpoint !== undefined) config.endpoint = flags.endpoint;
  if (flags.region !== undefined) config.region = flags.region;
  if (testCredentials || (flags.endpoint !== undefined && !credentialsConfigured())) {
    config.credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  }
  return createSqsClient(config);
}

/** The stream option for `--retries`: attempts in all, the first included. */
export function retryOption(flags: ConnectionFlags): { numOfAttempts: number } {
  return { numOfAttempts: (flags.retries ?? 10) + 1 };
}

/** SqsReadable options from the receive flags. */
export function readableOptions(
  ref: QueueRef,
  flags: ReceiveFlags,
): {
  queueUrl?: string;
  queueName?: string;
  concurrency: number;
  waitTimeSeconds: number;
  visibilityTimeout?: number;
  maxMessages?: number;
  idleTimeoutMs?: number;
  retry: { numOfAttempts: number };
} {
  return {
    ...ref,
    concurrency: flags.concurrency ?? 1,
    waitTimeSeconds: flags.wait ?? 20,
    ...(flags.visibilityTimeout === undefined
      ? {}
      : { visibilityTimeout: flags.visibilityTimeout }),
    ...(flags.max === undefined ? {} : { maxMessages: flags.max }),
    ...(flags.idleTimeout === undefined || flags.idleTimeout === 0
      ? {}
      : { idleTimeoutMs: flags.idleTimeout }),
    retry: retryOption(flags),
  };
}

/** `--s3-bucket`, `--s3-endpoint`: large payloads through S3 (send and receive). */
export interface S3Flags {
  s3Bucket?: string;
  s3Endpoint?: string;
}

/** `--s3-bucket <name>` (what it does is the command's) and `--s3-endpoint <url>`. */
export function addS3Options(command: Command, bucketHelp: string): Command {
  return command
    .addOption(new Option('--s3-bucket <name>', bucketHelp))
    .addOption(
      new Option(
        '--s3-endpoint <url>',
        'S3 endpoint for large payloads; default: --endpoint when given (LocalStack and emulators serve S3 on the same port), else AWS for the region',
      ).argParser(parseEndpoint),
    );
}

/**
 * The S3 client of `--s3-bucket`. `@aws-sdk/client-s3` is loaded here, only when the flag is
 * given: it is an optional peer dependency.
 */
export function createCliS3Client(flags: ConnectionFlags & S3Flags, sqs: SQSClient): S3Client {
  let s3: typeof import('@aws-sdk/client-s3');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    s3 = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  } catch {
    throw new CliError(
      '--s3-bucket needs the package @aws-sdk/client-s3: install it next to sqs-streams (npm install @aws-sdk/client-s3).',
    );
  }
  const endpoint = flags.s3Endpoint ?? flags.endpoint;
  return new s3.S3Client({
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    // The SQS client's region: --region, else the SDK chain, else us-east-1.
    region: sqs.config.region,
    ...(endpoint !== undefined && !credentialsConfigured()
      ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
      : {}),
  });
}
