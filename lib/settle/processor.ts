import { Writable } from 'node:stream';
import { settlesWithin } from '../core/deadline.js';
import { emitRethrowing } from '../core/listener-errors.js';
import { releaseAll } from './processor-release.js';
import { describeChunk } from './describe-chunk.js';
import { GroupFailures, GroupLanes, laneKey } from './group-lanes.js';
import { ackReported, settlingSlot, SqsMessage, writtenSlot } from './message.js';
import { SlotSet, slotField } from '../core/slot-set.js';
import { startRun, type MessageRun, type RunOutcome } from './message-run.js';
import {
  MIN_SETTLING,
  normalizeProcessorOptions,
  processorStats,
  PROCESSOR_WRITE_BUFFER,
  type NormalizedProcessorOptions,
  type ProcessHandler,
  type SqsProcessorOptions,
  type SqsProcessorStats,
} from './processor-options.js';
import { trackerOf } from './tracker.js';

type WriteCallback = (error?: Error | null) => void;

/**
 * An object-mode Writable that ends a pipeline of {@link SqsMessage}s: it runs
 * `handler(message, { signal, data })` for each one, at most `concurrency` at once, acks the
 * message when the handler resolves, and nacks it with `retryDelaySeconds` when it rejects.
 *
 * A write's callback fires once the message has a slot, so the source's backpressure holds. The
 * processor holds at most `concurrency` running messages, `concurrency` more waiting behind an
 * earlier message of their group (`'group'` ordering), 10 in its write buffer, and the messages
 * whose ack or nack SQS has not confirmed yet (at most 100, or `concurrency` if more).
 *
 * Events, beyond a Writable's own:
 * - `'processed'` `(message: SqsMessage)`: the handler succeeded and SQS confirmed the ack.
 * - `'failed'` `(error: unknown, message: SqsMessage)`: the handler rejected or threw (its own
 *   error), ran past `timeoutMs` (a `TimeoutError`), or the body failed `schema` (a
 *   {@link SchemaValidationError}); the message is being nacked.
 * - `'settleError'` `(error: SqsStreamError, message: SqsMessage)`: an ack or nack failed after
 *   SQS's retries (the message comes back after its visibility timeout). Without a listener,
 *   the processor is destroyed with the error instead: it is never silent.
 *
 * `end()` waits for every handler and its ack; `destroy()` aborts the running handlers' signals
 * (no `'failed'` for those) and releases (visibility 0) every message written and not settled.
 *
 * ```ts
 * await pipeline(new SqsReadable({ queueUrl }), new SqsProcessor(async (message) => save(message)));
 * ```
 */
export class SqsProcessor<Data = undefined> extends Writable {
  readonly #options: NormalizedProcessorOptions<Data>;
  readonly #handler: ProcessHandler<Data>;
  readonly #maxSettling: number;
  /** Written and not yet settled by the processor: Node's buffer, incoming, waiting, running. */
  readonly #written = new SlotSet(writtenSlot);
  /** The chunks of the current `_write`/`_writev`, not yet placed; its callback fires after. */
  #incoming: SqsMessage[] = [];
  #incomingCallback: WriteCallback | undefined;
  readonly #lanes = new GroupLanes();
  readonly #failures = new GroupFailures();
  /** Heads of lanes whose turn came while no slot was free. */
  #ready: SqsMessage[] = [];
  /** Lane tails and ready heads: placed, not running. */
  #waiting = 0;
  readonly #running = new SlotSet<MessageRun>(slotField);
  /** Acked or nacked by the processor, SQS's answer not in yet. */
  readonly #settles = new SlotSet(settlingSlot);
  #flushing = false;
  #onIdle: (() => void) | undefined;

  /** Live counters; read at any time. */
  readonly stats: SqsProcessorStats;

  constructor(handler: ProcessHandler<Data>, options?: SqsProcessorOptions<Data>) {
    // Everything that can throw runs before super().
    const normalized = normalizeProcessorOptions<Data>(handler, options);
    super({ objectMode: true, highWaterMark: PROCESSOR_WRITE_BUFFER });
    this.#options = normalized;
    this.#handler = handler;
    this.#maxSettling = Math.max(MIN_SETTLING, normalized.concurrency);
    this.stats = processorStats(
      () => this.#running.size,
      () => this.#written.size,
    );
  }

