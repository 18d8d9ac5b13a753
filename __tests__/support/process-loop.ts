import { pipeline } from 'node:stream/promises';
import { SqsProcessor, type SqsMessage, type SqsReadable } from '../../lib/index.js';

/**
 * Runs `handle` for each message of `source` through an `SqsProcessor` (one at a time), which
 * publishes each run on the `sqs-streams:process` channel. A handler that settles its own
 * message is left alone by the processor; one that rejects is nacked.
 */
export async function processEach(
  source: SqsReadable,
  handle: (message: SqsMessage) => Promise<void>,
): Promise<void> {
  await pipeline(
    source,
    new SqsProcessor((message: SqsMessage) => handle(message), { concurrency: 1 }),
  );
}
