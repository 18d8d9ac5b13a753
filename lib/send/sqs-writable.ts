import { setMaxListeners } from 'node:events';
import { Writable } from 'node:stream';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { resolveClient } from '../core/client.js';
import { debug } from '../core/debug.js';
import { emitSafely, listenerFailed } from '../core/listener-errors.js';
import { isFifoQueue, resolveQueueUrl } from '../core/queue.js';
import { createOffloader, type PayloadOffloader } from '../payloads/index.js';
import { abortError, type OnRetry } from '../core/retry.js';
import { armEndDeadline } from './end-deadline.js';
import { sendAll, type SendContext } from './send-batches.js';
import type { Item, SqsWritableStats, WriteCallback } from './writable-types.js';
import {
  prepareMessage,
  SQS_MAX_BATCH_BYTES,
  type PreparedMessage,
  type SendChunk,
  type SendInput,
} from './send-input.js';
import {
  normalizeWritableOptions,
  type NormalizedWritableOptions,
  type SqsWritableOptions,
} from './writable-options.js';

export type { SendChunk, SendInput, SqsWritableOptions, SqsWritableStats };

/**
 * An object-mode Writable that sends each message written to it to an SQS queue, in
 * SendMessageBatch requests. A write's callback fires only once SQS accepted that message; an
 * invalid or oversize message errors the stream before any request is made for it, after the
 * messages written before it have been sent.
 *
 * Events beyond a Writable's own: `'sent'` (count of messages one request got accepted) and
 * `'retry'` (error, attempt, delayMs).
 */
export class SqsWritable extends Writable {
  /** Live counters; read at any time. */
  readonly stats: SqsWritableStats = {
    sent: 0,
    sendRequests: 0,
    errorsRetried: 0,
    inFlight: 0,
    failed: 0,
  };

  readonly #options: NormalizedWritableOptions;
  readonly #client: SQSClient;
  readonly #ownsClient: boolean;
  readonly #fifo: boolean;
  #queueUrl: string | undefined;
  /** Aborted on destroy: stops queue resolution, requests in flight and backoff sleeps. */
  readonly #lifetime = new AbortController();
  #nextIndex = 0;
  /** The queue URL resolution started in `_construct`; sends wait for it. */
  #ready: Promise<void> = Promise.resolve();
  #waitingForCompany = false;
  #endArmed = false;
  /** With `largePayloads`, once the queue is known: what puts large bodies in S3. */
  #offloader: PayloadOffloader | undefined;

  constructor(options: SqsWritableOptions) {
    const normalized = normalizeWritableOptions(options);
    super({
      objectMode: true,
      highWaterMark: normalized.highWaterMark,
      signal: normalized.signal,
    });
    this.#options = normalized;
    const { client, owned } = resolveClient(normalized.client, normalized.clientConfig);
    this.#client = client;
    this.#ownsClient = owned;
    this.#queueUrl = normalized.queueUrl;
    this.#fifo = isFifoQueue(normalized.queueUrl ?? normalized.queueName ?? '');
    // Each request in flight listens to it: many in flight are expected, not a leak.
    setMaxListeners(normalized.maxBatchesInFlight + 10, this.#lifetime.signal);
  }

  /** The queue's URL, once known (a `queueName` is resolved before the first send). */
  get queueUrl(): string | undefined {
    return this.#queueUrl;
  }

  /** Whether the queue is a FIFO queue (each message then needs a `groupId`). */
  get fifo(): boolean {
    return this.#fifo;
  }

  get #queue(): string {
    return this.#queueUrl ?? this.#options.queueName ?? '(unknown queue)';
  }

