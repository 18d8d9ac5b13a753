import { existsSync } from 'node:fs';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  approximateCounts,
  countRequests,
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  queueNameOf,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers.js';
import {
  publishEndpoint,
  readPublishedEndpoint,
  startSqsEndpoint,
} from '../support/sqs-endpoint.js';

// The harness itself: if this file fails, every other integration failure is suspect.
describe('SQS endpoint harness', () => {
  let client: SQSClient;

  beforeAll(() => {
    client = testClient();
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
    client.destroy();
  });

  it('picks the endpoint in the documented order', () => {
    const endpoint = testEndpoint();
    // An independent look at the machine, not the harness' own probe.
    const dockerConfigured =
      Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
    const expected = process.env['SQS_ENDPOINT'] ? 'env' : dockerConfigured ? undefined : 'fauxqs';
    if (expected) expect(endpoint.kind).toBe(expected);
    expect(new URL(endpoint.endpoint).protocol).toMatch(/^https?:$/);
    if (endpoint.kind !== 'env') {
      expect(endpoint.credentials).toEqual({ accessKeyId: 'test', secretAccessKey: 'test' });
      // The time the Docker probe took is measured and published (its bound is in docs, not here).
      expect(Number.isFinite(endpoint.detectMs)).toBe(true);
      expect(endpoint.detectMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('takes SQS_ENDPOINT as is, with test credentials only for a local one', async () => {
    const local = await startSqsEndpoint({ env: { SQS_ENDPOINT: 'http://localhost:4566' } });
    expect(local).toMatchObject({ kind: 'env', region: 'us-east-1', detectMs: 0 });
    expect(local.credentials).toEqual({ accessKeyId: 'test', secretAccessKey: 'test' });
    await local.stop();

    const env = { SQS_ENDPOINT: 'https://sqs.eu-west-1.amazonaws.com', AWS_REGION: 'eu-west-1' };
    const aws = await startSqsEndpoint({ env });
    expect(aws).toMatchObject({ kind: 'env', region: 'eu-west-1' });
    expect(aws.credentials).toBeUndefined();

    await expect(startSqsEndpoint({ env: { SQS_ENDPOINT: 'localhost' } })).rejects.toThrow(
      /not a URL/,
    );
  });

  it('publishes the endpoint through environment variables and reads it back', () => {
    const published: NodeJS.ProcessEnv = {};
    publishEndpoint(testEndpoint(), published);
    expect(readPublishedEndpoint(published)).toEqual(testEndpoint());
    expect(() => readPublishedEndpoint({})).toThrow(/integration/);
  });

  it('round-trips 25 messages through a standard queue, counting the requests', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 30 });
    const counter = countRequests(client);

    const sent = await sendTestMessages(client, queueUrl, 25);
    expect(sent).toHaveLength(25);
    expect(counter.counts['SendMessageBatchCommand']).toBe(3);

    const received = await drainQueue(client, queueUrl, { maxEmptyReceives: 1 });
    expect(received.map((message) => message.Body).sort()).toEqual([...sent].sort());
    // Every receive that returned messages was followed by exactly one batch delete.
    const receives = counter.counts['ReceiveMessageCommand'] ?? 0;
    expect(receives).toBeGreaterThanOrEqual(3 + 1); // >= 3 full batches, then one empty
    expect(counter.counts['DeleteMessageBatchCommand']).toBe(receives - 1);
    expect(counter.maxInFlight['ReceiveMessageCommand']).toBe(1);
    expect(counter.errors).toEqual({});
    expect(counter.total()).toBe(3 + receives + (receives - 1));

    const counts = await approximateCounts(client, queueUrl);
    for (const n of [counts.visible, counts.inFlight, counts.delayed]) {
      expect(Number.isInteger(n) && n >= 0).toBe(true);
    }
  });

  it('round-trips 25 messages through a FIFO queue in order', async () => {
    const queueUrl = await createTestQueue({ fifo: true });
    expect(queueNameOf(queueUrl)).toMatch(/^sqs-streams-test-.+\.fifo$/);

    const sent = await sendTestMessages(client, queueUrl, 25, (index) => `fifo-${index}`);
    const received = await drainQueue(client, queueUrl, { maxEmptyReceives: 1 });
    // One group: SQS delivers it in send order (fauxqs one message a receive, SQS up to 10).
    expect(received.map((message) => message.Body)).toEqual(sent);
    expect(received[0]?.Attributes?.MessageGroupId).toBe('group-0');
  });

  it('tracks concurrent requests of the same command', async () => {
    const queueUrl = await createTestQueue();
    const probe = testClient();
    const counter = countRequests(probe);
    expect(countRequests(probe)).toBe(counter);
    try {
      const polls = [1, 2, 3].map(() =>
        probe.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 })),
      );
      await Promise.all(polls);
      expect(counter.maxInFlight['ReceiveMessageCommand']).toBe(3);
      expect(counter.inFlight['ReceiveMessageCommand']).toBe(0);
      expect(counter.counts['ReceiveMessageCommand']).toBe(3);

      counter.reset();
      expect(counter.total()).toBe(0);
      expect(counter.maxInFlight).toEqual({});
    } finally {
      probe.destroy();
    }
  });
});
