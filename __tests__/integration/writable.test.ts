import type { SQSClient } from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { BatchEntryError, MessageTooLargeError } from '../../lib/core/errors.js';
import { SqsWritable, type SendInput } from '../../lib/send/sqs-writable.js';
import {
  countRequests,
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  queueNameOf,
  testClient,
} from '../support/sqs-helpers.js';

// Issue 4 against a real endpoint: what is written arrives, exactly, in few requests; FIFO
// order holds; an oversize message is an error and never sent, while earlier ones arrive.

describe('SqsWritable (integration)', () => {
  let admin: SQSClient;

  beforeAll(() => {
    admin = testClient();
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
    admin.destroy();
  });

  it('95 mixed string and object messages arrive exactly, in <= 12 SendMessageBatch and no SendMessage', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    const counter = countRequests(client);
    try {
      const chunks: Array<string | SendInput> = Array.from({ length: 95 }, (_, i) => {
        if (i % 3 === 0) return `plain ${i}`;
        if (i % 3 === 1) return { body: { i, kind: 'json', tags: ['a', 'b'] } };
        return {
          body: `with attributes ${i}`,
          messageAttributes: { index: { DataType: 'Number', StringValue: String(i) } },
        };
      });
      const sink = new SqsWritable({ queueUrl, client });
      await pipeline(Readable.from(chunks), sink);

      const sendBatches = counter.counts['SendMessageBatchCommand'] ?? 0;
      expect(sendBatches).toBeLessThanOrEqual(12);
      expect(counter.counts['SendMessageCommand']).toBeUndefined();
      expect(sink.stats).toMatchObject({ sent: 95, sendRequests: sendBatches, inFlight: 0 });

      const received = await drainQueue(admin, queueUrl, { maxEmptyReceives: 2 });
      const expected = chunks.map((chunk) =>
        typeof chunk === 'string'
          ? chunk
          : typeof chunk.body === 'string'
            ? chunk.body
            : JSON.stringify(chunk.body),
      );
      expect(received.map((m) => m.Body).sort()).toEqual(expected.sort());
      const withAttributes = received.filter((m) => m.Body?.startsWith('with attributes'));
      expect(withAttributes).toHaveLength(31);
      for (const message of withAttributes) {
        expect(message.MessageAttributes?.['index']).toMatchObject({
          DataType: 'Number',
          StringValue: message.Body?.split(' ').pop(),
        });
      }
    } finally {
      client.destroy();
    }
  });

  it('a FIFO group arrives in order, next to other groups (queue given by name)', async () => {
    const queueUrl = await createTestQueue({ fifo: true });
    const client = testClient();
    try {
      const sink = new SqsWritable({ queueName: queueNameOf(queueUrl), client });
      const written: Record<string, string[]> = { red: [], blue: [] };
      const chunks: SendInput[] = [];
      for (let i = 0; i < 30; i++) {
        for (const group of ['red', 'blue']) {
          const body = `${group}-${i}`;
          written[group]!.push(body);
          chunks.push({ body, groupId: group });
        }
      }
      await pipeline(Readable.from(chunks), sink);
      expect(sink.queueUrl).toBe(queueUrl);
      expect(sink.stats.sent).toBe(60);

      const received = await drainQueue(admin, queueUrl, { maxEmptyReceives: 2 });
      expect(received).toHaveLength(60);
      for (const group of ['red', 'blue']) {
        const inGroup = received.filter((m) => m.Attributes?.['MessageGroupId'] === group);
        expect(inGroup.map((m) => m.Body)).toEqual(written[group]);
      }
    } finally {
      client.destroy();
    }
  });

  it('an oversize message errors and is never sent, while earlier ones arrive', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    const counter = countRequests(client);
    try {
      const sink = new SqsWritable({ queueUrl, client });
      const errored = once(sink, 'error');
      const results: Array<Promise<Error | null>> = [];
      const write = (chunk: string | SendInput): void => {
        results.push(new Promise((resolve) => sink.write(chunk, (e) => resolve(e ?? null))));
      };
      for (let i = 0; i < 5; i++) write(`before ${i}`);
      // 1 MiB of body plus a 20-byte attribute: over SQS's limit by the attribute alone.
      write({
        body: 'x'.repeat(1_048_576 - 10),
        messageAttributes: { note: { DataType: 'String', StringValue: '0123456789' } },
      });
      write('after');
      const [error] = (await errored) as [MessageTooLargeError];
      expect(error).toBeInstanceOf(MessageTooLargeError);
      expect(error).toMatchObject({ size: 1_048_576 + 10, limit: 1_048_576 });
      expect(error.message).toMatch(/Message #5 is 1048586 bytes/);

      const settled = await Promise.all(results);
      expect(settled.slice(0, 5)).toEqual([null, null, null, null, null]);
      expect(settled[5]).toBe(error);
      expect(settled[6]).toBeInstanceOf(Error);

      const received = await drainQueue(admin, queueUrl, { maxEmptyReceives: 2 });
      expect(received.map((m) => m.Body).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `before ${i}`));
      expect(counter.counts['SendMessageBatchCommand']).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it("an entry SQS rejects (FIFO without deduplication) fails the stream naming it and SQS's code", async () => {
    const queueUrl = await createTestQueue({
      fifo: true,
      attributes: { ContentBasedDeduplication: 'false' },
    });
    const client = testClient();
    try {
      const sink = new SqsWritable({ queueUrl, client });
      sink.write({ body: 'with id', groupId: 'g', deduplicationId: 'd-1' });
      sink.write({ body: 'without id', groupId: 'g' });
      sink.end();
      const error = (await finished(sink).catch((e: unknown) => e)) as BatchEntryError;
      expect(error).toBeInstanceOf(BatchEntryError);
      expect(error.senderFault).toBe(true);
      expect(error.message).toMatch(/message #1 \(group `g`\)/);
      expect(error.message).toMatch(/deduplicationId|ContentBasedDeduplication/);
      expect(error.code).toBeDefined();
      expect(sink.stats.sent).toBe(1);
      const received = await drainQueue(admin, queueUrl, { maxEmptyReceives: 1 });
      expect(received.map((m) => m.Body)).toEqual(['with id']);
    } finally {
      client.destroy();
    }
  });
});
