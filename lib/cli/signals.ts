import { writeFlushed } from './output.js';

/** What a command does on SIGINT / SIGTERM. */
export interface StopHandlers {
  /** First signal: stop taking new work, finish what is in hand, end normally. */
  graceful(): void;
  /** Second signal: give back what is held at once (destroy releases it); resolves when done. */
  immediate(): Promise<void>;
}

/** How long the second signal waits for the release before exiting anyway. */
const RELEASE_TIMEOUT_MS = 5_000;

/**
 * Installs the SIGINT/SIGTERM handlers of a command. The first signal stops gracefully (nothing
 * lost, nothing left invisible); a second one releases what is held and exits with 1. Returns a
 * function that removes the handlers, and `signal()` says which signal stopped the command.
 */
export function onStopSignals(
  command: string,
  handlers: StopHandlers,
  log: (line: string) => void,
): { dispose(): void; signal(): NodeJS.Signals | undefined } {
  let received: NodeJS.Signals | undefined;
  const listener = (signal: NodeJS.Signals): void => {
    if (received === undefined) {
      received = signal;
      log(
        `${command}: ${signal}: stopping, finishing the messages in hand (send ${signal} again to release them and exit at once)`,
      );
      handlers.graceful();
      return;
    }
    log(`${command}: ${signal} again: releasing held messages and exiting`);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, RELEASE_TIMEOUT_MS).unref());
    void Promise.race([handlers.immediate().catch(() => undefined), timeout])
      // Not stdout: lines still queued there belong to messages just released, and would
      // become duplicates if flushed now.
      .then(() => writeFlushed(process.stderr, ''))
      .finally(() => process.exit(1));
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return {
    dispose() {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    },
    signal: () => received,
  };
}
