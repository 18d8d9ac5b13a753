import { debug } from '../core/debug.js';
import { SqsStreamError } from '../core/errors.js';
import type { SqsMessage } from './message.js';

/**
 * The one error `releaseAll()` rejects with when some of the `total` releases failed: it names
 * the first failure and carries them all.
 */
export function releaseError(failures: unknown[], total: number, queue: string): SqsStreamError {
  const first = failures[0];
  const detail = first instanceof Error ? first.message : String(first);
  return new SqsStreamError(
    `Could not release ${failures.length} of ${total} held messages on queue ` +
      `\`${queue}\`: they stay invisible until their visibility timeout runs out, ` +
      `then are delivered again. First failure: ${detail}`,
    {
      operation: 'ChangeMessageVisibilityBatch',
      queue,
      code: first instanceof SqsStreamError ? first.code : undefined,
      cause: failures.length === 1 ? first : new AggregateError(failures, 'Releases that failed'),
    },
  );
}

/**
 * A heartbeat extension's failure as reported to the stream: the acknowledger's own
 * `SqsStreamError` as is (so one shared by a whole request is recognised as the same), anything
 * else wrapped.
 */
export function heartbeatError(message: SqsMessage, error: unknown, queue: string): SqsStreamError {
  if (error instanceof SqsStreamError) return error;
  return new SqsStreamError(`Heartbeat for message ${message.messageId} failed`, {
    operation: 'ChangeMessageVisibilityBatch',
    queue,
    messageId: message.messageId,
    cause: error,
  });
}

/**
 * Heartbeat failures as the stream hears of them: one report per error, since a whole request
 * that failed shares its error among its entries.
 */
export class HeartbeatErrors {
  readonly #reported = new WeakSet<SqsStreamError>();

  /** The error to report for this failed extension, or `undefined` when reported already. */
  report(message: SqsMessage, error: unknown, queue: string): SqsStreamError | undefined {
    const streamError = heartbeatError(message, error, queue);
    debug('heartbeat: extension of message %s failed (%s)', message.messageId, streamError.code);
    if (this.#reported.has(streamError)) return undefined;
    this.#reported.add(streamError);
    return streamError;
  }
}
