// An integration test of examples/basic-pipeline.ts against a real SQS API: the fauxqs emulator
// started by global-setup.mjs, LocalStack, or AWS. `SQS_ENDPOINT` says where.
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { startSqs, type TestSqs } from 'sqs-streams/testing';
import { main, type Order } from '../basic-pipeline.js';

describe('order pipeline, on a real queue', () => {
  let sqs: TestSqs;
  let queueUrl: string;

  beforeAll(async () => {
    sqs = await startSqs(); // the endpoint global-setup.mjs put in SQS_ENDPOINT
    queueUrl = await sqs.createQueue(`orders-test-${Date.now()}`); // the URL SQS returned
  });

  afterAll(async () => {
    await sqs.client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await sqs.stop(); // destroys this file's client; the emulator stops in globalTeardown
  });

  it('processes every order once and leaves the queue empty', async () => {
    const orders: Order[] = Array.from({ length: 25 }, (_, i) => ({ id: `order-${i}`, total: i }));
    await sqs.send(
      queueUrl,
      orders.map((order) => JSON.stringify(order)),
    );

    const handled: string[] = [];
    const stats = await main({
      client: sqs.client,
      queueUrl,
      idleTimeoutMs: 1_000, // end once the queue has been empty for a second
      handleOrder: async (order) => {
        handled.push(order.id);
      },
    });

    expect(handled.sort()).toEqual(orders.map((order) => order.id).sort());
    expect(stats.acked).toBe(25);
    expect(stats.deleteRequests).toBeLessThanOrEqual(5); // batches, not one request per order
    expect(await sqs.drain(queueUrl)).toEqual([]); // nothing left
  });
});