  /**
   * Sees each message as it is written: from then on the processor releases it on destroy, and
   * nacks at once one written after a failure of its group (received before it), even buffered.
   */
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    if (chunk instanceof SqsMessage && !this.destroyed && !this.writableEnded) this.#admit(chunk);
    return super.write(chunk, encoding as BufferEncoding, callback);
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#accept([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, callback: WriteCallback): void {
    const messages = chunks.map(({ chunk }) => chunk);
    this.#accept(messages, callback);
  }

  /** Waits for every message written to run and be settled; settles go out without the window. */
  override _final(callback: (error?: Error | null) => void): void {
    this.#flushing = true;
    for (const message of this.#settles) trackerOf(message)?.sendPending();
    this.#onIdle = () => callback();
    this.#checkIdle();
  }

  /**
   * Aborts the running handlers (their outcome is ignored: no `'failed'`), releases every message
   * written and not settled (visibility 0, sent at once), and closes once those and the settles
   * in flight are confirmed. A release that fails is not an error: the message comes back after
   * its visibility timeout.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const run of this.#running) run.abort();
    this.#running.clear();
    const released = releaseAll(this.#written, this.#settles);
    this.#written.clear();
    this.#incoming = [];
    this.#incomingCallback = undefined;
    this.#ready = [];
    this.#waiting = 0;
    this.#lanes.clear();
    // Bounded (invariant 11): what SQS has not confirmed by then comes back after its timeout.
    void settlesWithin(released, this.#options.shutdownTimeoutMs).then(() => callback(error));
  }

  #laneKey(message: SqsMessage): string | undefined {
    return laneKey(message, this.#options.ordering);
  }

  #admit(message: SqsMessage): void {
    if (message.settled || this.#written.has(message)) return;
    this.#written.add(message);
    const key = this.#laneKey(message);
    if (key !== undefined && this.#failures.covers(key, message.receivedAt)) {
      this.#skip(message, key);
    }
    this.#failures.prune(message.receivedAt);
  }

  #accept(chunks: unknown[], callback: WriteCallback): void {
    const wrong = chunks.findIndex((chunk) => !(chunk instanceof SqsMessage));
    if (wrong !== -1) {
      // The stream is destroyed with it, and releases the valid messages written.
      callback(
        new TypeError(
          `SqsProcessor expects SqsMessage objects (as read from SqsReadable), got ${describeChunk(chunks[wrong])}`,
        ),
      );
      return;
    }
    // `end(chunk)` writes without calling `write()`: admitted here (admitting is idempotent).
    for (const message of chunks as SqsMessage[]) this.#admit(message);
    this.#incoming = chunks as SqsMessage[];
    this.#incomingCallback = callback;
    this.#pump();
  }

  #canStart(): boolean {
    return this.#running.size < this.#options.concurrency && this.#settles.size < this.#maxSettling;
  }

  /** Starts what may start, places what may wait; the write's callback once all are placed. */
  #pump(): void {
    if (this.destroyed) return;
    for (;;) {
      if (this.#ready.length > 0 && this.#canStart()) {
        this.#waiting--;
        this.#start(this.#ready.shift() as SqsMessage);
        continue;
      }
      const message = this.#incoming[0];
      if (message === undefined) break;
      if (!this.#written.has(message)) {
        this.#incoming.shift(); // settled already (skipped, or by someone else)
        continue;
      }
      const key = this.#laneKey(message);
      if (key !== undefined && this.#lanes.busy(key)) {
        if (this.#waiting >= this.#options.concurrency) break;
        this.#incoming.shift();
        this.#lanes.add(key, message);
        this.#waiting++;
        continue;
      }
      if (!this.#canStart()) break;
      this.#incoming.shift();
      if (key !== undefined) this.#lanes.add(key, message);
      this.#start(message);
    }
    const callback = this.#incomingCallback;
    if (this.#incoming.length === 0 && callback !== undefined) {
      this.#incomingCallback = undefined;
      callback();
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    const onIdle = this.#onIdle;
    const busy = this.#running.size + this.#waiting + this.#settles.size + this.#incoming.length;
    if (onIdle === undefined || busy > 0) return;
    this.#onIdle = undefined;
    onIdle();
  }

  #start(message: SqsMessage): void {
    const { schema, timeoutMs } = this.#options;
    const run = startRun(message, this.#handler, schema, timeoutMs, (outcome) =>
      this.#finish(message, run, outcome),
    );
    this.#running.add(run);
  }

  /** Not called for a run aborted by destroy. */
  #finish(message: SqsMessage, run: MessageRun, outcome: RunOutcome): void {
    run.done();
    this.#running.delete(run);
    if (outcome.ok) {
      this.#settle(message, true, 0);
    } else {
      this.stats.failed++;
      this.#settle(message, false, this.#options.retryDelaySeconds(message, outcome.error));
      const key = this.#laneKey(message);
      if (key !== undefined) this.#failGroup(key);
      this.#emit('failed', outcome.error, message);
    }
    this.#pump();
  }

  /** Every later message of the group received before now is nacked without running. */
  #failGroup(key: string): void {
    const at = Date.now();
    this.#failures.record(key, at);
    // None of them runs: only a lane's head does, and the head that failed is settled already.
    for (const other of this.#written) {
      if (other.receivedAt <= at && this.#laneKey(other) === key) {
        this.#skip(other, key);
      }
    }
  }

  #skip(message: SqsMessage, key: string): void {
    if (this.#lanes.remove(key, message)) this.#waiting--;
    const ready = this.#ready.indexOf(message);
    if (ready !== -1) {
      this.#ready.splice(ready, 1);
      this.#waiting--;
    }
    this.stats.skipped++;
    this.#settle(message, false, 0);
  }

  /**
   * Acks or nacks the message (unless its handler settled it already); a lane's next message
   * starts only once SQS confirmed it, so a refused ack cannot let it overtake.
   */
  #settle(message: SqsMessage, ack: boolean, delaySeconds: number): void {
    this.#written.delete(message);
    this.#settles.add(message);
    // An ack reports through a callback, with no promise per message; nacks are rare.
    const settled = (error?: unknown): void => this.#settled(message, ack, error);
    if (ack) ackReported(message, settled);
    else message.nack(delaySeconds).then(() => settled(), settled);
    if (this.#flushing) trackerOf(message)?.sendPending();
  }

  #settled(message: SqsMessage, ack: boolean, error: unknown): void {
    if (error === undefined) {
      if (ack && message.state === 'acked') {
        this.stats.processed++;
        this.#emit('processed', message);
      }
    } else if (!this.destroyed) {
      if (this.listenerCount('settleError') > 0) this.#emit('settleError', error, message);
      else this.destroy(error as Error);
    }
    this.#settles.delete(message);
    const key = this.#laneKey(message);
    const next = key === undefined ? undefined : this.#lanes.advance(key, message);
    if (next !== undefined) this.#ready.push(next);
    this.#pump();
  }

  /** A throwing listener is rethrown on its own tick: the processor goes on settling. */
  #emit(event: string, ...args: unknown[]): void {
    emitRethrowing(this, event, ...args);
  }
}
