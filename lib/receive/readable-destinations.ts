/**
 * Calls `onFailed` once if `destination` fails: it emits `'error'`, or closes with an error
 * (`pipeline()` destroys every stage with the error of the one that failed). A destination that
 * finishes cleanly is let go.
 */
export function watchDestination(destination: NodeJS.WritableStream, onFailed: () => void): void {
  const emitter = destination as NodeJS.WritableStream & { errored?: unknown };
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    cleanup();
    onFailed();
  };
  const onClose = (): void => {
    if (emitter.errored !== null && emitter.errored !== undefined) fire();
    else cleanup();
  };
  const cleanup = (): void => {
    emitter.off('error', fire);
    emitter.off('close', onClose);
  };
  emitter.on('error', fire);
  emitter.on('close', onClose);
}
