import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { isExtension, type Entry, type EntryKind } from './settle-entry.js';
import { BatchEntryError, SqsStreamError, safeCause, toStreamError } from '../core/errors.js';

const INVALID_HANDLE_CODES = new Set([
  'ReceiptHandleIsInvalid',
  'AWS.SimpleQueueService.ReceiptHandleIsInvalid',
  'InvalidReceiptHandle',
  'MessageNotInflight',
  'AWS.SimpleQueueService.MessageNotInflight',
]);

/**
 * Whether SQS's answer means the receipt handle no longer lets this consumer act on the message:
 * it was deleted, or its visibility timeout ran out (and it may have been received again). No
 * retry can change that.
 */
export function isReceiptHandleProblem(code: string | undefined, message?: string): boolean {
  if (code === undefined) return false;
  if (INVALID_HANDLE_CODES.has(code)) return true;
  if (code === 'InvalidParameterValue' || code === 'AWS.SimpleQueueService.InvalidParameterValue') {
    return /receipt\s*handle/i.test(message ?? '');
  }
  return false;
}

/** An invalid receipt handle needs no report when the entry no longer mattered anyway. */
export function quietWhenGone(entry: Entry): boolean {
  return entry.kind === 'release' || (isExtension(entry.kind) && entry.message.settled);
}

/** SQS repeats a bad receipt handle in its error text; it must never reach a log or an error. */
export function scrub(text: string, entries: readonly Entry[]): string {
  let out = text;
  for (const entry of entries) {
    if (entry.message.receiptHandle !== '') {
      out = out.split(entry.message.receiptHandle).join('<receipt handle>');
    }
  }
  return out;
}

function action(kind: EntryKind, seconds: number): string {
  switch (kind) {
    case 'delete':
      return 'delete';
    case 'nack':
      return seconds === 0 ? 'make visible again' : `make visible again after ${seconds} s`;
    case 'release':
      return 'release (make visible again)';
    default:
      return `extend the visibility (by ${seconds} s) of`;
  }
}

/** SQS refused this one entry of a batch; `detail` is appended to the summary. */
export function entryError(
  entry: Entry,
  queue: string,
  failure: BatchResultErrorEntry,
  detail: string,
): BatchEntryError {
  const operation = entry.lane.operation;
  const code = failure.Code ?? 'UnknownError';
  const said = scrub(failure.Message ?? '', [entry]);
  const what = `${action(entry.kind, entry.seconds)} message ${entry.message.messageId}`;
  let text: string;
  if (code === 'MessageNotInflight' || code === 'AWS.SimpleQueueService.MessageNotInflight') {
    text =
      `Could not ${what} on queue \`${queue}\`: it is no longer in flight (${code}). Its ` +
      'visibility timeout already ran out, so it is visible in the queue again and will be ' +
      'delivered again. Settle messages within their visibility timeout: keep `heartbeat` on, or ' +
      'call extend().';
  } else if (isReceiptHandleProblem(code, said)) {
    text =
      `Could not ${what} on queue \`${queue}\`: its receipt handle is no longer valid (${code}). ` +
      'The message was already deleted, or its visibility timeout ran out and it was received ' +
      'again, so this receive no longer owns it (if not deleted, it will be delivered again). ' +
      'Settle messages within their visibility timeout: keep `heartbeat` on, or call extend().';
  } else {
    text = `${operation} could not ${what} on queue \`${queue}\` (${code}${said ? `: ${said}` : ''})${detail}.`;
  }
  return new BatchEntryError(text, failure.SenderFault ?? true, {
    operation,
    queue,
    code,
    messageId: entry.message.messageId,
    cause: { ...failure, Message: said },
  });
}

/** The entry was cut off by `abort()` before SQS confirmed it. */
export function abortError(entry: Entry, queue: string): SqsStreamError {
  return new SqsStreamError(
    `${entry.lane.operation} on queue \`${queue}\` was aborted before SQS ` +
      `confirmed it: could not ${action(entry.kind, entry.seconds)} message ${entry.message.messageId}. ` +
      'The message stays invisible until its visibility timeout runs out, then is delivered again.',
    {
      operation: entry.lane.operation,
      queue,
      code: 'AbortError',
      messageId: entry.message.messageId,
    },
  );
}

/** The entry was given up at shutdown: SQS did not confirm it within `shutdownTimeoutMs`. */
export function shutdownError(entry: Entry, queue: string, timeoutMs: number): SqsStreamError {
  return new SqsStreamError(
    `SQS did not confirm the request to ${action(entry.kind, entry.seconds)} message ` +
      `${entry.message.messageId} on queue \`${queue}\` within shutdownTimeoutMs (${timeoutMs} ms); ` +
      'the stream stopped waiting. The message stays invisible until its visibility timeout runs ' +
      'out, then is delivered again (nothing is lost).',
    {
      operation: entry.lane.operation,
      queue,
      code: 'ShutdownTimeout',
      messageId: entry.message.messageId,
    },
  );
}

/** The entry still failed transiently after its last attempt; `error` is the last failure. */
export function exhaustedError(
  entry: Entry,
  queue: string,
  error: unknown,
  attempts: number,
): SqsStreamError {
  const operation = entry.lane.operation;
  const handles = [entry.message.receiptHandle];
  const base =
    error instanceof SqsStreamError ? error : toStreamError(error, operation, queue, handles);
  return new SqsStreamError(
    `Could not ${action(entry.kind, entry.seconds)} message ${entry.message.messageId} on queue ` +
      `\`${queue}\`: ${operation} still failed after ${attempts} attempts (${base.code ?? 'transient error'}). ` +
      'Raise `retry.numOfAttempts`, or check the service and network.',
    {
      operation,
      queue,
      code: base.code,
      messageId: entry.message.messageId,
      cause: safeCause(error, handles),
    },
  );
}
