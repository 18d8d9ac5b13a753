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
 * A graceful stop that leaves nothing invisible. `source.stop()` aborts the receives in flight,
 * and SQS may still complete an aborted request: its messages then go nowhere and stay
 * invisible for the visibility timeout. On a queue with messages a receive returns within
 * milliseconds, so this first holds the pipeline (no more demand, so no new receives), waits
 * for the receives in flight to land (up to {@link QUIESCE_MAX_MS}; past that a receive is a
 * long poll on an empty queue), and only then calls `stop()`; what was received flows out.
 * Resolves with whether a receive was still in flight (a long poll was cut short).
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
