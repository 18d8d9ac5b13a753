/**
 * A worker that handles several messages at once with SqsProcessor: at most `concurrency`
 * handlers run, each message is acked when its handler resolved and nacked when it failed,
 * visible again after a delay that grows with every delivery, until the queue's redrive policy
 * (maxReceiveCount) moves it to a dead-letter queue. The processor takes a message only when a
 * handler is free, so SqsReadable's backpressure still holds.
 *
 * Each body is parsed as JSON and checked by a zod schema (any Standard Schema validator works)
 * before the handler runs; one that fails is a failure of its message, never handed to the job.
 *
 * Run it (after `npm run build`; zod installed):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/jobs npx ts-node examples/concurrent-worker.ts
 */
import type { EventEmitter } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { SqsProcessor, SqsReadable, type SqsMessage } from 'sqs-streams';

/** A job: an id, and whatever else its producer put in. */
export const Job = z.looseObject({ id: z.string() });
export type Job = z.infer<typeof Job>;

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
  const worker = new SqsProcessor(
    (message, { data }) => handleJob(data, message), // resolves: acked; rejects: nacked
    {
      concurrency, // handlers at once
      schema: Job, // the body, parsed and checked, is `data`
      retryDelaySeconds: (message) => retryDelaySeconds(message.receiveCount),
    },
  );
  const result: WorkerResult = { succeeded: 0, failed: 0 };
  worker.on('processed', () => (result.succeeded += 1)); // acked, confirmed by SQS
  worker.on('failed', () => (result.failed += 1)); // nacked: it comes back after the delay

  const stop = (): void => void source.stop(); // the handlers running finish, then it ends
  signals.once('SIGTERM', stop);
  try {
    await pipeline(source, worker);
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
