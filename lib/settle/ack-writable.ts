import { Writable } from 'node:stream';
import { describeChunk } from './describe-chunk.js';
import { SqsMessage, ackReported } from './message.js';
import { trackerOf, type MessageTracker } from './tracker.js';
import { integerOption } from '../core/validate.js';

export interface SqsAckWritableOptions {
  /**
   * Messages buffered (written, delete not yet confirmed) before `write()` returns `false`.
   * Node emits `'drain'` only once every buffered write is confirmed, so the pipeline pauses a
   * delete round trip each time the buffer fills, and what waits for company in a partial batch
   * then goes alone: it should hold more than two delete round trips' worth of messages.
   * @default 200
   */
  highWaterMark?: number;
}

/**
 * Twenty full batches. Node hands writes over a round at a time, and a round's callback waits for
 * its last delete, so the buffer holds about two round trips of deletes: at 4 receives in flight
 * it reached 100 at 0 ms and at 20 ms RTT (bench), each time ending in a partial batch; at 200 it
 * did not, and every delete went out 10 at a time, as the raw SDK loop's.
 */
export const DEFAULT_ACK_HIGH_WATER_MARK = 200;

type WriteCallback = (error: Error | null | undefined) => void;

function noop(): void {}

/**
 * An object-mode Writable that acks (deletes) each {@link SqsMessage} written to it. A write's
 * callback fires once SQS confirmed that delete, so a slow delete path slows the pipeline
 * instead of piling up. Deletes go out in DeleteMessageBatch requests of up to 10: a burst of
 * writes reaches `_writev` together, and a first write waits one tick for company.
 *
 * Each message is acked through its own stream's tracker, so this works after the source stream
 * has ended. A message already settled (acked, nacked or released) is not settled again: its
 * write completes with that earlier settle. A failed delete fails the write (and the stream) with
 * the `SqsStreamError` naming the message; a chunk that is not an `SqsMessage` fails it with a
 * `TypeError`.
 *
 * ```ts
 * await pipeline(new SqsReadable({ queueUrl }), handle, new SqsAckWritable());
 * ```
 */
export class SqsAckWritable extends Writable {
  /** Rounds of acks this stream started that have not all settled yet, with their trackers. */
  readonly #inFlight = new Map<Promise<void>, Set<MessageTracker>>();
  #corkedForCompany = false;
  /** The tracker of the message written last. */
  #lastTracker: MessageTracker | undefined;

