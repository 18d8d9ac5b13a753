// An integration test of examples/basic-pipeline.ts against a real SQS endpoint: the fauxqs
// emulator started by global-setup.mjs, LocalStack, or AWS. `SQS_ENDPOINT` says where.
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { main } from '../basic-pipeline.js';
import { sendOrders } from '../send-orders.js';

describe('order pipeline, on a real queue', () => {
  let client: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    client = new SQSClient({ endpoint: process.env.SQS_ENDPOINT });
    const created = await client.send(
      new CreateQueueCommand({ QueueName: `orders-test-${Date.now()}` }),
    );
    queueUrl = created.QueueUrl as string; // always use the URL SQS returned
  });

  afterAll(async () => {
    await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    client.destroy();
  });

  it('processes every order once and leaves the queue empty', async () => {
    const orders = Array.from({ length: 25 }, (_, i) => ({ id: `order-${i}`, total: i }));
    await sendOrders({ client, queueUrl, orders });

    const handled: string[] = [];
    const stats = await main({
      client,
      queueUrl,
      idleTimeoutMs: 1_000, // end once the queue has been empty for a second
      handleOrder: async (order) => {
        handled.push(order.id);
      },
    });

    expect(handled.sort()).toEqual(orders.map((order) => order.id).sort());
    expect(stats.acked).toBe(25);
    expect(stats.deleteRequests).toBeLessThanOrEqual(5); // batches, not one request per order
    const left = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    expect(left.Messages ?? []).toEqual([]);
  });
});
