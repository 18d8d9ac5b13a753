import type { RequestPolicy } from '../core/request-loop.js';
import { debug } from '../core/debug.js';
import { SqsStreamError } from '../core/errors.js';
import { PayloadError } from './payload-error.js';
import { notify } from '../core/notify.js';
import { isAbortError, type OnRetry } from '../core/retry.js';
import { setPayload, type MessageTracker, type SqsMessage } from '../settle/index.js';
import type { NormalizedReadablePayloads } from './payload-options.js';
import {
  markerOf,
  parsePointer,
  PointerFormatError,
  withoutMarker,
  type PayloadLocation,
} from './pointer.js';
import { deletePayload, getPayload, type S3Call } from './s3-requests.js';

/**
 * The receive side of large payloads: each received pointer message gets its body from S3
 * before it is pushed, so a receive counts as in flight (requested, DESIGN.md invariant 1)
 * until its payloads are read. A pointer that cannot be read is not delivered and no longer
 * held: its visibility runs out, and the queue's redrive policy takes it to a dead-letter queue
 * in time. The stream goes on.
 */

/** Most GetObject requests in flight at once per stream. */
export const MAX_GETS_IN_FLIGHT = 10;

export interface PayloadResolverOptions {
  payloads: NormalizedReadablePayloads;
  /** S3 calls of reads; its signal aborts them when the stream is destroyed. */
  call: S3Call;
  tracker: MessageTracker;
  /** A pointer message was dropped: its payload could not be read. */
  onPayloadError: (error: SqsStreamError) => void;
  /** An acked message's S3 object could not be deleted (the message is gone, the object left). */
  onPayloadDeleteError: (error: SqsStreamError) => void;
}

/** One per SqsReadable with `largePayloads`. */
export class PayloadResolver {
  readonly #options: PayloadResolverOptions;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: PayloadResolverOptions) {
    this.#options = options;
  }

  /**
   * Resolves with the messages to deliver, in receive order: the ones without a marker as they
   * are, pointer messages with their payload as body. A message whose payload cannot be read is
   * left out (and reported); one whose read was cut by destroy is left out quietly (it is still
   * held, so the destroy releases it).
   */
  async resolve(messages: readonly SqsMessage[]): Promise<SqsMessage[]> {
    const results = await Promise.all(messages.map((message) => this.#resolveOne(message)));
    return messages.filter((_message, i) => results[i]);
  }

  async #resolveOne(message: SqsMessage): Promise<boolean> {
    const marker = markerOf(message.messageAttributes);
    if (marker === undefined) return true;
    let location: PayloadLocation | undefined;
    try {
      location = parsePointer(message.body);
      const body = await this.#limited(() =>
        getPayload(this.#options.call, location as PayloadLocation, message.messageId),
      );
      setPayload(message, {
        body,
        messageAttributes: withoutMarker(message.messageAttributes),
        payload: location,
        afterAck: this.#options.payloads.deleteFromS3
          ? () => this.#deleteAfterAck(message, location as PayloadLocation)
          : undefined,
      });
      return true;
    } catch (error) {
      if (isAbortError(error) && this.#options.call.signal?.aborted) return false;
      this.#options.tracker.abandon(message);
      const reported = payloadError(error, message, location, this.#options.call.queueUrl);
      debug(
        'payload of message %s unreadable (%s): not delivered',
        message.messageId,
        reported.code,
      );
      notify(this.#options.onPayloadError, reported);
      return false;
    }
  }

  async #limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#active >= MAX_GETS_IN_FLIGHT) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }

  /**
   * After the SQS delete: the object goes too. Its own S3 call, without the stream's signal:
   * acks keep working after the stream ended. Never rejects (the message is gone either way).
   */
  async #deleteAfterAck(message: SqsMessage, location: PayloadLocation): Promise<void> {
    try {
      await deletePayload(
        { ...this.#options.call, signal: undefined },
        location,
        message.messageId,
      );
    } catch (error) {
      notify(this.#options.onPayloadDeleteError, error as SqsStreamError);
    }
  }
}

const NOT_DELIVERED =
  "it was not delivered, and will be received again after its visibility timeout (in time, the queue's redrive policy moves it to its dead-letter queue)";

/** The `'payloadError'` error: GetObject, the message id, bucket and key; never the body. */
function payloadError(
  error: unknown,
  message: SqsMessage,
  location: PayloadLocation | undefined,
  queueUrl: string,
): PayloadError {
  const details = { operation: 'GetObject', queue: queueUrl, messageId: message.messageId };
  if (error instanceof PointerFormatError) {
    return new PayloadError(
      `Message ${message.messageId} carries the large-payload marker, but ${error.message}; ${NOT_DELIVERED}`,
      undefined,
      { ...details, code: 'InvalidPointer', cause: error },
    );
  }
  if (error instanceof SqsStreamError) {
    // The S3 failure, said once more with what happens to the message; its cause is S3's error.
    return new PayloadError(`${error.message}. The message ${NOT_DELIVERED}`, location, {
      ...details,
      code: error.code,
      cause: error.cause,
    });
  }
  return new PayloadError(
    `Reading the payload of message ${message.messageId} failed; ${NOT_DELIVERED}`,
    location,
    { ...details, cause: error },
  );
}

/** What an SqsReadable knows once its queue is resolved. */
export interface ResolverStream {
  queueUrl: string;
  tracker: MessageTracker;
  policy: RequestPolicy;
  signal: AbortSignal;
  onRetry: OnRetry;
  onPayloadError: (error: SqsStreamError) => void;
  onPayloadDeleteError: (error: SqsStreamError) => void;
}

/** The resolver of an SqsReadable, when it has `largePayloads`. */
export function createResolver(
  payloads: NormalizedReadablePayloads | undefined,
  stream: ResolverStream,
): PayloadResolver | undefined {
  if (payloads === undefined) return undefined;
  const { queueUrl, tracker, policy, signal, onRetry } = stream;
  return new PayloadResolver({
    payloads,
    call: { s3Client: payloads.s3Client, queueUrl, policy, signal, onRetry },
    tracker,
    onPayloadError: stream.onPayloadError,
    onPayloadDeleteError: stream.onPayloadDeleteError,
  });
}
