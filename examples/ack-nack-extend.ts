/**
 * Settling each message yourself: `ack()` deletes it, `nack(seconds)` gives it back to the queue
 * for a later try, `extend(seconds)` keeps it invisible longer while you work on it.
 *
 * An order consumer with three outcomes per message: a body that is not an order (poison: it will
 * never parse) is deleted; an order not paid yet is given back for a minute; a paid order is
 * fulfilled, with 10 minutes of visibility asked for up front, then deleted. Each call resolves
 * once SQS confirmed it, batched with others within 20 ms.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/ack-nack-extend.ts
 */
import type { EventEmitter } from 'node:events';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsMessage } from 'sqs-streams';

export interface Order {
  id: string;
  paid: boolean;
}

export interface SettleOptions {
  client: SQSClient;
  queueUrl: string;
  /** The long job for a paid order. */
  fulfil?: (order: Order) => Promise<void>;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until SIGTERM. */
  idleTimeoutMs?: number;
  /** Where SIGTERM comes from. */
  signals?: EventEmitter;
}

export interface SettleResult {
  fulfilled: number;
  notPaid: number;
  poison: number;
}

async function shipOrder(order: Order): Promise<void> {
  console.log(`shipping order ${order.id}`);
}

/** The order in a message body, or `undefined` when the body is not one. */
function parseOrder(body: string): Order | undefined {
  try {
    const value = JSON.parse(body) as Partial<Order> | null;
    return typeof value?.id === 'string' ? { id: value.id, paid: value.paid === true } : undefined;
  } catch {
    return undefined;
  }
}

export async function main({
  client,
  queueUrl,
  fulfil = shipOrder,
  idleTimeoutMs,
  signals = process,
}: SettleOptions): Promise<SettleResult> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs });
  const stop = (): void => void source.stop();
  signals.once('SIGTERM', stop);
  const result: SettleResult = { fulfilled: 0, notPaid: 0, poison: 0 };
  try {
    for await (const message of source as AsyncIterable<SqsMessage>) {
      const order = parseOrder(message.body);
      if (order === undefined) {
        // Poison: it will never parse. Delete it (or let the queue's redrive policy take it).
        await message.ack();
        result.poison += 1;
        continue;
      }
      if (!order.paid) {
        await message.nack(60); // not paid yet: try again in a minute
        result.notPaid += 1;
        continue;
      }
      await message.extend(600); // a long job ahead: ask for 10 minutes up front
      await fulfil(order);
      await message.ack();
      result.fulfilled += 1;
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
    (result) => console.log('stopped: %o', result),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
