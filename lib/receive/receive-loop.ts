import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { debug } from '../core/debug.js';
import { toStreamError } from '../core/errors.js';
import { isFifoQueue } from '../core/queue.js';
import type { RequestPolicy } from '../core/request-loop.js';
import { isAbortError, type OnRetry } from '../core/retry.js';
import { SqsMessage, type MessageTracker } from '../settle/index.js';
import { afterEmpty, nextReceiveSize, nextWaitSeconds } from './demand.js';
import type { NormalizedReadableOptions } from './readable-options.js';
import type { SqsReadableStats } from './readable-stats.js';
import { receiveMessages } from './receive-request.js';

/**
 * How long `stop()` lets receives in flight answer before aborting them. A receive on a queue
 * with messages answers in milliseconds; one still waiting after this is an idle long poll.
 */
export const STOP_GRACE_MS = 1000;

/** What the loop needs of the stream it fills. */
export interface ReceiveHost {
  readonly readableLength: number;
  readonly destroyed: boolean;
  readonly stats: SqsReadableStats;
  push(message: SqsMessage | null): boolean;
  destroy(error: Error): this;
}

/** Emits an event of the stream; a listener that throws must not break the loop. */
export type SafeEmit = (event: string, ...args: unknown[]) => void;

export interface ReceiveContext {
  client: SQSClient;
  queueUrl: string;
  /** The queue as the user named it, for error messages. */
  queue: string;
  tracker: MessageTracker;
  policy: RequestPolicy;
  /** Aborted on destroy: every receive in flight and every backoff sleep listens to it. */
  lifetime: AbortSignal;
  onRetry: OnRetry;
  onListenerError: (error: unknown) => void;
}

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
  readonly #receives = new Map<AbortController, Promise<void>>();
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
  }

  /** ReceiveMessage calls in flight. */
  get inFlight(): number {
    return this.#receives.size;
  }

  /** The receives in flight, each settled once its messages (if any) are tracked. */
  get settling(): Iterable<Promise<void>> {
    return this.#receives.values();
  }

  /** The queue is resolved: receives may start. */
  start(context: ReceiveContext): void {
    this.#context = context;
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
        for (const controller of this.#receives.keys()) controller.abort();
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
    while (this.#receives.size < this.#options.concurrency) {
      const size = nextReceiveSize({
        highWaterMark: this.#options.highWaterMark,
        batchSize: this.#options.batchSize,
        maxMessages: this.#options.maxMessages,
        received: host.stats.received,
        buffered: host.readableLength,
        requested: this.#requested,
      });
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
    const controller = new AbortController();
    const onLifetimeAbort = (): void => controller.abort();
    context.lifetime.addEventListener('abort', onLifetimeAbort, { once: true });
    this.#requested += size;
    const { waitTimeSeconds, idleTimeoutMs } = this.#options;
    const startedAt = Date.now();
    const waitSeconds = nextWaitSeconds(
      waitTimeSeconds,
      idleTimeoutMs,
      this.#emptySince,
      startedAt,
    );
    const done = this.#receive(context, size, waitSeconds, controller.signal).then(
      (messages) => ({ messages, error: undefined as unknown }),
      (error: unknown) => ({ messages: undefined, error }),
    );
    const settled = done.then(({ messages, error }) => {
      context.lifetime.removeEventListener('abort', onLifetimeAbort);
      this.#receives.delete(controller);
      this.#requested -= size;
      if (messages !== undefined) this.#onMessages(context, messages, startedAt, waitSeconds);
      else this.#onReceiveError(context, error, controller.signal.aborted);
    });
    this.#receives.set(controller, settled);
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

  #onMessages(
    context: ReceiveContext,
    raw: Message[],
    startedAt: number,
    waitSeconds: number,
  ): void {
    const host = this.#host;
    const now = Date.now();
    const messages: SqsMessage[] = [];
    for (const message of raw) {
      // SQS always sends both; a message without them cannot be settled and comes back after
      // its visibility timeout. It must not cost the rest of the batch.
      if (message.MessageId === undefined || message.ReceiptHandle === undefined) {
        debug('readable: skipping a received message without MessageId or ReceiptHandle');
        continue;
      }
      // A late response to a receive cut by destroy: track so the release covers these too.
      const received = new SqsMessage(message, context.queueUrl, context.tracker, now);
      context.tracker.track(received);
      messages.push(received);
    }
    host.stats.received += messages.length;
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
