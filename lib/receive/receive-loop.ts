import { setMaxListeners } from 'node:events';
import type { Message } from '@aws-sdk/client-sqs';
import { debug } from '../core/debug.js';
import { toStreamError } from '../core/errors.js';
import { isFifoQueue } from '../core/queue.js';
import { isAbortError } from '../core/retry.js';
import { SqsMessage } from '../settle/index.js';
import { afterEmpty, nextReceiveSize, nextWaitSeconds, type DemandState } from './demand.js';
import type { NormalizedReadableOptions } from './readable-options.js';
import type { ReceiveContext, ReceiveHost, SafeEmit } from './receive-context.js';
import { receiveMessages } from './receive-request.js';

export type { ReceiveContext, ReceiveHost, SafeEmit };

/**
 * How long `stop()` lets receives in flight answer before aborting them. A receive on a queue
 * with messages answers in milliseconds; one still waiting after this is an idle long poll.
 */
export const STOP_GRACE_MS = 1000;

/**
 * SqsReadable's receive loop (DESIGN.md invariants 1 to 4): starts receives while there is
 * demand, at most `concurrency` at once and each sized to the unmet demand, goes on by itself
 * after an empty receive (pausing for short polls), and pushes what arrives. It ends the stream
 * (`push(null)`) once stopping and no receive is in flight.
 */
export class ReceiveLoop {
  readonly #host: ReceiveHost;
  readonly #emit: SafeEmit;
  readonly #options: NormalizedReadableOptions;
  /** The receives in flight, each settled once its messages (if any) are tracked. */
  readonly #receives = new Set<Promise<void>>();
  /** Every receive's signal: destroy and `stop()`'s grace cut off all of them at once. */
  readonly #abortReceives = new AbortController();
  /** The demand rule's input, updated in place: `pump()` runs on every `_read`. */
  readonly #demand: DemandState;
  #context: ReceiveContext | undefined;
  #requested = 0;
  #demanded = false;
  #stopping = false;
  #endPushed = false;
  #pauseTimer: NodeJS.Timeout | undefined;
  #abortTimer: NodeJS.Timeout | undefined;
  #emptyStreak = 0;
  #emptySince: number | undefined;

  constructor(host: ReceiveHost, options: NormalizedReadableOptions, emit: SafeEmit) {
    this.#host = host;
    this.#emit = emit;
    this.#options = options;
    // Each attempt of each receive listens to it, and `concurrency` has no upper bound.
    setMaxListeners(0, this.#abortReceives.signal);
    this.#demand = {
      highWaterMark: options.highWaterMark,
      batchSize: options.batchSize,
      maxMessages: options.maxMessages,
      received: 0,
      buffered: 0,
      requested: 0,
    };
  }

  /** ReceiveMessage calls in flight. */
  get inFlight(): number {
    return this.#receives.size;
  }

  /** The receives in flight (see `#receives`). */
  get settling(): Iterable<Promise<void>> {
    return this.#receives;
  }

  /** The queue is resolved: receives may start. */
  start(context: ReceiveContext): void {
    this.#context = context;
    const abortReceives = (): void => this.#abortReceives.abort();
    if (context.lifetime.aborted) abortReceives();
    else context.lifetime.addEventListener('abort', abortReceives, { once: true });
    this.pump();
  }

  /** Node asked for data (`_read`): from now on every read re-checks the demand. */
  demand(): void {
    this.#demanded = true;
    this.pump();
  }

  get demanded(): boolean {
    return this.#demanded;
  }

