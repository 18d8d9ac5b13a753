/**
 * The plainest consumer: `for await` over an SqsReadable, acking each message after its work.
 *
 * Messages are handled one at a time, in the order they arrive. `ack()` resolves once SQS
 * confirmed the delete; each ack waits up to `ackBatchWindowMs` (20 ms) for others to share its
 * DeleteMessageBatch, so a loop that awaits every ack handles a few dozen messages a second at
 * most. That suits slow work; for more, handle several at once (examples/concurrent-worker.ts) or
 * let SqsAckWritable ack (examples/basic-pipeline.ts).
 *
 * If the work throws, the loop ends, which destroys the stream: every message it held (the
 * failed one included) is released, made visible in the queue again at once, and `main` rejects
 * with the error. SIGTERM stops it gracefully: the messages already received are handled and
 * acked.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/for-await-worker.ts
 */
import type { EventEmitter } from 'node:events';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsMessage } from 'sqs-streams';

export interface ForAwaitWorkerOptions {
  client: SQSClient;
  queueUrl: string;
  /** The work to do for one message body. */
  handle?: (body: string) => Promise<void>;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until SIGTERM. */
  idleTimeoutMs?: number;
  /** Where SIGTERM comes from. */
  signals?: EventEmitter;
}

async function printBody(body: string): Promise<void> {
  console.log(body);
}

/** Handles messages until stopped (or idle); resolves with how many were handled and acked. */
export async function main({
  client,
  queueUrl,
  handle = printBody,
  idleTimeoutMs,
  signals = process,
}: ForAwaitWorkerOptions): Promise<number> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs }); // or { queueName }
  const stop = (): void => void source.stop(); // no more receives; the loop ends when drained
  signals.once('SIGTERM', stop);
  let handled = 0;
  try {
    for await (const message of source as AsyncIterable<SqsMessage>) {
      await handle(message.body); // a throw ends the loop: held messages are released
      await message.ack(); // deleted when this resolves
      handled += 1;
    }
  } finally {
    signals.off('SIGTERM', stop);
  }
  return handled;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({ client: new SQSClient({}), queueUrl }).then(
    (handled) => console.log(`stopped: ${handled} messages handled`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
