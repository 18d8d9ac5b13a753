import type { S3Client } from '@aws-sdk/client-s3';
import {
  booleanOption,
  integerOption,
  objectOption,
  show,
  stringOption,
} from '../core/validate.js';

/** Option `largePayloads` of {@link SqsWritable}: bodies over a size go to S3, a pointer to SQS. */
export interface WritableLargePayloadOptions {
  /** The S3 client (an `S3Client` of `@aws-sdk/client-s3`). It is never destroyed by the stream. */
  s3Client: S3Client;
  /** The bucket payloads are stored in; it must exist. */
  bucket: string;
  /**
   * A message whose size (body plus attribute names, types and values, in UTF-8 bytes) is over
   * this goes through S3. 0 to 1048576.
   * @default the queue's `MaximumMessageSize` (read once with GetQueueAttributes), or
   * `maxMessageBytes` when that is lower
   */
  thresholdBytes?: number;
  /**
   * Send every message through S3, whatever its size.
   * @default false
   */
  alwaysThroughS3?: boolean;
  /**
   * Start of every object key (the rest is `crypto.randomUUID()`); up to 988 letters, digits,
   * `.`, `/`, `_` and `-`, not starting with `.` or `/`, without `..` (the Java client's rules).
   * @default ''
   */
  keyPrefix?: string;
  /**
   * Name the marker attribute `SQSLargePayloadSize` (the Java 1.x name) instead of
   * `ExtendedPayloadSize`. The pointer class is the same either way.
   * @default false
   */
  legacyAttributeName?: boolean;
}

/** Option `largePayloads` of {@link SqsReadable}: pointer messages get their body from S3. */
export interface ReadableLargePayloadOptions {
  /** The S3 client (an `S3Client` of `@aws-sdk/client-s3`). It is never destroyed by the stream. */
  s3Client: S3Client;
  /**
   * Delete the S3 object once the message's delete is confirmed (`ack()` resolves after both).
   * Turn it off when several queues (an SNS fan-out) share one payload object.
   * @default true
   */
  deleteFromS3?: boolean;
}

export interface NormalizedWritablePayloads {
  s3Client: S3Client;
  bucket: string;
  thresholdBytes: number | undefined;
  alwaysThroughS3: boolean;
  keyPrefix: string;
  legacyAttributeName: boolean;
}

export interface NormalizedReadablePayloads {
  s3Client: S3Client;
  deleteFromS3: boolean;
}

const WRITABLE_KEYS = new Set([
  's3Client',
  'bucket',
  'thresholdBytes',
  'alwaysThroughS3',
  'keyPrefix',
  'legacyAttributeName',
]);
const READABLE_KEYS = new Set(['s3Client', 'deleteFromS3']);

/** The longest prefix: S3's 1024-byte key less the 36 characters of the UUID. */
const MAX_PREFIX_LENGTH = 1024 - 36;
const PREFIX_PATTERN = /^[A-Za-z0-9./_-]*$/;

function checkKeys(value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new TypeError(
        `Unknown option \`largePayloads.${key}\`; it takes ${[...known].map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
}

function s3ClientOption(value: unknown): S3Client {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { send?: unknown }).send !== 'function'
  ) {
    throw new TypeError(
      `Expected \`largePayloads.s3Client\` to be an S3Client from @aws-sdk/client-s3, got ${show(value)}`,
    );
  }
  return value as S3Client;
}

function keyPrefixOption(value: unknown): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string') {
    throw new TypeError(`Expected \`largePayloads.keyPrefix\` to be a string, got ${show(value)}`);
  }
  if (
    value.length > MAX_PREFIX_LENGTH ||
    !PREFIX_PATTERN.test(value) ||
    value.startsWith('.') ||
    value.startsWith('/') ||
    value.includes('..')
  ) {
    throw new TypeError(
      `Expected \`largePayloads.keyPrefix\` to be up to ${MAX_PREFIX_LENGTH} letters, digits, \`.\`, \`/\`, \`_\` or \`-\`, not starting with \`.\` or \`/\` and without \`..\`, got ${show(value)}`,
    );
  }
  return value;
}

/** Checks SqsWritable's `largePayloads` (undefined when not given). */
export function normalizeWritablePayloads(
  input: unknown,
  maxMessageBytes: number,
): NormalizedWritablePayloads | undefined {
  const options = objectOption<Record<string, unknown>>('largePayloads', input);
  if (options === undefined) return undefined;
  checkKeys(options, WRITABLE_KEYS);
  const bucket = stringOption('largePayloads.bucket', options.bucket);
  if (bucket === undefined) {
    throw new TypeError(
      'Expected `largePayloads.bucket` to be a non-empty string, got `undefined`',
    );
  }
  const thresholdBytes =
    options.thresholdBytes === undefined
      ? undefined
      : integerOption(
          'largePayloads.thresholdBytes',
          options.thresholdBytes,
          0,
          maxMessageBytes,
          0,
        );
  return {
    s3Client: s3ClientOption(options.s3Client),
    bucket,
    thresholdBytes,
    alwaysThroughS3: booleanOption('largePayloads.alwaysThroughS3', options.alwaysThroughS3, false),
    keyPrefix: keyPrefixOption(options.keyPrefix),
    legacyAttributeName: booleanOption(
      'largePayloads.legacyAttributeName',
      options.legacyAttributeName,
      false,
    ),
  };
}

/** Checks SqsReadable's `largePayloads` (undefined when not given). */
export function normalizeReadablePayloads(input: unknown): NormalizedReadablePayloads | undefined {
  const options = objectOption<Record<string, unknown>>('largePayloads', input);
  if (options === undefined) return undefined;
  checkKeys(options, READABLE_KEYS);
  return {
    s3Client: s3ClientOption(options.s3Client),
    deleteFromS3: booleanOption('largePayloads.deleteFromS3', options.deleteFromS3, true),
  };
}
