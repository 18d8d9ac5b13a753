/**
 * After: the consumer of `before-sqs-consumer.ts`, with sqs-streams. Same behaviour: 10 messages
 * a receive, a 30 s visibility timeout kept alive while a message is handled, a failed message
 * visible again at once, errors logged, SIGTERM stops it. Different: deletes go in batches of 10,
 * the next receive does not wait for the slowest message of the last batch, and SIGTERM finishes
 * the messages in hand before `main` returns.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/migrating/after-sqs-streams.ts
 */
import type { EventEmitter } from 'node:events';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, type SqsMessage, type SqsReadableStats } from 'sqs-streams';

export interface Order {
  id: string;
  total: number;
}

export interface ConsumerOptions {
  client: SQSClient;
  queueUrl: string;
  handleOrder: (order: Order) => Promise<void>;
  log?: (line: string) => void;
  signals?: EventEmitter;
  /** End once the queue has been empty this long, in ms. Default: run until SIGTERM. */
  idleTimeoutMs?: number;
}

export async function main({
  client,
  queueUrl,
  handleOrder,
  log = console.error,
  signals = process,
  idleTimeoutMs,
}: ConsumerOptions): Promise<SqsReadableStats> {
  const source = new SqsReadable({ queueUrl, client, visibilityTimeout: 30, idleTimeoutMs });
  source.on('retry', (error: Error) => log(`SQS error, retrying: ${error.message}`));
  const handle = async (message: SqsMessage): Promise<void> =>
    handleOrder(JSON.parse(message.body) as Order);
  const work = new Transform({
    objectMode: true,
    transform(message: SqsMessage, _encoding, done) {
      handle(message).then(
        () => done(null, message), // on to SqsAckWritable: deleted
        (error: unknown) => {
          log(`order failed: ${String(error)}`);
          message.nack().then(() => done(), done); // visible again at once
        },
      );
    },
  });
  const stop = (): void => void source.stop(); // finishes the messages in hand
  signals.once('SIGTERM', stop);
  try {
    await pipeline(source, work, new SqsAckWritable()); // a permanent SQS error rejects it
  } finally {
    signals.off('SIGTERM', stop);
  }
  return source.stats;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({
    client: new SQSClient({}),
    queueUrl,
    handleOrder: async (order) => console.log(`order ${order.id}: ${order.total}`),
  }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
