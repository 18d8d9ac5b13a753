import { Readable } from 'node:stream';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { resolveClient } from '../core/client.js';
import { debug } from '../core/debug.js';
import { closeReadable } from './readable-close.js';
import { afterEmpty, nextReceiveSize, nextWaitSeconds } from './demand.js';
import { toStreamError } from '../core/errors.js';
import { SqsMessage } from '../settle/index.js';
import { getVisibilityTimeout, receiveMessages, resolveQueueUrl } from '../core/queue.js';
import {
  normalizeReadableOptions,
  type NormalizedReadableOptions,
  type SqsReadableOptions,
} from './readable-options.js';
import { isAbortError, withRetry } from '../core/retry.js';
import { newStats, type SqsReadableStats } from './readable-stats.js';
import { MessageTracker } from '../settle/index.js';

/**
 * How long `stop()` lets receives in flight answer before aborting them. A receive on a queue
 * with messages answers in milliseconds; one still waiting after this is an idle long poll.
 */
export const STOP_GRACE_MS = 1000;

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
  readonly #client: SQSClient;
  readonly #ownsClient: boolean;
  #queueUrl: string | undefined;
  #tracker: MessageTracker | undefined;
  /** Aborted on destroy: stops construction calls, receives and backoff sleeps. */
  readonly #lifetime = new AbortController();
  readonly #receives = new Map<AbortController, Promise<void>>();
  #requested = 0;
  #demanded = false;
  #stopping = false;
  #endPushed = false;
  #pauseTimer: NodeJS.Timeout | undefined;
  #abortTimer: NodeJS.Timeout | undefined;
  #emptyStreak = 0;
  #emptySince: number | undefined;
  #stopPromise: Promise<void> | undefined;

  constructor(options: SqsReadableOptions) {
    // Everything that can throw runs before super(): a constructor that throws after it would
    // leave a half-built stream whose _construct still runs.
    const normalized = normalizeReadableOptions(options);
    const { client, owned } = resolveClient(normalized.client, normalized.clientConfig);
    super({ objectMode: true, highWaterMark: normalized.highWaterMark, signal: normalized.signal });
    this.#options = normalized;
    this.#client = client;
    this.#ownsClient = owned;
    this.#queueUrl = normalized.queueUrl;
    Object.defineProperties(this.stats, {
      buffered: { enumerable: true, get: () => this.readableLength },
      inFlight: { enumerable: true, get: () => this.#receives.size },
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
      () => this.#pump(),
      (error: unknown) => {
        // Destroyed meanwhile: the abort is ours, and the caller has nothing to be told.
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
    callback();
  }

  async #prepare(): Promise<void> {
    const call = {
      client: this.#client,
      retry: this.#options.retry,
      signal: this.#lifetime.signal,
      onRetry: this.#onRetry,
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
      retry: this.#options.retry,
      ackBatchWindowMs: this.#options.ackBatchWindowMs,
      heartbeat: this.#options.heartbeat,
      visibilityTimeout: visibilityTimeout ?? 30,
      maxHoldSeconds: this.#options.maxHoldSeconds,
      onAck: (message) => this.emit('ack', message),
      onRelease: (message) => this.emit('release', message),
      // The tracker counts its own retries in `stats`; only the event is ours to emit.
      onRetry: (error, attempt, delayMs) => this.emit('retry', error, attempt, delayMs),
      onHeartbeatError: (error) => this.emit('heartbeatError', error),
    });
    debug('readable ready for %s', queueUrl);
  }

  override _read(): void {
    this.#demanded = true;
    this.#pump();
  }

  /**
   * Node calls `_read` once and not again until something is pushed. When `_read` declines to
   * start a receive (the demand is below a full batch), later reads must be noticed here, or the
   * stream would stall with a half-empty buffer. Every way of consuming (`pipe`, `for await`,
   * `'data'`, `read()`) goes through this method.
   */
  override read(size?: number): SqsMessage | null {
    const chunk = super.read(size) as SqsMessage | null;
    if (this.#demanded) this.#pump();
    return chunk;
  }

  /**
   * Stops receiving, lets the buffered messages flow out, ends the stream, and resolves once it
   * ended and the acks asked for so far were confirmed. A receive in flight gets
   * {@link STOP_GRACE_MS} to answer (its messages are delivered), then a pending long poll is
   * aborted. Acks of messages still being processed keep working after that.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    this.#beginEnd(true);
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
    await this.#tracker?.flush();
  }

  /**
   * Stop starting receives; end once none is in flight. With `abort`, receives still in flight
   * after {@link STOP_GRACE_MS} are aborted: by then they are idle long polls, while a receive
   * that is returning messages answers within the grace. Aborting one of those would leave its
   * messages invisible on the server for the visibility timeout (they are taken, then dropped).
   */
  #beginEnd(abort: boolean): void {
    this.#stopping = true;
    this.#clearPause();
    if (abort && this.#receives.size > 0 && this.#abortTimer === undefined) {
      this.#abortTimer = setTimeout(() => {
        debug('readable stopping: aborting %d idle receives', this.#receives.size);
        for (const controller of this.#receives.keys()) controller.abort();
      }, STOP_GRACE_MS);
    }
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#receives.size === 0) this.#clearAbortTimer();
    if (this.#stopping && this.#receives.size === 0 && !this.#endPushed && !this.destroyed) {
      this.#endPushed = true;
      debug('readable ending: received %d', this.stats.received);
      this.push(null);
    }
  }

  #clearAbortTimer(): void {
    if (this.#abortTimer !== undefined) clearTimeout(this.#abortTimer);
    this.#abortTimer = undefined;
  }

  #clearPause(): void {
    if (this.#pauseTimer !== undefined) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
  }

  /** Starts receives while there is demand for them (invariants 1 to 3). */
  #pump(): void {
    if (!this.#demanded || this.#stopping || this.destroyed || this.#tracker === undefined) return;
    if (this.#pauseTimer !== undefined) return;
    while (this.#receives.size < this.#options.concurrency) {
      const size = nextReceiveSize({
        highWaterMark: this.#options.highWaterMark,
        batchSize: this.#options.batchSize,
        maxMessages: this.#options.maxMessages,
        received: this.stats.received,
        buffered: this.readableLength,
        requested: this.#requested,
      });
      if (size === 0) return;
      this.#startReceive(size);
    }
  }

  #startReceive(size: number): void {
    const controller = new AbortController();
    const onLifetimeAbort = (): void => controller.abort();
    this.#lifetime.signal.addEventListener('abort', onLifetimeAbort, { once: true });
    this.#requested += size;
    const { waitTimeSeconds, idleTimeoutMs } = this.#options;
    const waitSeconds = nextWaitSeconds(
      waitTimeSeconds,
      idleTimeoutMs,
      this.#emptySince,
      Date.now(),
    );
    const startedAt = Date.now();
    const done = this.#receive(size, waitSeconds, controller.signal).then(
      (messages) => ({ messages, error: undefined as unknown }),
      (error: unknown) => ({ messages: undefined, error }),
    );
    const settled = done.then(({ messages, error }) => {
      this.#lifetime.signal.removeEventListener('abort', onLifetimeAbort);
      this.#receives.delete(controller);
      this.#requested -= size;
      if (messages !== undefined) this.#onMessages(messages, startedAt, waitSeconds);
      else this.#onReceiveError(error, controller.signal.aborted);
    });
    this.#receives.set(controller, settled);
  }

  #receive(size: number, waitSeconds: number, signal: AbortSignal): Promise<Message[]> {
    const { attributeNames, messageAttributeNames, visibilityTimeout, retry } = this.#options;
    const request = {
      queueUrl: this.#queueUrl as string,
      maxMessages: size,
      waitTimeSeconds: waitSeconds,
      visibilityTimeout,
      attributeNames,
      messageAttributeNames,
    };
    return withRetry(
      () => {
        this.stats.receiveRequests++;
        return receiveMessages(this.#client, request, signal);
      },
      retry,
      signal,
      this.#onRetry,
    );
  }

  readonly #onRetry = (error: unknown, attempt: number, delayMs: number): void => {
    this.stats.errorsRetried++;
    debug('retry %d in %d ms after %s', attempt, delayMs, (error as Error | undefined)?.name);
    this.emit('retry', error, attempt, delayMs);
  };

  #onMessages(raw: Message[], startedAt: number, waitSeconds: number): void {
    const tracker = this.#tracker as MessageTracker;
    const now = Date.now();
    // A late response to a receive cut by destroy: track so the release covers these too.
    const messages = raw.map((m) => new SqsMessage(m, this.#queueUrl as string, tracker, now));
    for (const message of messages) tracker.track(message);
    this.stats.received += messages.length;
    if (this.destroyed) return;
    if (messages.length === 0) {
      this.stats.emptyReceives++;
      this.emit('empty');
      this.#onEmpty(startedAt, now, waitSeconds);
    } else {
      this.#emptyStreak = 0;
      this.#emptySince = undefined;
      this.emit('receive', messages.length);
      for (const message of messages) this.push(message);
      if (this.stats.received >= this.#options.maxMessages) this.#beginEnd(false);
    }
    this.#maybeEnd();
    this.#pump();
  }

  #onEmpty(startedAt: number, now: number, waitSeconds: number): void {
    const emptySince = (this.#emptySince ??= startedAt);
    const { idleTimeoutMs, emptyBackoff } = this.#options;
    const streak = this.#emptyStreak;
    const next = afterEmpty({
      startedAt,
      now,
      waitSeconds,
      emptySince,
      streak,
      idleTimeoutMs,
      emptyBackoff,
    });
    if (next.end) {
      debug('readable idle for %d ms: ending', now - emptySince);
      this.#beginEnd(false);
      return;
    }
    this.#emptyStreak = next.streak;
    if (next.pauseMs !== undefined) {
      this.#clearPause();
      this.#pauseTimer = setTimeout(() => {
        this.#pauseTimer = undefined;
        this.#pump();
      }, next.pauseMs);
    }
  }

  #onReceiveError(error: unknown, aborted: boolean): void {
    if (aborted || isAbortError(error) || this.destroyed) {
      this.#maybeEnd();
      return;
    }
    this.destroy(toStreamError(error, 'ReceiveMessage', this.#queue));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // After a natural end this is autoDestroy: messages already read stay with the consumer.
    const natural = this.readableEnded;
    this.#stopping = true;
    this.#clearPause();
    this.#clearAbortTimer();
    this.#lifetime.abort();
    Promise.allSettled(this.#receives.values())
      .then(() => closeReadable(this.#tracker, natural, this.#client, this.#ownsClient))
      .then(
        () => callback(error),
        (releaseError: unknown) => callback(error ?? (releaseError as Error)),
      );
  }
}

/** Typed iteration: `for await (const message of source)` gives {@link SqsMessage}s. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface SqsReadable {
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<SqsMessage>;
}

export type { SqsReadableOptions };
