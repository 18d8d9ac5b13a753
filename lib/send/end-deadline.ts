import type { Writable } from 'node:stream';
import { debug } from '../core/debug.js';
import { SqsStreamError } from '../core/errors.js';

/**
 * `end()` settles within `shutdownTimeoutMs` even when SQS does not answer (invariant 11): past
 * it, the sends in flight are aborted and the stream is destroyed with an error saying how many
 * messages were not confirmed (their write callbacks get it; `stats.failed` counts them). A
 * message SQS accepted without the answer arriving may still be delivered.
 */
export function armEndDeadline(stream: Writable, timeoutMs: number, queue: () => string): void {
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.writableFinished) return;
    const waiting = stream.writableLength;
    debug('writable: %d messages not confirmed within %d ms of end()', waiting, timeoutMs);
    stream.destroy(
      new SqsStreamError(
        `end(): SQS did not confirm ${waiting} messages on queue \`${queue()}\` within ` +
          `shutdownTimeoutMs (${timeoutMs} ms); they may not have been sent. Their write ` +
          'callbacks failed; send them again (with a FIFO deduplication id if duplicates matter).',
        { operation: 'SendMessageBatch', queue: queue(), code: 'ShutdownTimeout' },
      ),
    );
  }, timeoutMs);
  stream.once('close', () => clearTimeout(timer));
}
