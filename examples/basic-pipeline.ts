/**
 * The basic pipeline: SqsReadable -> a Transform that does the work -> SqsAckWritable.
 *
 * A message reaches SqsAckWritable (and is deleted, in batches of 10) only after its work
 * succeeded. If the work fails, the pipeline rejects: the source is destroyed and every message it
 * still holds is released (visible again at once) for another try. SIGTERM stops it gracefully:
 * no more receives, the messages in hand are finished and deleted, then `main` returns.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/basic-pipeline.ts
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

export interface BasicPipelineOptions {
  client: SQSClient;
  queueUrl: string;
  /** The work to do for one order. */
  handleOrder?: (order: Order) => Promise<void>;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until SIGTERM. */
  idleTimeoutMs?: number;
  /** Where SIGTERM comes from. */
  signals?: EventEmitter;
}

async function saveOrder(order: Order): Promise<void> {
  console.log(`order ${order.id}: ${order.total}`);
}

export async function main({
  client,
  queueUrl,
  handleOrder = saveOrder,
  idleTimeoutMs,
  signals = process,
}: BasicPipelineOptions): Promise<SqsReadableStats> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs });
  const work = new Transform({
    objectMode: true,
    transform(message: SqsMessage, _encoding, done) {
      handle(message).then(() => done(null, message), done); // passed on to be acked
    },
  });
  async function handle(message: SqsMessage): Promise<void> {
    await handleOrder(JSON.parse(message.body) as Order);
  }

  const stop = (): void => void source.stop(); // drains, loses nothing
  signals.once('SIGTERM', stop);
  try {
    await pipeline(source, work, new SqsAckWritable()); // deletes in batches of 10
  } finally {
    signals.off('SIGTERM', stop);
  }
  return source.stats;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({ client: new SQSClient({}), queueUrl }).then(
    (stats) => console.log(`done: ${stats.acked} orders processed`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
