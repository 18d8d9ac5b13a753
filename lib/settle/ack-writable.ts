import { Writable } from 'node:stream';
import { MAX_BATCH_ENTRIES } from './settle-entry.js';
import { describeChunk } from './describe-chunk.js';
import { SqsMessage, ackReported } from './message.js';
import { trackerOf, type MessageTracker } from './tracker.js';
import { integerOption } from '../core/validate.js';

export interface SqsAckWritableOptions {
  /**
   * Messages buffered (written, delete not yet confirmed) before `write()` returns `false`.
   * Node emits `'drain'` only once every buffered write is confirmed, so the pipeline pauses a
   * delete round trip each time the buffer fills: it should hold a few round trips' worth of
   * messages. A multiple of 10, so a full buffer is whole DeleteMessageBatch requests.
   * @default 100
   */
  highWaterMark?: number;
}

/**
 * Ten full batches: deletes start as messages are written, so with 4 receives in flight at a
 * 20 ms round trip (about 40 messages a round trip) the buffer fills only after a few round
 * trips, and a full buffer never ends in a partial batch.
 */
export const DEFAULT_ACK_HIGH_WATER_MARK = 100;

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
    // Its outcome is reported through the write's callback; this only starts it.
    if (live && chunk instanceof SqsMessage) ackReported(chunk);
    return super.write(chunk, encoding as BufferEncoding, callback);
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
    for (const trackers of this.#inFlight.values()) {
      for (const tracker of trackers) tracker.sendPending();
    }
    void Promise.allSettled([...this.#inFlight.keys()]).then(() => callback());
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
    let count = 0;
    for (const chunk of chunks) {
      if (!(chunk instanceof SqsMessage)) {
        if (!sawWrong) wrong = chunk;
        sawWrong = true;
        continue;
      }
      waiting++;
      count++;
      ackReported(chunk, acked);
      const tracker = trackerOf(chunk);
      if (tracker !== undefined) trackers.add(tracker);
    }
    this.#inFlight.set(settled, trackers);
    // A round with a full batch or more is everything that gathered while the last round was in
    // flight: send its remainder now instead of waiting for the window. A smaller round waits
    // for the window, where more acks may join it.
    if (count >= MAX_BATCH_ENTRIES) {
      for (const tracker of trackers) tracker.sendPending();
    }
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