  constructor(options: SqsAckWritableOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected \`options\` to be an object, got ${describeChunk(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'highWaterMark') {
        throw new TypeError(
          `Unknown option \`${key}\` for SqsAckWritable; the only option is \`highWaterMark\``,
        );
      }
    }
    const highWaterMark = integerOption(
      'highWaterMark',
      options.highWaterMark,
      1,
      Infinity,
      DEFAULT_ACK_HIGH_WATER_MARK,
    );
    super({ objectMode: true, highWaterMark });
  }

  /**
   * The delete starts here, as the message is written, not when Node hands the write to
   * `_write`/`_writev`: Node holds later writes back until the current round's callback, so
   * starting there would send a round's remainder alone after the batch window while the writes
   * that would fill it wait. The write's callback still fires only once the delete is confirmed
   * (a message settles once: `_writev` waits for that same settle). A first write into an empty,
   * idle stream waits one tick (the cork pattern from Node's docs), so a synchronous burst also
   * reaches `_writev` together.
   */
  override write(chunk: unknown, callback?: WriteCallback): boolean;
  override write(chunk: unknown, encoding: BufferEncoding, callback?: WriteCallback): boolean;
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    const live = !this.writableEnded && !this.destroyed;
    if (live && !this.#corkedForCompany && this.writableLength === 0 && this.writableCorked === 0) {
      this.#corkedForCompany = true;
      this.cork();
      process.nextTick(() => {
        this.#corkedForCompany = false;
        this.uncork();
      });
    }
    if (live && chunk instanceof SqsMessage) this.#startAck(chunk);
    const wasFull = this.writableNeedDrain;
    const more = super.write(chunk, encoding as BufferEncoding, callback);
    // A pipeline writes nothing more into a full buffer before every delete in it is confirmed,
    // so a partial batch waiting for company would get none: it goes now, not after the window.
    // Only as the buffer fills: writes that ignore `false` still make full batches.
    if (!more && !wasFull) this.#sendPending();
    return more;
  }

  /** After `end()` nothing can join a partial batch either: it goes now. */
  override end(callback?: () => void): this;
  override end(chunk: unknown, callback?: () => void): this;
  override end(chunk: unknown, encoding: BufferEncoding, callback?: () => void): this;
  override end(
    chunk?: unknown,
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this {
    // Node hands a last chunk to `_write` without `write()`: its delete starts here instead.
    if (chunk instanceof SqsMessage && !this.writableEnded && !this.destroyed) {
      this.#startAck(chunk);
    }
    super.end(chunk, encoding as BufferEncoding, callback);
    this.#sendPending();
    return this;
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#ackAll([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, callback: WriteCallback): void {
    this.#ackAll(
      chunks.map((entry) => entry.chunk),
      callback,
    );
  }

  /**
   * Node calls this once every write's callback has fired, so every delete is normally confirmed
   * already; anything still waiting is sent now, not after the window.
   */
  override _final(callback: (error?: Error | null) => void): void {
    this.#sendPending();
    void Promise.allSettled([...this.#inFlight.keys()]).then(() => callback());
  }

  /** Starts the message's delete; its outcome is reported through the write's callback. */
  #startAck(message: SqsMessage): void {
    ackReported(message);
    this.#lastTracker = trackerOf(message);
  }

  /**
   * Sends what waits, without the window, in the trackers of the last write and of every round
   * in flight: those of the writes buffered behind them, in a sink fed by one stream.
   */
  #sendPending(): void {
    const last = this.#lastTracker;
    last?.sendPending();
    for (const trackers of this.#inFlight.values()) {
      for (const tracker of trackers) if (tracker !== last) tracker.sendPending();
    }
  }

  /** Deletes already asked for complete on their own: they belong to the messages' trackers. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error);
  }

  #ackAll(chunks: unknown[], callback: WriteCallback): void {
    const trackers = new Set<MessageTracker>();
    let wrong: unknown;
    let sawWrong = false;
    // The round's callback fires once every ack of it settled, with the first failure: a count,
    // not `Promise.allSettled` (a result object and two closures per message).
    let waiting = 1;
    let failure: Error | undefined;
    let finishRound: () => void = noop;
    const settled = new Promise<void>((resolve) => (finishRound = resolve));
    const one = (): void => {
      if (--waiting > 0) return;
      this.#inFlight.delete(settled);
      finishRound();
    };
    const acked = (error?: Error): void => {
      if (error !== undefined) failure ??= error;
      one();
    };
    for (const chunk of chunks) {
      if (!(chunk instanceof SqsMessage)) {
        if (!sawWrong) wrong = chunk;
        sawWrong = true;
        continue;
      }
      waiting++;
      ackReported(chunk, acked);
      const tracker = trackerOf(chunk);
      if (tracker !== undefined) trackers.add(tracker);
    }
    // Each delete started when its message was written, and writes keep coming while this round
    // waits: a partial batch left in the lane is filled by them, or goes after the window.
    this.#inFlight.set(settled, trackers);
    if (sawWrong) {
      // The valid messages of this round are still acked: they were written to be.
      callback(
        new TypeError(
          `SqsAckWritable expects SqsMessage objects (as read from SqsReadable), got ${describeChunk(wrong)}. ` +
            'Write the message itself, not its body or a copy of it.',
        ),
      );
    } else {
      void settled.then(() => callback(failure ?? null));
    }
    one();
  }
}
