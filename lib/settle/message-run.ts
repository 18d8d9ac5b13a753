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
  // Made when the handler first reads `signal`: most never do, and on Node 20 every new
  // AbortSignal is costly (see core/attempt-controllers.ts).
  let controller: AbortController | undefined;
  let reason: unknown;
  let cut: (reason: unknown) => void = noop;
  const abort = (why: unknown): void => {
    if (reason !== undefined) return;
    reason = why;
    clearTimeout(timer);
    controller?.abort(why);
    cut(why);
  };
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          abort(
            new DOMException(
              `The handler of message ${message.messageId} ran past timeoutMs (${timeoutMs} ms)`,
              'TimeoutError',
            ),
          );
        }, timeoutMs);
  const aborted = new Promise<never>((_, reject) => (cut = reject));
  const work = async (): Promise<void> => {
    const data = (schema === undefined ? undefined : await validateBody(schema, message)) as Data;
    const context = {
      data,
      get signal(): AbortSignal {
        if (controller === undefined) {
          controller = new AbortController();
          if (reason !== undefined) controller.abort(reason);
        }
        return controller.signal;
      },
    };
    await runHandler(handler, message, context);
  };
  const outcome = Promise.race([work(), aborted]).then(
    (): RunOutcome => ({ ok: true }),
    (error: unknown): RunOutcome => ({ ok: false, error }),
  );
  return {
    outcome,
    abort: () => abort(new DOMException('This operation was aborted', 'AbortError')),
    done: () => clearTimeout(timer),
  };
}
