import type { SqsMessage, SqsReadable } from '../../lib/index.js';
import { traced } from '../../lib/core/diagnostics.js';

/**
 * Runs `handle` for each message of `source`, one at a time, on the `sqs-streams:process`
 * channel with the context SqsProcessor publishes (`{ queueUrl, operation: 'process',
 * messageCount: 1, message }`). A handler's rejection is published, then ignored.
 */
export async function processEach(
  source: SqsReadable,
  handle: (message: SqsMessage) => Promise<void>,
): Promise<void> {
  for await (const message of source as AsyncIterable<SqsMessage>) {
    const context = { queueUrl: message.queueUrl, operation: 'process', messageCount: 1, message };
    await traced('process', context, () => handle(message)).catch(() => undefined);
  }
}
