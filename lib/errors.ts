/**
 * Error types. One base class carries the operation, the queue and the SDK error as `cause`;
 * subclasses exist only where a caller would branch on them.
 */

/** What an {@link SqsStreamError} knows about where it happened. */
export interface SqsStreamErrorDetails {
  /** The SQS API action, e.g. `ReceiveMessage`, or a stream step such as `validate`. */
  operation?: string | undefined;
  /** The queue URL or name the operation was aimed at. */
  queue?: string | undefined;
  /** SQS's error code (e.g. `AWS.SimpleQueueService.NonExistentQueue`), when there is one. */
  code?: string | undefined;
  /** The SQS message id the error concerns (never its body or receipt handle). */
  messageId?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of every error this package raises about SQS or its use. */
export class SqsStreamError extends Error {
  override name = 'SqsStreamError';
  readonly operation: string | undefined;
  readonly queue: string | undefined;
  readonly code: string | undefined;
  readonly messageId: string | undefined;

  constructor(message: string, details: SqsStreamErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.operation = details.operation;
    this.queue = details.queue;
    this.code = details.code;
    this.messageId = details.messageId;
  }
}

/** The queue (by URL or name) does not exist, or not in this region/account. */
export class QueueDoesNotExistError extends SqsStreamError {
  override name = 'QueueDoesNotExistError';
}

/** The credentials are missing, invalid or lack the IAM permission for the operation. */
export class AccessDeniedError extends SqsStreamError {
  override name = 'AccessDeniedError';
}

/** A message is larger than SQS accepts; raised before any request is made. */
export class MessageTooLargeError extends SqsStreamError {
  override name = 'MessageTooLargeError';
  /** The message's size in bytes, as SQS counts it (body plus attributes). */
  readonly size: number;
  /** The limit it exceeded, in bytes. */
  readonly limit: number;

  constructor(message: string, size: number, limit: number, details: SqsStreamErrorDetails = {}) {
    super(message, details);
    this.size = size;
    this.limit = limit;
  }
}

/** One entry of a batch request (send, delete, change visibility) failed permanently. */
export class BatchEntryError extends SqsStreamError {
  override name = 'BatchEntryError';
  /** Whether SQS blamed the request (`true`) rather than itself. */
  readonly senderFault: boolean;

  constructor(message: string, senderFault: boolean, details: SqsStreamErrorDetails = {}) {
    super(message, details);
    this.senderFault = senderFault;
  }
}

const NOT_FOUND_CODES = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NonExistentQueue',
]);

const ACCESS_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSecurity',
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'CredentialsProviderError',
]);

/** The SQS error code of an SDK error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.code === 'string') return e.code;
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Wraps a permanent SDK error in the typed error a caller can branch on, with a message that
 * names queue and operation and says what to do.
 */
export function toStreamError(error: unknown, operation: string, queue: string): SqsStreamError {
  if (error instanceof SqsStreamError) return error;
  const code = errorCode(error);
  const details = { operation, queue, code, cause: error };
  if (code !== undefined && NOT_FOUND_CODES.has(code)) {
    return new QueueDoesNotExistError(
      `Queue \`${queue}\` does not exist (${operation}). Check the queue URL or name, the region and the account, or create the queue first.`,
      details,
    );
  }
  if (code !== undefined && ACCESS_CODES.has(code)) {
    return new AccessDeniedError(
      `Access to queue \`${queue}\` was denied for ${operation} (${code}). Check the credentials and that their IAM policy allows sqs:${operation}.`,
      details,
    );
  }
  return new SqsStreamError(
    `${operation} on queue \`${queue}\` failed: ${describe(error)}${code ? ` (${code})` : ''}`,
    details,
  );
}
