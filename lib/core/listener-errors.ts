import type { Stream } from 'node:stream';
import { rethrowLater } from './notify.js';

/**
 * What a stream does when one of its listeners throws (a `'retry'`, `'receive'` or `'sent'`
 * listener): it never hangs a stream or changes a request's outcome. A live stream is destroyed
 * with the listener's error (a readable releases what it holds, a writable's callbacks fire);
 * once the stream is gone, the error is rethrown on its own tick, as an EventEmitter listener's
 * error would be.
 */
export function listenerFailed(
  stream: Stream & { destroyed: boolean; destroy(error?: Error): unknown },
  error: unknown,
): void {
  if (!stream.destroyed) {
    stream.destroy(error as Error);
    return;
  }
  rethrowLater(error);
}

/** Emits `event`; a listener that throws goes to {@link listenerFailed}. */
export function emitSafely(
  stream: Stream & { destroyed: boolean; destroy(error?: Error): unknown },
  event: string,
  ...args: unknown[]
): void {
  try {
    stream.emit(event, ...args);
  } catch (error) {
    listenerFailed(stream, error);
  }
}

/**
 * Emits `event`; a listener that throws is rethrown on its own tick, as an EventEmitter
 * listener's error would be, for a sink that must go on settling what it holds.
 */
export function emitRethrowing(emitter: Stream, event: string, ...args: unknown[]): void {
  try {
    emitter.emit(event, ...args);
  } catch (error) {
    rethrowLater(error);
  }
}
