/**
 * Calls a user-facing callback (the readable re-emits it as an event). A listener that throws is
 * rethrown on its own tick, as an EventEmitter listener's error would be, instead of turning a
 * confirmed ack into a rejected one.
 */
/** Rethrows a listener's error on its own tick, as an EventEmitter listener's error would be. */
export function rethrowLater(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

export function notify<T>(callback: ((value: T) => void) | undefined, value: T): void {
  if (callback === undefined) return;
  try {
    callback(value);
  } catch (error) {
    rethrowLater(error);
  }
}
