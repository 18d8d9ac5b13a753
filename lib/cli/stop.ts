import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqsReadable } from '../index.js';

/**
 * A pass-through that can hold what is written to it. Placed right after the source: holding it
 * fills the pipeline's buffers, the source's buffer reaches its highWaterMark, and the source
 * stops starting receives (no demand).
 */
export class Gate extends Transform {
  #held = false;
  #waiting: Array<() => void> = [];

  constructor() {
    super({ objectMode: true });
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resume of waiting) resume();
  }

  override _transform(
    chunk: unknown,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: unknown) => void,
  ): void {
    if (this.#held) this.#waiting.push(() => callback(null, chunk));
    else callback(null, chunk);
  }
}

/** How long a graceful stop waits for receives in flight to come back before cutting them. */
export const QUIESCE_MAX_MS = 1_000;

/**
 * A graceful stop that leaves nothing invisible. A receive aborted on the client may still be
 * completed by SQS, and its messages then stay invisible for the visibility timeout.
 * `source.stop()` already gives receives in flight a grace before aborting them; the CLI also
 * holds the pipeline first (no demand, so no new receive starts while the ones in flight land)
 * and reports whether a long poll was still pending, which `receive`'s peek mode needs to know
 * before it releases what it showed. Resolves with that.
 */
export async function quiesceAndStop(source: SqsReadable, gate: Gate): Promise<boolean> {
  gate.hold();
  const deadline = Date.now() + QUIESCE_MAX_MS;
  while (source.stats.inFlight > 0 && Date.now() < deadline && !source.destroyed) {
    await sleep(10);
  }
  const cutPoll = source.stats.inFlight > 0;
  const stopped = source.stop();
  gate.release();
  // A failed flush also fails the acks it concerns, and so the pipeline: reported there.
  await stopped.catch(() => undefined);
  return cutPoll;
}

/**
 * Resolves once the stream has closed: for an SqsReadable, once its destroy released what it
 * held (or its natural end is complete). The SQS client must outlive this.
 */
export function whenClosed(stream: NodeJS.EventEmitter & { closed: boolean }): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}