  /**
   * Stop starting receives; end once none is in flight. With `abort`, receives still in flight
   * after {@link STOP_GRACE_MS} are aborted: by then they are idle long polls, while a receive
   * that is returning messages answers within the grace. Aborting one of those would leave its
   * messages invisible on the server for the visibility timeout (they are taken, then dropped).
   */
  beginEnd(abort: boolean): void {
    this.#stopping = true;
    this.#clearTimers(false);
    if (abort && this.#receives.size > 0 && this.#abortTimer === undefined) {
      this.#abortTimer = setTimeout(() => {
        debug('readable stopping: aborting %d idle receives', this.#receives.size);
        this.#abortReceives.abort();
      }, STOP_GRACE_MS);
    }
    this.#maybeEnd();
  }

  /** The stream is being destroyed: no more receives, no more timers. */
  close(): void {
    this.#stopping = true;
    this.#clearTimers(true);
  }

  /** Starts receives while there is demand for them (invariants 1 to 3). */
  pump(): void {
    const host = this.#host;
    if (!this.#demanded || this.#stopping || host.destroyed || this.#context === undefined) return;
    if (this.#pauseTimer !== undefined) return;
    const demand = this.#demand;
    while (this.#receives.size < this.#options.concurrency) {
      demand.received = host.stats.received;
      demand.buffered = host.readableLength;
      demand.requested = this.#requested;
      const size = nextReceiveSize(demand);
      if (size === 0) return;
      this.#startReceive(this.#context, size);
    }
  }

  #maybeEnd(): void {
    if (this.#receives.size === 0) this.#clearAbortTimer();
    if (this.#stopping && this.#receives.size === 0 && !this.#endPushed && !this.#host.destroyed) {
      this.#endPushed = true;
      debug('readable ending: received %d', this.#host.stats.received);
      this.#host.push(null);
    }
  }

  #clearTimers(abortTimer: boolean): void {
    clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
    if (abortTimer) this.#clearAbortTimer();
  }

  #clearAbortTimer(): void {
    clearTimeout(this.#abortTimer);
    this.#abortTimer = undefined;
  }

  #startReceive(context: ReceiveContext, size: number): void {
    const signal = this.#abortReceives.signal;
    this.#requested += size;
    const { waitTimeSeconds, idleTimeoutMs } = this.#options;
    const startedAt = Date.now();
    const waitSeconds = nextWaitSeconds(
      waitTimeSeconds,
      idleTimeoutMs,
      this.#emptySince,
      startedAt,
    );
    const finished = (): void => {
      this.#receives.delete(settled);
      this.#requested -= size;
    };
    const settled = this.#receive(context, size, waitSeconds, signal)
      .then((raw) => this.#admit(context, raw))
      .then(
        (messages) => {
          finished();
          this.#onMessages(context, messages, startedAt, waitSeconds);
        },
        (error: unknown) => {
          finished();
          this.#onReceiveError(context, error, signal.aborted);
        },
      );
    this.#receives.add(settled);
  }

  #receive(
    context: ReceiveContext,
    size: number,
    waitSeconds: number,
    signal: AbortSignal,
  ): Promise<Message[]> {
    const { attributeNames, messageAttributeNames, visibilityTimeout } = this.#options;
    const request = {
      queueUrl: context.queueUrl,
      fifo: isFifoQueue(context.queueUrl),
      maxMessages: size,
      waitTimeSeconds: waitSeconds,
      visibilityTimeout,
      attributeNames,
      messageAttributeNames,
    };
    return receiveMessages(request, {
      client: context.client,
      policy: context.policy,
      signal,
      onAttempt: () => this.#host.stats.receiveRequests++,
      onRetry: context.onRetry,
      onListenerError: context.onListenerError,
    });
  }

  /**
   * Wraps and tracks what a receive returned (a late response to a receive cut by destroy too,
   * so the release covers it); with `largePayloads`, their payloads are read before the receive
   * counts as done, so they stay within the demand (DESIGN.md invariant 1).
   */
  #admit(context: ReceiveContext, raw: Message[]): SqsMessage[] | Promise<SqsMessage[]> {
    const now = Date.now();
    const messages: SqsMessage[] = [];
    for (const message of raw) {
      // SQS always sends both; a message without them cannot be settled and comes back after
      // its visibility timeout. It must not cost the rest of the batch.
      if (message.MessageId === undefined || message.ReceiptHandle === undefined) {
        debug('readable: skipping a received message without MessageId or ReceiptHandle');
        continue;
      }
      const received = new SqsMessage(message, context.queueUrl, context.tracker, now);
      context.tracker.track(received);
      messages.push(received);
    }
    this.#host.stats.received += messages.length;
    if (context.payloads === undefined || this.#host.destroyed) return messages;
    return context.payloads.resolve(messages);
  }

  #onMessages(
    context: ReceiveContext,
    messages: SqsMessage[],
    startedAt: number,
    waitSeconds: number,
  ): void {
    const host = this.#host;
    const now = Date.now();
    if (host.destroyed) return;
    if (messages.length === 0) {
      host.stats.emptyReceives++;
      this.#onEmpty(startedAt, now, waitSeconds);
      this.#emit('empty');
    } else {
      this.#emptyStreak = 0;
      this.#emptySince = undefined;
      for (const message of messages) host.push(message);
      if (host.stats.received >= this.#options.maxMessages) this.beginEnd(false);
      this.#emit('receive', messages.length);
    }
    this.#maybeEnd();
    this.pump();
  }

  #onEmpty(startedAt: number, now: number, waitSeconds: number): void {
    const emptySince = (this.#emptySince ??= startedAt);
    const { idleTimeoutMs, emptyBackoff } = this.#options;
    const next = afterEmpty({
      startedAt,
      now,
      waitSeconds,
      emptySince,
      streak: this.#emptyStreak,
      idleTimeoutMs,
      emptyBackoff,
    });
    if (next.end) {
      debug('readable idle for %d ms: ending', now - emptySince);
      this.beginEnd(false);
      return;
    }
    this.#emptyStreak = next.streak;
    if (next.pauseMs !== undefined) {
      this.#clearTimers(false);
      this.#pauseTimer = setTimeout(() => {
        this.#pauseTimer = undefined;
        this.pump();
      }, next.pauseMs);
    }
  }

  #onReceiveError(context: ReceiveContext, error: unknown, aborted: boolean): void {
    if (aborted || isAbortError(error) || this.#host.destroyed) {
      this.#maybeEnd();
      return;
    }
    this.#host.destroy(toStreamError(error, 'ReceiveMessage', context.queue));
  }
}
