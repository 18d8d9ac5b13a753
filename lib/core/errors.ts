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
  /** The SQS action (e.g. `ReceiveMessage`) or stream step that failed. */
  readonly operation: string | undefined;
  /** The queue URL or name the operation was aimed at. */
  readonly queue: string | undefined;
  /** SQS's error code, when there is one. */
  readonly code: string | undefined;
  /** The id of the message concerned, for per-message errors. */
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
  'InvalidSignatureException',
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'KMS.AccessDeniedException',
]);

// IAM knows only the single-message actions; a batch call needs the one it batches.
const IAM_ACTION: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

const HINTS: Record<string, string> = {
  ENOTFOUND:
    '. The endpoint host does not resolve: check `clientConfig.endpoint` (or the queue URL) and the region.',
  InvalidParameterValue: '. Check the option or message the parameter comes from.',
  InvalidAddress: '. Check the queue URL: it must be the one CreateQueue or GetQueueUrl returned.',
  UnsupportedOperation: '. This queue or endpoint does not support the operation.',
};

const REDACTIONS: Array<[RegExp, string]> = [
  // AWS's signature errors quote the canonical request, headers and all: drop it whole.
  [
    /(The Canonical String for this request should have been|The String-to-Sign should have been)[\s\S]*/g,
    '$1 <redacted>',
  ],
  [/x-amz-security-token[:=]\s*[^\s'",&]+/gi, 'x-amz-security-token:<redacted>'],
  [/Authorization:\s*[^\n]+/gi, 'Authorization: <redacted>'],
  [/Credential=[^\s,'"]+/g, 'Credential=<redacted>'],
  [/Signature=[0-9a-fA-F]+/g, 'Signature=<redacted>'],
  [/\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA)[A-Z0-9]{12,}\b/g, '<access key id>'],
];

/**
 * Removes what must never reach a log or an error: credentials AWS may echo back (signature
 * errors quote the signed request) and the given strings (receipt handles, bodies).
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const [pattern, replacement] of REDACTIONS) out = out.replace(pattern, replacement);
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('<redacted>');
  return out;
}

/**
 * The error as a `cause` that is safe to print: the same error when nothing in it needs
 * redacting, else a plain copy with the redacted message and the fields callers branch on
 * (name, code, `$fault`, `$metadata`, `$retryable`), without the SDK's raw response.
 */
export function safeCause(error: unknown, secrets: readonly string[] = []): unknown {
  if (!(error instanceof Error)) {
    return typeof error === 'string' ? redact(error, secrets) : error;
  }
  const message = redact(error.message, secrets);
  const cause = error.cause === undefined ? undefined : safeCause(error.cause, secrets);
  if (message === error.message && cause === error.cause) return error;
  const copy = new Error(message, cause === undefined ? undefined : { cause });
  copy.name = error.name;
  const source = error as unknown as Record<string, unknown>;
  const target = copy as unknown as Record<string, unknown>;
  for (const key of ['code', 'Code', '$fault', '$metadata', '$retryable']) {
    if (source[key] !== undefined) target[key] = source[key];
  }
  const frames = (error.stack ?? '').split('\n').filter((line) => line.startsWith('    at '));
  copy.stack = [`${copy.name}: ${message}`, ...frames].join('\n');
  return copy;
}

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
export function toStreamError(
  error: unknown,
  operation: string,
  queue: string,
  secrets: readonly string[] = [],
): SqsStreamError {
  if (error instanceof SqsStreamError) return error;
  const code = errorCode(error);
  const details = { operation, queue, code, cause: safeCause(error, secrets) };
  if (code !== undefined && NOT_FOUND_CODES.has(code)) {
    return new QueueDoesNotExistError(
      `Queue \`${queue}\` does not exist (${operation}). Check the queue URL or name, the region and the account, or create the queue first.`,
      details,
    );
  }
  if (code !== undefined && ACCESS_CODES.has(code)) {
    const action = IAM_ACTION[operation] ?? operation;
    return new AccessDeniedError(
      `Access to queue \`${queue}\` was denied for ${operation} (${code}). Check the credentials and that their IAM policy allows sqs:${action}.`,
      details,
    );
  }
  const hint = code !== undefined ? (HINTS[code] ?? '') : '';
  return new SqsStreamError(
    `${operation} on queue \`${queue}\` failed: ${redact(describe(error), secrets)}${code ? ` (${code})` : ''}${hint}`,
    details,
  );
}
