import { runHandler } from './handler-run.js';
import type { SqsMessage } from './message.js';
import type { ProcessContext, ProcessHandler } from './processor-options.js';
import { validateBody, type StandardSchemaV1 } from './schema.js';

export type RunOutcome = { ok: true } | { ok: false; error: unknown };

/**
 * Told once how a run ended: the handler's outcome, or a `TimeoutError` as soon as it ran past
 * `timeoutMs`; whatever the handler does after that is ignored. Always on a later tick than
 * `startRun`.
 */
export type RunCallback = (outcome: RunOutcome) => void;

/** One run of one message's handler: its schema check, the handler, and its deadline. */
export interface MessageRun {
  /** Its place in the processor's running messages (core/slot-set.ts). */
  slot: number;
  /**
   * Aborts the handler's signal (an `AbortError`) and clears its deadline; the run's callback is
   * not called (the caller is giving up on it).
   */
  abort(): void;
  /** Clears the deadline (the run is over). */
  done(): void;
}

const OK: RunOutcome = { ok: true };

/**
 * What a handler is given. `signal` is a getter of the class, not of an object literal: a getter
 * in a literal made per run is a closure per object, which V8 keeps in a hidden class of that
 * object's own, in old space; through it every scavenge kept the run, its message and its
 * promises alive until the next full GC (the stub: 221 MB promoted per 200k messages, 7 MB
 * without; 3.1 s of CPU, 1.0 s without).
 */
class RunContext<Data> implements ProcessContext<Data> {
  readonly data: Data;
  readonly #run: Run<Data>;

  constructor(run: Run<Data>, data: Data) {
    this.#run = run;
    this.data = data;
  }

  get signal(): AbortSignal {
    return this.#run.signal();
  }
}

class Run<Data> implements MessageRun {
  slot = -1;
  // Made when the handler first reads `signal`: most never do, and on Node 20 every new
  // AbortSignal is costly (see core/attempt-controllers.ts).
  #controller: AbortController | undefined;
  #reason: unknown;
  /** Cleared by the first outcome: the handler and the deadline race, and an abort ends both. */
  #onOutcome: RunCallback | undefined;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    message: SqsMessage,
    handler: ProcessHandler<Data>,
    schema: StandardSchemaV1<unknown, Data> | undefined,
    timeoutMs: number | undefined,
    onOutcome: RunCallback,
  ) {
    this.#onOutcome = onOutcome;
    this.#timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const error = new DOMException(
              `The handler of message ${message.messageId} ran past timeoutMs (${timeoutMs} ms)`,
              'TimeoutError',
            );
            this.#abort(error);
            this.#report({ ok: false, error });
          }, timeoutMs);
    const work =
      schema === undefined
        ? runHandler(handler, message, new RunContext(this, undefined as Data))
        : validateBody(schema, message).then((data) =>
            runHandler(handler, message, new RunContext(this, data as Data)),
          );
    // A callback, not a promise of the outcome (with the settle's, five promises per message).
    void work.then(
      () => this.#report(OK),
      (error: unknown) => this.#report({ ok: false, error }),
    );
  }

  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(): void {
    this.#onOutcome = undefined;
    this.#abort(new DOMException('This operation was aborted', 'AbortError'));
  }

  done(): void {
    clearTimeout(this.#timer);
  }

  #abort(why: unknown): void {
    if (this.#reason !== undefined) return;
    this.#reason = why;
    clearTimeout(this.#timer);
    this.#controller?.abort(why);
  }

  #report(outcome: RunOutcome): void {
    const onOutcome = this.#onOutcome;
    this.#onOutcome = undefined;
    onOutcome?.(outcome);
  }
}

export function startRun<Data>(
  message: SqsMessage,
  handler: ProcessHandler<Data>,
  schema: StandardSchemaV1<unknown, Data> | undefined,
  timeoutMs: number | undefined,
  onOutcome: RunCallback,
): MessageRun {
  return new Run(message, handler, schema, timeoutMs, onOutcome);
}
