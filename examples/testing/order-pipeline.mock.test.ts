// A unit test of examples/basic-pipeline.ts with aws-sdk-client-mock: no network, no emulator.
// The SQS client is mocked per instance, and the code under test gets that client.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main, type Order } from '../basic-pipeline.js';

const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/orders';
const orders: Order[] = [
  { id: 'a', total: 10 },
  { id: 'b', total: 20 },
  { id: 'c', total: 30 },
];

/** A ReceiveMessage response carrying the orders. */
function receiveResponse(items: Order[]) {
  return {
    Messages: items.map((order, i) => ({
      MessageId: `id-${i}`,
      ReceiptHandle: `handle-${i}`,
      Body: JSON.stringify(order),
      Attributes: { ApproximateReceiveCount: '1' },
    })),
  };
}

/** Every entry of a batch request succeeds. (An entry the answer leaves out is retried.) */
function allSucceed({ Entries = [] }: { Entries?: Array<{ Id?: string }> }) {
  return { Successful: Entries.map(({ Id }) => ({ Id })), Failed: [] };
}

describe('order pipeline, with SQS mocked', () => {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const sqs = mockClient(client); // this client only; other SQSClient instances are untouched

  beforeEach(() => {
    sqs.reset();
    // The stream reads the queue's visibility timeout once, for its heartbeat.
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { VisibilityTimeout: '30' } });
    sqs.on(DeleteMessageBatchCommand).callsFake(allSucceed);
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(allSucceed);
    // One batch of orders, then an empty queue: `idleTimeoutMs` ends the pipeline.
    sqs.on(ReceiveMessageCommand).resolvesOnce(receiveResponse(orders)).resolves({ Messages: [] });
  });

  afterAll(() => {
    sqs.restore();
  });

  it('handles every order, then deletes them in one batch', async () => {
    const handled: Order[] = [];
    await main({
      client,
      queueUrl,
      idleTimeoutMs: 100,
      handleOrder: async (order) => {
        handled.push(order);
      },
    });

    expect(handled).toEqual(orders);
    expect(sqs).toHaveReceivedCommandTimes(DeleteMessageBatchCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageBatchCommand, {
      QueueUrl: queueUrl,
      Entries: orders.map((_, i) => expect.objectContaining({ ReceiptHandle: `handle-${i}` })),
    });
  });

  it('gives the unfinished orders back when one fails', async () => {
    const failing = main({
      client,
      queueUrl,
      idleTimeoutMs: 100,
      handleOrder: async (order) => {
        if (order.id === 'b') throw new Error('payment service unavailable');
      },
    });

    await expect(failing).rejects.toThrow('payment service unavailable');
    // b and c were received but not processed: visible again at once (visibility 0).
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      QueueUrl: queueUrl,
      Entries: expect.arrayContaining([
        expect.objectContaining({ ReceiptHandle: 'handle-1', VisibilityTimeout: 0 }),
        expect.objectContaining({ ReceiptHandle: 'handle-2', VisibilityTimeout: 0 }),
      ]),
    });
  });
});
