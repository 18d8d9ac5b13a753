/** Told once how a settle ended: no error when SQS confirmed it (or it no longer mattered). */
export type SettleCallback = (error?: Error) => void;

function noop(): void {}

/**
 * How a message's one settle (ack, nack or release) ended, told to callbacks and, only once
 * someone asks for it, to a promise. `SqsAckWritable` takes the callback: a promise per message,
 * and the two more its `.then` and `.catch` chained, were most of what the ack path allocated.
 */
export class Settlement {
  #done = false;
  #error: Error | undefined;
  #callback: SettleCallback | undefined;
  #more: SettleCallback[] | undefined;
  #promise: Promise<void> | undefined;
  /** A caller reports a failure of this settle itself (a sink, through its write callback). */
  #reported = false;

  /** Ends the settle (the first call only) and tells every callback, in order. */
  finish(error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    const callback = this.#callback;
    const more = this.#more;
    this.#callback = undefined;
    this.#more = undefined;
    callback?.(error);
    if (more !== undefined) for (const next of more) next(error);
  }

  /** Ends as `promise` settles. */
  follow(promise: Promise<void>): void {
    promise.then(
      () => this.finish(),
      (error: unknown) => this.finish(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** Calls `callback` once the settle ended; at once, synchronously, if it has. */
  onDone(callback: SettleCallback): void {
    if (this.#done) callback(this.#error);
    else if (this.#callback === undefined) this.#callback = callback;
    else (this.#more ??= []).push(callback);
  }

  /** Its failure is reported elsewhere: a promise asked for is never an unhandled rejection. */
  markReported(): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#promise?.catch(noop);
  }

  /** The settle as a promise: the same one on every call. */
  promise(): Promise<void> {
    if (this.#promise === undefined) {
      this.#promise = new Promise((resolve, reject) =>
        this.onDone((error) => (error === undefined ? resolve() : reject(error))),
      );
      if (this.#reported) this.#promise.catch(noop);
    }
    return this.#promise;
  }
}
