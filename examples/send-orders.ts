/**
 * Sending: an array of orders into a queue with SqsWritable, in SendMessageBatch requests of 10.
 *
 * `pipeline()` resolves once SQS has accepted every message (a write's callback fires only then),
 * and rejects if one could not be sent.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/send-orders.ts
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsWritable } from 'sqs-streams';

export interface Order {
  id: string;
  total: number;
}

export interface SendOrdersOptions {
  client: SQSClient;
  queueUrl: string;
  orders: Order[];
}

/** Sends one message per order and resolves with the number SQS accepted. */
export async function sendOrders({ client, queueUrl, orders }: SendOrdersOptions): Promise<number> {
  const sink = new SqsWritable({ queueUrl, client });
  await pipeline(
    Readable.from(
      orders.map((order) => ({
        body: order, // not a string: sent as JSON.stringify(order)
        messageAttributes: { type: { DataType: 'String', StringValue: 'order' } },
      })),
    ),
    sink,
  );
  return sink.stats.sent; // every one of them is in the queue now
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  const orders = Array.from({ length: 25 }, (_, i) => ({ id: `order-${i}`, total: 10 + i }));
  sendOrders({ client: new SQSClient({}), queueUrl, orders }).then(
    (sent) => console.log(`sent ${sent} orders`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
