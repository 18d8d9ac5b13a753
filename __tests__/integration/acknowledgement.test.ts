import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { pipeline } from 'node:stream/promises';
import { SqsAckWritable, SqsReadable, type SqsMessage } from '../../lib/index.js';
import {
  countRequests,
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
} from '../support/sqs-helpers.js';

// Acknowledgement, heartbeats and shutdown against a real endpoint (DESIGN.md invariants 6-9).
// Assertions count requests and messages; waits are bounded by count and the test timeout.

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('acknowledgement on a real endpoint', () => {
  let admin: SQSClient;

  beforeAll(() => {
    admin = testClient();
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
    admin.destroy();
  });

  it('acks 100 messages through SqsAckWritable in batches, leaving the queue empty', async () => {
    const queueUrl = await createTestQueue();
    await sendTestMessages(admin, queueUrl, 100);
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueUrl, client, maxMessages: 100 });
    await pipeline(source, new SqsAckWritable());
    expect(source.stats.acked).toBe(100);
    expect(requests.counts['DeleteMessageBatchCommand']).toBeLessThanOrEqual(15);
    expect(requests.counts['DeleteMessageCommand']).toBeUndefined();
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('costs at most 0.25 billable requests per message draining with default options', async () => {
    const queueUrl = await createTestQueue();
    await sendTestMessages(admin, queueUrl, 300);
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueUrl, client, maxMessages: 300 });
    await pipeline(source, new SqsAckWritable());
    const perMessage = requests.total() / 300;
    expect(source.stats.acked).toBe(300);
    expect(perMessage).toBeLessThanOrEqual(0.25);
    client.destroy();
  });

  it('keeps a message held for 3x its visibility timeout away from a second consumer', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 2 });
    await sendTestMessages(admin, queueUrl, 1);
    const client = testClient();
    const source = new SqsReadable({ queueUrl, client, maxMessages: 1 });
    const [held] = (await source.toArray()) as SqsMessage[];
    expect(held).toBeDefined();
    // A rival polls for 6+ s (3 visibility timeouts) while the first consumer holds it.
    const rival = testClient();
    let seenByRival = 0;
    const until = Date.now() + 6_500;
    for (let i = 0; i < 20 && Date.now() < until; i++) {
      const { Messages = [] } = await rival.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
      );
      seenByRival += Messages.length;
    }
    expect(seenByRival).toBe(0);
    expect(source.stats.visibilityRequests).toBeGreaterThanOrEqual(2);
    await held?.ack();
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    rival.destroy();
    client.destroy();
  });

  it('after stop(), delivered + still queued = sent, with no duplicates', async () => {
    const queueUrl = await createTestQueue();
    const sent = await sendTestMessages(admin, queueUrl, 60);
    const client = testClient();
    const source = new SqsReadable({ queueUrl, client });
    const delivered: string[] = [];
    let stopping: Promise<void> | undefined;
    for await (const message of source as AsyncIterable<SqsMessage>) {
      delivered.push(message.body);
      await message.ack();
      if (delivered.length === 25) stopping = source.stop();
    }
    await stopping;
    const left = await drainQueue(admin, queueUrl);
    const all = [...delivered, ...left.map((m) => m.Body as string)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual([...sent].sort());
    expect(delivered.length).toBeGreaterThanOrEqual(25);
    client.destroy();
  });

  it('after destroy(), every unsettled message is visible again at once', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 30 });
    await sendTestMessages(admin, queueUrl, 20);
    const client = testClient();
    const source = new SqsReadable({ queueUrl, client, highWaterMark: 20 });
    source.read(0);
    for (let i = 0; i < 100 && source.stats.buffered < 20; i++) await tick(20);
    expect(source.stats.buffered).toBe(20);
    const inHand = source.read() as SqsMessage; // read, being processed, not settled
    expect(inHand).not.toBeNull();
    source.destroy();
    await new Promise((resolve) => source.once('close', resolve));
    expect(source.stats.released).toBe(20);
    // Visibility timeout is 30 s: only a release makes them receivable within a one-second poll.
    const back = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 1 });
    expect(back).toHaveLength(20);
    client.destroy();
  });
});