  readonly #onRetry: OnRetry = (error, attempt, delayMs) => {
    this.stats.errorsRetried += 1;
    this.emit('retry', error, attempt, delayMs);
  };

  readonly #onListenerError = (error: unknown): void => listenerFailed(this, error);

  #emitSafely(event: string, ...args: unknown[]): void {
    emitSafely(this, event, ...args);
  }

  /**
   * Starts resolving a `queueName` without holding construction up: Node defers `_destroy`
   * until `_construct` calls back, so a construction waiting on a retrying GetQueueUrl would make
   * `destroy()` hang. Sends wait for it instead; a failure destroys the stream.
   */
  override _construct(callback: (error?: Error | null) => void): void {
    this.#ready = resolveQueueUrl(
      { queueUrl: this.#options.queueUrl, queueName: this.#options.queueName },
      {
        client: this.#client,
        policy: { retry: this.#options.retry, requestTimeoutMs: this.#options.requestTimeoutMs },
        signal: this.#lifetime.signal,
        onRetry: this.#onRetry,
        onListenerError: this.#onListenerError,
      },
    ).then(async (queueUrl) => {
      this.#queueUrl = queueUrl;
      debug('writable ready for %s', queueUrl);
      const { largePayloads, maxMessageBytes, retry, requestTimeoutMs } = this.#options;
      if (largePayloads === undefined) return;
      const signal = this.#lifetime.signal;
      const policy = { retry, requestTimeoutMs };
      const stream = { client: this.#client, queueUrl, maxMessageBytes, policy, signal };
      this.#offloader = await createOffloader(largePayloads, { ...stream, onRetry: this.#onRetry });
    });
    // Aborted by destroy(): not an error of its own (destroy's error, if any, is reported).
    this.#ready.catch((error: unknown) => {
      if (!this.destroyed) this.destroy(error as Error);
    });
    callback();
  }

  /**
   * Checks and serialises the message at once (so a bad one is known before any request), and
   * lets the first write of a burst wait a tick for company: the stream corks itself and uncorks
   * on the next tick, so everything written synchronously reaches `_writev` together and goes
   * out in full batches instead of a batch of one followed by the rest.
   */
  override write(chunk: SendChunk | unknown, callback?: WriteCallback): boolean;
  override write(
    chunk: SendChunk | unknown,
    encoding: BufferEncoding,
    callback?: WriteCallback,
  ): boolean;
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    if (typeof encoding === 'function') callback = encoding;
    // Writes to a finished or destroyed stream: Node's own errors.
    if (this.destroyed || this.writableEnded) return super.write(chunk, callback);
    const item: Item = {
      index: this.#nextIndex++,
      message: undefined,
      invalid: undefined,
      result: undefined,
      callback,
    };
    try {
      item.message = prepareMessage(chunk, item.index, {
        fifo: this.#fifo,
        queue: this.#queue,
        // With large payloads the limit holds for what is sent: checked once offloaded.
        maxMessageBytes: this.#options.largePayloads ? Infinity : this.#options.maxMessageBytes,
      });
    } catch (error) {
      item.invalid = error as Error;
      debug('writable: message #%d rejected before sending: %s', item.index, item.invalid.name);
    }
    if (!this.#waitingForCompany && this.writableLength === 0 && this.writableCorked === 0) {
      this.#waitingForCompany = true;
      this.cork();
      process.nextTick(() => {
        this.#waitingForCompany = false;
        // `end()` uncorks fully by itself; do not take away a cork the user added.
        if (this.writableCorked > 0) this.uncork();
      });
    }
    return super.write(item, (error) => {
      const result = item.result === undefined ? error : item.result;
      if (result !== null && result !== undefined) this.stats.failed += 1;
      item.callback?.(result);
    });
  }

  /** `end(chunk)` writes through {@link write}, so the last message is checked like the others. */
  override end(callback?: () => void): this;
  override end(chunk: SendChunk | unknown, callback?: () => void): this;
  override end(chunk: SendChunk | unknown, encoding: BufferEncoding, callback?: () => void): this;
  override end(
    chunk?: unknown,
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this {
    if (typeof chunk === 'function') {
      this.#boundEnd();
      return super.end(chunk);
    }
    if (typeof encoding === 'function') callback = encoding;
    if (chunk !== undefined && chunk !== null) this.write(chunk);
    this.#boundEnd();
    return super.end(callback);
  }

  #boundEnd(): void {
    if (this.#endArmed || this.destroyed || this.writableFinished) return;
    this.#endArmed = true;
    armEndDeadline(this, this.#options.shutdownTimeoutMs, () => this.#queue);
  }

  override _write(chunk: Item, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#send([chunk]).then(callback, callback);
  }

  override _writev(chunks: Array<{ chunk: Item }>, callback: WriteCallback): void {
    this.#send(chunks.map(({ chunk }) => chunk)).then(callback, callback);
  }

  /**
   * Sends the items up to the first invalid one, then settles every item: accepted ones with
   * `null`, the rest with an error. Resolves with the error that fails the stream, if any.
   */
  async #send(items: Item[]): Promise<Error | null> {
    try {
      await this.#ready;
    } catch (error) {
      for (const item of items) item.result ??= error as Error;
      return error as Error;
    }
    await this.#offloader?.offloadWrites(items);
    const stopAt = items.findIndex((item) => item.invalid !== undefined);
    const sendable = stopAt === -1 ? items : items.slice(0, stopAt);
    const byIndex = new Map<number, Item>();
    for (const item of sendable) if (item.message !== undefined) byIndex.set(item.index, item);
    const messages = [...byIndex.values()].map((item) => item.message as PreparedMessage);
    let failure = await sendAll(messages, this.#sendContext(), (message, result) => {
      const item = byIndex.get(message.index);
      if (item !== undefined) item.result = result;
    });
    if (this.#lifetime.signal.aborted) {
      failure ??= this.errored ?? abortError(this.#lifetime.signal);
    }
    const invalid = items[stopAt];
    if (invalid !== undefined) {
      invalid.result = invalid.invalid;
      failure ??= invalid.invalid;
    }
    if (failure === undefined) return null;
    for (const item of items) if (item.result === undefined) item.result = failure;
    return failure;
  }

  #sendContext(): SendContext {
    return {
      client: this.#client,
      queueUrl: this.#queueUrl ?? this.#queue,
      fifo: this.#fifo,
      batchSize: this.#options.batchSize,
      maxBatchBytes: SQS_MAX_BATCH_BYTES,
      maxBatchesInFlight: this.#options.maxBatchesInFlight,
      retry: this.#options.retry,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      signal: this.#lifetime.signal,
      onRetry: this.#onRetry,
      onListenerError: this.#onListenerError,
      onSent: (count) => {
        this.stats.sent += count;
        this.#emitSafely('sent', count);
      },
      onRequest: (delta) => {
        this.stats.inFlight += delta;
        if (delta > 0) this.stats.sendRequests += 1;
      },
    };
  }

  /**
   * Nothing is left to flush here: `end()` uncorks, so the last partial batch reaches `_writev`
   * at once, and Node calls `_final` only after every write's callback (SQS accepted them all).
   */
  override _final(callback: (error?: Error | null) => void): void {
    debug(
      'writable: finished, %d messages sent in %d requests',
      this.stats.sent,
      this.stats.sendRequests,
    );
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#lifetime.abort(error ?? undefined);
    if (this.#ownsClient) this.#client.destroy();
    callback(error);
  }
}
