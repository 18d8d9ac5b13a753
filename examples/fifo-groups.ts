/**
 * FIFO queues: order within a message group, parallelism across groups.
 *
 * `publish` sends account events with SqsWritable: each event's `groupId` is its account, so SQS
 * keeps one account's events in order. `main` consumes them: events of different accounts are
 * handled at the same time, events of one account strictly one after the other, each acked
 * before the next of its account starts (SqsProcessor's `'group'` ordering, the default on a FIFO
 * queue). When an event fails, it is nacked with a retry delay and every event of its account
 * received with it is nacked without running, so SQS delivers the account's events again
 * starting with the failed one: a later event never overtakes an earlier one.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/accounts.fifo npx ts-node examples/fifo-groups.ts
 */
import type { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsProcessor, SqsReadable, SqsWritable } from 'sqs-streams';

export interface AccountEvent {
  id: string;
  accountId: string;
  sequence: number;
  type: string;
}

export interface PublishOptions {
  client: SQSClient;
  queueUrl: string;
  events: AccountEvent[];
}

/** Sends the events; one message group per account. */
export async function publish({ client, queueUrl, events }: PublishOptions): Promise<void> {
  await pipeline(
    Readable.from(
      events.map((event) => ({
        body: event,
        groupId: event.accountId, // order is kept per group
        deduplicationId: event.id, // a resend within 5 minutes is dropped
      })),
    ),
    new SqsWritable({ queueUrl, client }),
  );
}

export interface FifoWorkerOptions {
  client: SQSClient;
  queueUrl: string;
  /** The work to do for one event. */
  handleEvent?: (event: AccountEvent) => Promise<void>;
  /** Events handled at once (of different accounts). */
  concurrency?: number;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until SIGTERM. */
  idleTimeoutMs?: number;
  /** Where SIGTERM comes from. */
  signals?: EventEmitter;
}

async function applyEvent(event: AccountEvent): Promise<void> {
  console.log(`account ${event.accountId}: #${event.sequence} ${event.type}`);
}

export async function main({
  client,
  queueUrl,
  handleEvent = applyEvent,
  concurrency = 10,
  idleTimeoutMs,
  signals = process,
}: FifoWorkerOptions): Promise<{ handled: number; retried: number }> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs });
  // On a FIFO queue the processor keeps each group in order (`ordering: 'auto'` is 'group'):
  // one event of an account at a time, in the order received, accounts side by side. When an
  // event fails, it is nacked with its retry delay and the events of its account received with
  // it are nacked too, without running: SQS delivers the account again from the failed one.
  const worker = new SqsProcessor(
    (message) => handleEvent(JSON.parse(message.body) as AccountEvent),
    { concurrency },
  );

  const stop = (): void => void source.stop();
  signals.once('SIGTERM', stop);
  try {
    await pipeline(source, worker);
  } finally {
    signals.off('SIGTERM', stop);
  }
  const { processed, failed, skipped } = worker.stats;
  return { handled: processed, retried: failed + skipped };
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your FIFO queue');
  main({ client: new SQSClient({}), queueUrl }).then(
    ({ handled, retried }) => console.log(`stopped: ${handled} handled, ${retried} to retry`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
