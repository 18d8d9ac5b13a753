/**
 * Before: an order consumer written with sqs-consumer (v15). `after-sqs-streams.ts` is the same
 * consumer with sqs-streams; docs/migrating-from-sqs-consumer.md compares them line by line.
 *
 * Run it: QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/migrating/before-sqs-consumer.ts
 */
import type { EventEmitter } from 'node:events';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';

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
}

export function startConsumer({
  client,
  queueUrl,
  handleOrder,
  log = console.error,
  signals = process,
}: ConsumerOptions): Consumer {
  const consumer = Consumer.create({
    queueUrl,
    sqs: client,
    batchSize: 10,
    visibilityTimeout: 30,
    heartbeatInterval: 10, // extend the visibility every 10 s while a message is handled
    terminateVisibilityTimeout: true, // a failed message is visible again at once
    handleMessage: async (message) => {
      await handleOrder(JSON.parse(message.Body ?? '') as Order);
      return message; // returning the message deletes it
    },
  });
  consumer.on('error', (error) => log(`SQS error: ${error.message}`));
  consumer.on('processing_error', (error) => log(`order failed: ${error.message}`));
  signals.once('SIGTERM', () => consumer.stop());
  consumer.start();
  return consumer;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  startConsumer({
    client: new SQSClient({}),
    queueUrl,
    handleOrder: async (order) => console.log(`order ${order.id}: ${order.total}`),
  });
}
