/**
 * FIFO queues: order within a message group, parallelism across groups.
 *
 * `publish` sends account events with SqsWritable: each event's `groupId` is its account, so SQS
 * keeps one account's events in order. `main` consumes them: events of different accounts are
 * handled at the same time, events of one account strictly one after the other, each acked
 * before the next of its account starts. When an event fails, it and every event of its account
 * received with it are nacked, in order, so SQS delivers the account's events again starting
 * with the failed one: a later event never overtakes an earlier one.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/accounts.fifo npx ts-node examples/fifo-groups.ts
 */
import type { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, SqsWritable, type SqsMessage } from 'sqs-streams';

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
  /** Events held in the worker at once (handled, or waiting for an earlier one of their group). */
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
  const stop = (): void => void source.stop();
  signals.once('SIGTERM', stop);

  // Per group: the last event's turn (the next one waits for it), how many of its events are in
  // the worker, and when one of them failed.
  const lastTurn = new Map<string, Promise<unknown>>();
  const inWorker = new Map<string, number>();
  const failedAt = new Map<string, number>();

  async function settleInOrder(message: SqsMessage, group: string): Promise<'handled' | 'retried'> {
    const failure = failedAt.get(group);
    if (failure !== undefined && message.receivedAt <= failure) {
      // Received before an earlier event of its group failed: it must not overtake that one.
      // (SQS delivers nothing of a group while one of its messages is held, so whatever of the
      // group is received after the failure is a new delivery, starting with the failed event.)
      await message.nack();
      return 'retried';
    }
    failedAt.delete(group);
    try {
      await handleEvent(JSON.parse(message.body) as AccountEvent);
    } catch {
      failedAt.set(group, Date.now());
      await message.nack();
      return 'retried';
    }
    await message.ack();
    return 'handled';
  }

  // `map` calls this in the order the messages were received, which is their order per group.
  const outcomes = source.map(
    async (message: SqsMessage) => {
      const group = message.attributes.MessageGroupId ?? '';
      const previous = lastTurn.get(group);
      const turn = (async () => {
        await previous;
        return settleInOrder(message, group);
      })();
      lastTurn.set(group, turn);
      inWorker.set(group, (inWorker.get(group) ?? 0) + 1);
      try {
        return await turn;
      } finally {
        const left = (inWorker.get(group) ?? 1) - 1;
        if (left > 0) {
          inWorker.set(group, left);
        } else {
          inWorker.delete(group); // nothing to wait for: forget the group
          lastTurn.delete(group);
        }
      }
    },
    { concurrency },
  );

  const result = { handled: 0, retried: 0 };
  try {
    for await (const outcome of outcomes as AsyncIterable<'handled' | 'retried'>) {
      result[outcome] += 1;
    }
  } finally {
    signals.off('SIGTERM', stop);
  }
  return result;
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
