import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { resolveClient } from '../core/client.js';
import { settlesWithin } from '../core/deadline.js';
import { debug } from '../core/debug.js';
import { emitSafely, listenerFailed } from '../core/listener-errors.js';
import { SqsStreamError } from '../core/errors.js';
import { getVisibilityTimeout, resolveQueueUrl, type QueueCall } from '../core/queue.js';
import type { RequestPolicy } from '../core/request-loop.js';
import { createResolver } from '../payloads/index.js';
import { MessageTracker, type SqsMessage } from '../settle/index.js';
import { closeReadable } from './readable-close.js';
import { watchDestination } from './readable-destinations.js';
import {
  normalizeReadableOptions,
  type NormalizedReadableOptions,
  type SqsReadableOptions,
} from './readable-options.js';
import { newStats, type SqsReadableStats } from './readable-stats.js';
import { ReceiveLoop, STOP_GRACE_MS } from './receive-loop.js';

export { STOP_GRACE_MS };

/**
 * An object-mode Readable of {@link SqsMessage}s that receives only what the consumer asks for.
 *
 * `_read` is demand, not a trigger: each ReceiveMessage asks for the unmet demand
 * (`highWaterMark - buffered - requested in flight`, at most `batchSize`), at most `concurrency`
 * are in flight, and an empty receive goes on by itself while there is demand.
 *
 * Events, beyond a Readable's own:
 * - `'receive'` `(count: number)`: a ReceiveMessage returned `count` messages.
 * - `'empty'` `()`: a ReceiveMessage returned none.
 * - `'retry'` `(error: unknown, attempt: number, delayMs: number)`: a transient error on any
 *   request of this stream; the request is sent again after `delayMs`.
 * - `'ack'` `(message: SqsMessage)`: SQS confirmed the delete of `message`.
 * - `'release'` `(message: SqsMessage)`: `message` was made visible again (nack or destroy).
 * - `'heartbeatError'` `(error: SqsStreamError)`: a visibility extension failed; never fatal.
 * - `'releaseError'` `(error: SqsStreamError)`: releasing held messages (on destroy, or when the
 *   pipeline failed after the end) failed or ran out of `shutdownTimeoutMs`; never fatal: those
 *   messages come back after their visibility timeout.
 *
 * @example
 * ```ts
 * const source = new SqsReadable({ queueUrl, client });
 * await pipeline(source, handle, new SqsAckWritable());
 * ```
 */
