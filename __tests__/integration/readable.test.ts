import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  QueueDoesNotExistError,
  SqsAckWritable,
  SqsReadable,
  SqsStreamError,
  type SqsMessage,
} from '../../lib/index.js';
import {
  countRequests,
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
} from '../support/sqs-helpers.js';

// SqsReadable against a real SQS endpoint (fauxqs in CI). Assertions count messages and
// requests; waiting is bounded by count and by the test timeout, never asserted.

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SqsReadable on a real endpoint', () => {
  let admin: SQSClient;

  beforeAll(() => {
    admin = testClient();
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
    admin.destroy();
  });

  it('keeps a slow reader within highWaterMark and delivers every message once', async () => {
    const queueUrl = await createTestQueue();
    const sent = await sendTestMessages(admin, queueUrl, 60);
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueUrl, client, highWaterMark: 15, maxMessages: 60 });
    let peak = 0;
    const bodies: string[] = [];
    for await (const message of source as AsyncIterable<SqsMessage>) {
      peak = Math.max(peak, source.stats.buffered);
      bodies.push(message.body);
      await message.ack();
      await tick(2);
    }
    expect(bodies.sort()).toEqual([...sent].sort());
    expect(peak).toBeLessThanOrEqual(15);
    expect(requests.maxInFlight['ReceiveMessageCommand']).toBe(1);
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('makes one receive in flight for 50 rapid reads', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueUrl, client, waitTimeSeconds: 2 });
    for (let i = 0; i < 50; i++) {
      source.read();
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 100 && (requests.counts['ReceiveMessageCommand'] ?? 0) === 0; i++) {
      await tick(10);
    }
    expect(requests.counts['ReceiveMessageCommand']).toBe(1);
    expect(requests.maxInFlight['ReceiveMessageCommand']).toBe(1);
    source.resume();
    await source.stop();
    expect(requests.maxInFlight['ReceiveMessageCommand']).toBe(1);
    client.destroy();
  });

  it('delivers messages sent after several empty long polls', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    const source = new SqsReadable({ queueUrl, client, waitTimeSeconds: 1, maxMessages: 5 });
    const bodies: string[] = [];
    source.on('data', (message: SqsMessage) => {
      bodies.push(message.body);
      void message.ack();
    });
    for (let i = 0; i < 200 && source.stats.emptyReceives < 3; i++) await tick(50);
    expect(source.stats.emptyReceives).toBeGreaterThanOrEqual(3);
    // Listen before sending: the stream may receive all five and end before the send returns.
    const ended = new Promise((resolve) => source.once('end', resolve));
    const sent = await sendTestMessages(admin, queueUrl, 5);
    await ended;
    expect(bodies.sort()).toEqual([...sent].sort());
    client.destroy();
  });

  it('keeps at most `concurrency` receives in flight', async () => {
    const queueUrl = await createTestQueue();
    await sendTestMessages(admin, queueUrl, 120);
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueUrl, client, concurrency: 3, maxMessages: 120 });
    let count = 0;
    for await (const message of source as AsyncIterable<SqsMessage>) {
      count++;
      await message.ack();
    }
    expect(count).toBe(120);
    expect(requests.maxInFlight['ReceiveMessageCommand']).toBeLessThanOrEqual(3);
    client.destroy();
  });

  it('ends with QueueDoesNotExistError for a missing queue URL', async () => {
    const queueUrl = await createTestQueue();
    const missing = `${queueUrl}-missing`;
    const client = testClient();
    const source = new SqsReadable({ queueUrl: missing, client, heartbeat: false });
    const error = await new Promise<unknown>((resolve) => {
      source.on('error', resolve);
      source.resume();
    });
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect((error as SqsStreamError).queue).toBe(missing);
    expect((error as SqsStreamError).operation).toBe('ReceiveMessage');
    expect((error as SqsStreamError).cause).toBeDefined();
    client.destroy();
  });

  it('ends with QueueDoesNotExistError for a missing queue name', async () => {
    const client = testClient();
    const source = new SqsReadable({ queueName: 'sqs-streams-no-such-queue', client });
    const error = await new Promise<unknown>((resolve) => {
      source.on('error', resolve);
      source.resume();
    });
    expect(error).toBeInstanceOf(QueueDoesNotExistError);
    expect((error as SqsStreamError).operation).toBe('GetQueueUrl');
    expect((error as Error).message).toContain('sqs-streams-no-such-queue');
    client.destroy();
  });

  it('composes with pipeline, a Transform stage and SqsAckWritable', async () => {
    const queueUrl = await createTestQueue();
    const sent = await sendTestMessages(admin, queueUrl, 45);
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueUrl, client, idleTimeoutMs: 1_500 });
    const seen: string[] = [];
    await pipeline(
      source,
      new Transform({
        objectMode: true,
        transform(message: SqsMessage, _encoding, callback) {
          seen.push(message.body.toUpperCase());
          callback(null, message);
        },
      }),
      new SqsAckWritable(),
    );
    expect(seen.sort()).toEqual(sent.map((b) => b.toUpperCase()).sort());
    expect(source.stats.acked).toBe(45);
    expect(requests.counts['DeleteMessageCommand']).toBeUndefined();
    expect(requests.counts['DeleteMessageBatchCommand']).toBeLessThanOrEqual(10);
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('resolves a queue name once and reads through it', async () => {
    const queueUrl = await createTestQueue();
    const queueName = queueUrl.split('/').pop() as string;
    await sendTestMessages(admin, queueUrl, 3);
    const client = testClient();
    const requests = countRequests(client);
    const source = new SqsReadable({ queueName, client, maxMessages: 3 });
    const got: SqsMessage[] = [];
    for await (const message of source as AsyncIterable<SqsMessage>) got.push(message);
    await Promise.all(got.map((m) => m.ack()));
    expect(got).toHaveLength(3);
    expect(source.queueUrl).toBe(queueUrl);
    expect(requests.counts['GetQueueUrlCommand']).toBe(1);
    client.destroy();
  });
});
