/**
 * A for-await worker that handles several messages at once with `readable.map(fn, { concurrency })`
 * (Node's Readable.prototype.map: in Node 20 it is marked experimental, and it is there).
 *
 * Each message is acked when its work succeeded and nacked when it failed: visible again after
 * a delay that grows with every delivery, until the queue's redrive policy (maxReceiveCount)
 * moves it to a dead-letter queue. `map` keeps at most `concurrency` handlers running and reads
 * no further ahead than that, so SqsReadable's backpressure still holds.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/jobs npx ts-node examples/concurrent-worker.ts
 */
import type { EventEmitter } from 'node:events';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsMessage } from 'sqs-streams';

export interface Job {
  id: string;
  [key: string]: unknown;
}

export interface WorkerOptions {
  client: SQSClient;
  queueUrl: string;
  /** The work to do for one job. */
  handleJob?: (job: Job, message: SqsMessage) => Promise<void>;
  /** Jobs handled at once. */
  concurrency?: number;
  /** Seconds before a failed message is delivered again, given its receive count. */
  retryDelaySeconds?: (receiveCount: number) => number;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until SIGTERM. */
  idleTimeoutMs?: number;
  /** Where SIGTERM comes from. */
  signals?: EventEmitter;
}

export interface WorkerResult {
  succeeded: number;
  failed: number;
}

async function runJob(job: Job): Promise<void> {
  console.log(`job ${job.id}`);
}

/** 2, 4, 8 ... seconds, at most 15 minutes. */
export function backoffSeconds(receiveCount: number): number {
  return Math.min(2 ** receiveCount, 900);
}

export async function main({
  client,
  queueUrl,
  handleJob = runJob,
  concurrency = 8,
  retryDelaySeconds = backoffSeconds,
  idleTimeoutMs,
  signals = process,
}: WorkerOptions): Promise<WorkerResult> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs });
  const stop = (): void => void source.stop();
  signals.once('SIGTERM', stop);

  const outcomes = source.map(
    async (message: SqsMessage) => {
      try {
        await handleJob(JSON.parse(message.body) as Job, message);
      } catch {
        await message.nack(retryDelaySeconds(message.receiveCount)); // try again later
        return 'failed';
      }
      await message.ack(); // batched with the other handlers' acks
      return 'succeeded';
    },
    { concurrency },
  );

  const result: WorkerResult = { succeeded: 0, failed: 0 };
  try {
    for await (const outcome of outcomes as AsyncIterable<keyof WorkerResult>) {
      result[outcome] += 1;
    }
  } finally {
    signals.off('SIGTERM', stop);
  }
  return result;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({ client: new SQSClient({}), queueUrl }).then(
    ({ succeeded, failed }) => console.log(`stopped: ${succeeded} succeeded, ${failed} failed`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
