import type { S3Client } from '@aws-sdk/client-s3';
import { debug } from '../core/debug.js';
import { errorCode, redact, safeCause, SqsStreamError } from '../core/errors.js';
import { PayloadError } from './payload-error.js';
import { runRequest, type RequestPolicy } from '../core/request-loop.js';
import { isAbortError, type OnRetry } from '../core/retry.js';
import type { PayloadLocation } from './pointer.js';

/**
 * The S3 requests of the large-payload path: PutObject, GetObject, DeleteObject, each one
 * attempt under a deadline and retried like an SQS request. `@aws-sdk/client-s3` is an optional
 * peer: its commands are loaded here, on the first request, never when the package is imported.
 */

type S3Module = typeof import('@aws-sdk/client-s3');
let s3Module: S3Module | undefined;

/** `@aws-sdk/client-s3`, loaded on first use (the user's `s3Client` says it is installed). */
function s3(): S3Module {
  if (s3Module === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      s3Module = require('@aws-sdk/client-s3') as S3Module;
    } catch (error) {
      throw new Error(
        '`largePayloads` needs the package @aws-sdk/client-s3 (an optional peer dependency of sqs-streams): install it next to @aws-sdk/client-sqs',
        { cause: error },
      );
    }
  }
  return s3Module;
}

/** Every S3 request goes through the one request loop: a deadline per attempt, retries. */
export const runS3Request = runRequest;
export type { RequestPolicy };

const HINTS: Record<string, string> = {
  NoSuchBucket: 'Create the bucket, or check the bucket name and the S3 client’s region',
  NoSuchKey:
    'The object is gone: deleted by a consumer with `deleteFromS3` (a message delivered twice), by a lifecycle rule, or never written',
  AccessDenied: 'Check that the credentials’ IAM policy allows s3:{action} on this bucket and key',
  PermanentRedirect: 'The bucket is in another region: give the S3 client that region',
};

/** What the caller knows about the S3 request that failed, for the error. */
export interface S3ErrorContext {
  operation: 'PutObject' | 'GetObject' | 'DeleteObject';
  location: PayloadLocation;
  queueUrl: string;
  messageId?: string | undefined;
}

/** An S3 failure as a {@link PayloadError}: operation, bucket and key, the S3 error as `cause`. */
export function s3Error(error: unknown, context: S3ErrorContext): SqsStreamError {
  if (error instanceof SqsStreamError) return error;
  const { operation, location } = context;
  const code = errorCode(error);
  const what = error instanceof Error ? redact(error.message) : String(error);
  const hint = code === undefined ? undefined : HINTS[code];
  const subject = context.messageId === undefined ? '' : ` for message ${context.messageId}`;
  return new PayloadError(
    `${operation} of s3://${location.bucket}/${location.key}${subject} failed: ${what}${code ? ` (${code})` : ''}${hint ? `. ${hint.replace('{action}', operation)}` : ''}`,
    location,
    {
      operation,
      queue: context.queueUrl,
      code,
      messageId: context.messageId,
      cause: safeCause(error),
    },
  );
}

/** What every S3 call of a stream needs. */
export interface S3Call {
  s3Client: S3Client;
  queueUrl: string;
  policy: RequestPolicy;
  signal: AbortSignal | undefined;
  onRetry?: OnRetry | undefined;
}

async function request<T>(
  call: S3Call,
  context: S3ErrorContext,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  try {
    return await runS3Request({
      operation: context.operation,
      queueUrl: call.queueUrl,
      policy: call.policy,
      signal: call.signal,
      onRetry: call.onRetry,
      attempt: ({ signal }) => send(signal),
    });
  } catch (error) {
    if (isAbortError(error) && call.signal?.aborted) throw error;
    debug('%s of an S3 payload failed (%s)', context.operation, errorCode(error));
    throw s3Error(error, context);
  }
}

/** Stores a payload (its UTF-8 bytes) under the location. */
export async function putPayload(
  call: S3Call,
  location: PayloadLocation,
  body: string,
): Promise<void> {
  const { PutObjectCommand } = s3();
  return request(call, { operation: 'PutObject', location, queueUrl: call.queueUrl }, (signal) =>
    call.s3Client
      .send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body }), {
        abortSignal: signal,
      })
      .then(() => undefined),
  );
}

/** Reads a payload as UTF-8 text (the body is read inside the attempt, under its deadline). */
export async function getPayload(
  call: S3Call,
  location: PayloadLocation,
  messageId: string,
): Promise<string> {
  const { GetObjectCommand } = s3();
  return request(
    call,
    { operation: 'GetObject', location, queueUrl: call.queueUrl, messageId },
    async (signal) => {
      const out = await call.s3Client.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
        { abortSignal: signal },
      );
      if (out.Body === undefined) return '';
      return out.Body.transformToString('utf-8');
    },
  );
}

/** Deletes a payload (S3 answers success for a key that is already gone). */
export async function deletePayload(
  call: S3Call,
  location: PayloadLocation,
  messageId: string,
): Promise<void> {
  const { DeleteObjectCommand } = s3();
  return request(
    call,
    { operation: 'DeleteObject', location, queueUrl: call.queueUrl, messageId },
    (signal) =>
      call.s3Client
        .send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }), {
          abortSignal: signal,
        })
        .then(() => undefined),
  );
}