// The interface below only narrows the element type of the inherited async iterator.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class SqsReadable extends Readable {
  /** Live counters; read at any time. */
  readonly stats: SqsReadableStats = newStats();

  readonly #options: NormalizedReadableOptions;
  readonly #policy: RequestPolicy;
  readonly #client: SQSClient;
  readonly #ownsClient: boolean;
  #queueUrl: string | undefined;
  #tracker: MessageTracker | undefined;
  /** Aborted on destroy: stops construction calls, receives and backoff sleeps. */
  readonly #lifetime = new AbortController();
  readonly #loop: ReceiveLoop;
  #stopPromise: Promise<void> | undefined;

  constructor(options: SqsReadableOptions) {
    // Everything that can throw runs before super(): a constructor that throws after it would
    // leave a half-built stream whose _construct still runs.
    const normalized = normalizeReadableOptions(options);
    const { client, owned } = resolveClient(normalized.client, normalized.clientConfig);
    super({ objectMode: true, highWaterMark: normalized.highWaterMark, signal: normalized.signal });
    this.#options = normalized;
    this.#policy = { retry: normalized.retry, requestTimeoutMs: normalized.requestTimeoutMs };
    this.#client = client;
    this.#ownsClient = owned;
    this.#queueUrl = normalized.queueUrl;
    // Every request of the stream listens to it (receives, payload reads): not a leak.
    setMaxListeners(0, this.#lifetime.signal);
    this.#loop = new ReceiveLoop(this, normalized, (event, ...args) =>
      this.#emitSafely(event, ...args),
    );
    Object.defineProperties(this.stats, {
      buffered: { enumerable: true, get: () => this.readableLength },
      inFlight: { enumerable: true, get: () => this.#loop.inFlight },
    });
  }

  /** The queue's URL, once known (a `queueName` is resolved before the first receive). */
  get queueUrl(): string | undefined {
    return this.#queueUrl;
  }

  /** The queue as the user named it, for error messages. */
  get #queue(): string {
    return this.#queueUrl ?? this.#options.queueName ?? '(unknown queue)';
  }

  /**
   * Starts resolving the queue (GetQueueUrl for a name, GetQueueAttributes for the heartbeat's
   * visibility timeout) without holding construction up: Node defers `_destroy` until
   * `_construct` calls back, so a construction that waits on a retrying request would make
   * `destroy()` hang. Receives start once this is done; a failure destroys the stream.
   */
  override _construct(callback: (error?: Error | null) => void): void {
    this.#prepare().then(
      (tracker) => this.#startLoop(tracker),
      (error: unknown) => {
        // Destroyed meanwhile: the abort is ours, and the caller has nothing to be told.
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
    callback();
  }

  #startLoop(tracker: MessageTracker): void {
    const emit =
      (event: string) =>
      (error: unknown): void =>
        this.#emitSafely(event, error);
    const payloads = createResolver(this.#options.largePayloads, {
      queueUrl: this.#queueUrl as string,
      tracker,
      policy: this.#policy,
      signal: this.#lifetime.signal,
      onRetry: this.#onRetry,
      onPayloadError: emit('payloadError'),
      onPayloadDeleteError: emit('payloadDeleteError'),
    });
    this.#loop.start({
      payloads,
      client: this.#client,
      queueUrl: this.#queueUrl as string,
      queue: this.#queue,
      tracker,
      policy: this.#policy,
      lifetime: this.#lifetime.signal,
      onRetry: this.#onRetry,
      onListenerError: this.#onListenerError,
    });
  }

  async #prepare(): Promise<MessageTracker> {
    const call: QueueCall = {
      client: this.#client,
      policy: this.#policy,
      signal: this.#lifetime.signal,
      onRetry: this.#onRetry,
      onListenerError: this.#onListenerError,
    };
    const queueUrl = await resolveQueueUrl(
      { queueUrl: this.#options.queueUrl, queueName: this.#options.queueName },
      call,
    );
    this.#queueUrl = queueUrl;
    let visibilityTimeout = this.#options.visibilityTimeout;
    if (visibilityTimeout === undefined && this.#options.heartbeat) {
      visibilityTimeout = await getVisibilityTimeout(queueUrl, call);
    }
    this.#tracker = new MessageTracker({
      client: this.#client,
      queueUrl,
      stats: this.stats,
      policy: this.#policy,
      ackBatchWindowMs: this.#options.ackBatchWindowMs,
      heartbeat: this.#options.heartbeat,
      visibilityTimeout: visibilityTimeout ?? 30,
      maxHoldSeconds: this.#options.maxHoldSeconds,
      onAck: (message) => this.emit('ack', message),
      onRelease: (message) => this.emit('release', message),
      // The tracker counts its own retries in `stats`; only the event is ours to emit.
      onRetry: (error, attempt, delayMs) => this.emit('retry', error, attempt, delayMs),
      onListenerError: this.#onListenerError,
      onHeartbeatError: (error) => this.emit('heartbeatError', error),
    });
    debug('readable ready for %s', queueUrl);
    return this.#tracker;
  }

  override _read(): void {
    this.#loop.demand();
  }

  /**
   * Node calls `_read` once and not again until something is pushed. When `_read` declines to
   * start a receive (the demand is below a full batch), later reads must be noticed here, or the
   * stream would stall with a half-empty buffer. Every way of consuming (`pipe`, `for await`,
   * `'data'`, `read()`) goes through this method.
   */
  override read(size?: number): SqsMessage | null {
    const chunk = super.read(size) as SqsMessage | null;
    if (this.#loop.demanded) this.#loop.pump();
    return chunk;
  }

  /**
   * Invariant 15: a destination (and so the pipeline) that fails after this stream ended
   * naturally releases the messages still held, instead of the heartbeat keeping them for
   * `maxHoldSeconds`. Before a natural end, `pipeline()` destroys this stream itself.
   */
  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    watchDestination(destination, () => {
      if (this.readableEnded) this.#releaseAfterEnd();
    });
    return super.pipe(destination, options);
  }

  #releaseAfterEnd(): void {
    const tracker = this.#tracker;
    if (tracker === undefined || tracker.held === 0) return;
    debug('readable: its pipeline failed after the end; releasing %d held', tracker.held);
    const released = tracker.releaseAll().catch((error: unknown) => this.#releaseFailed(error));
    void settlesWithin(released, this.#options.shutdownTimeoutMs);
  }

  #releaseFailed(error: unknown): void {
    debug('readable: release failed: %s', (error as Error).message);
    this.#emitSafely('releaseError', error);
  }

  /**
   * Stops receiving, lets the buffered messages flow out, ends the stream, and resolves once it
   * ended and the acks asked for so far were confirmed. A receive in flight gets
   * {@link STOP_GRACE_MS} to answer (its messages are delivered), then a pending long poll is
   * aborted. Acks of messages still being processed keep working after that. When SQS does not
   * confirm the acks within `shutdownTimeoutMs` of the end, those acks reject and `stop()`
   * rejects with an `SqsStreamError` saying how many (they come back after their visibility
   * timeout; nothing is lost).
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    this.#loop.beginEnd(true);
    if (!this.readableEnded && !this.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.off('end', done);
          this.off('close', done);
          resolve();
        };
        this.on('end', done);
        this.on('close', done);
      });
    }
    const tracker = this.#tracker;
    if (tracker === undefined) return;
    const timeoutMs = this.#options.shutdownTimeoutMs;
    if (await settlesWithin(tracker.flushSettles(), timeoutMs)) return;
    const count = tracker.giveUpSettles(timeoutMs);
    throw new SqsStreamError(
      `stop(): SQS did not confirm ${count} acks or nacks on queue \`${this.#queue}\` within ` +
        `shutdownTimeoutMs (${timeoutMs} ms). Those messages were not deleted: they are delivered ` +
        'again after their visibility timeout. Check the network and the service.',
      { operation: 'DeleteMessageBatch', queue: this.#queue, code: 'ShutdownTimeout' },
    );
  }

  readonly #onRetry = (error: unknown, attempt: number, delayMs: number): void => {
    this.stats.errorsRetried++;
    this.emit('retry', error, attempt, delayMs);
  };

  readonly #onListenerError = (error: unknown): void => listenerFailed(this, error);

  #emitSafely(event: string, ...args: unknown[]): void {
    emitSafely(this, event, ...args);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const startedAt = Date.now();
    // After a natural end this is autoDestroy: messages already read stay with the consumer.
    const natural = this.readableEnded;
    this.#loop.close();
    this.#lifetime.abort();
    closeReadable({
      tracker: this.#tracker,
      natural,
      client: this.#client,
      ownsClient: this.#ownsClient,
      startedAt,
      shutdownTimeoutMs: this.#options.shutdownTimeoutMs,
      receives: this.#loop.settling,
      onReleaseError: (releaseError) => this.#releaseFailed(releaseError),
    }).then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}

/** Typed iteration: `for await (const message of source)` gives {@link SqsMessage}s. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface SqsReadable {
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<SqsMessage>;
}

export type { SqsReadableOptions };
