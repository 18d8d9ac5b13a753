import { runHandler } from './handler-run.js';
import type { SqsMessage } from './message.js';
import type { ProcessHandler } from './processor-options.js';
import { validateBody, type StandardSchemaV1 } from './schema.js';

export type RunOutcome = { ok: true } | { ok: false; error: unknown };

/** One run of one message's handler: its schema check, the handler, and its deadline. */
export interface MessageRun {
  /**
   * The handler's outcome, or the signal's reason as soon as it aborts (`timeoutMs`, or
   * `abort()`); whatever the handler does after that is ignored.
   */
  readonly outcome: Promise<RunOutcome>;
  /** Aborts the handler's signal (an `AbortError`) and clears its deadline. */
  abort(): void;
  /** Clears the deadline (the run is over). */
  done(): void;
}

function noop(): void {}

export function startRun<Data>(
  message: SqsMessage,
  handler: ProcessHandler<Data>,
  schema: StandardSchemaV1<unknown, Data> | undefined,
  timeoutMs: number | undefined,
): MessageRun {
  const controller = new AbortController();
  const { signal } = controller;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          controller.abort(
            new DOMException(
              `The handler of message ${message.messageId} ran past timeoutMs (${timeoutMs} ms)`,
              'TimeoutError',
            ),
          );
        }, timeoutMs);
  let onAbort = noop;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const work = async (): Promise<void> => {
    const data = (schema === undefined ? undefined : await validateBody(schema, message)) as Data;
    await runHandler(handler, message, { signal, data });
  };
  const outcome = Promise.race([work(), aborted]).then(
    (): RunOutcome => ({ ok: true }),
    (error: unknown): RunOutcome => ({ ok: false, error }),
  );
  void outcome.then(() => signal.removeEventListener('abort', onAbort));
  return {
    outcome,
    abort: () => {
      clearTimeout(timer);
      controller.abort();
    },
    done: () => clearTimeout(timer),
  };
}
