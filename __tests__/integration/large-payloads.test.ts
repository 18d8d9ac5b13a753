import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SqsStreamError } from '../../lib/core/errors.js';
import { PayloadError } from '../../lib/payloads/index.js';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { SqsWritable, type SendChunk } from '../../lib/send/sqs-writable.js';
import type { SqsMessage } from '../../lib/settle/index.js';
import { startSqsProxy, totalInjected } from '../support/sqs-proxy.js';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers.js';

// Issue 14 on a real endpoint (fauxqs emulates S3 on the SQS port): the extended clients' wire
// format, byte for byte; round trips below and above the threshold; the legacy names; a
// poison pointer that must not stop the stream; S3 faults retried without loss.

const POINTER =
  /^\["software\.amazon\.payloadoffloading\.PayloadS3Pointer",\{"s3BucketName":"([^"]+)","s3Key":"([^"]+)"\}\]$/;

function s3Config(endpoint = testEndpoint().endpoint): S3ClientConfig {
  const { region, credentials } = testEndpoint();
  return { endpoint, region, forcePathStyle: true, ...(credentials ? { credentials } : {}) };
}

async function objectText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString('utf-8')) ?? '';
}

async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await objectText(s3, bucket, key);
    return true;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return false;
    throw error;
  }
}

/** A body of `bytes` UTF-8 bytes, multi-byte characters included, unique per call. */
function bigBody(bytes: number): string {
  const head = `${randomBytes(4).toString('hex')}-é€`; // 8 + 1 + 2 + 3 bytes
  return head + 'x'.repeat(bytes - Buffer.byteLength(head, 'utf8'));
}

/** Reads `count` messages (bounded by time), acking each unless `ack` is false. */
async function readAll(
  source: SqsReadable,
  count: number,
  options: { ack?: boolean; timeoutMs?: number } = {},
): Promise<SqsMessage[]> {
  const out: SqsMessage[] = [];
  const timer = setTimeout(() => source.destroy(), options.timeoutMs ?? 20_000);
  try {
    for await (const message of source) {
      out.push(message);
      if (options.ack !== false) await message.ack();
      if (out.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

describe('large payloads through S3 (integration)', () => {
  let sqs: SQSClient;
  let s3: S3Client;
  const bucket = `sqs-streams-payloads-${Date.now().toString(36)}`;

  beforeAll(async () => {
    sqs = testClient();
    s3 = new S3Client(s3Config());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
    sqs.destroy();
    s3.destroy();
  });

  it('sends the exact wire format above the threshold (other attributes kept), the body as is below', async () => {
    const queueUrl = await createTestQueue();
    const large = bigBody(300_000);
    const chunks: SendChunk[] = [
      { body: 'small', messageAttributes: { kind: { DataType: 'String', StringValue: 's' } } },
      { body: large, messageAttributes: { kind: { DataType: 'String', StringValue: 'l' } } },
    ];
    const sink = new SqsWritable({
      queueUrl,
      client: sqs,
      largePayloads: { s3Client: s3, bucket, thresholdBytes: 1024, keyPrefix: 'orders/' },
    });
    await pipeline(Readable.from(chunks), sink);

    const raw = await drainQueue(sqs, queueUrl, { maxEmptyReceives: 1 });
    const byKind = new Map<string, Message>(
      raw.map((m) => [m.MessageAttributes?.kind?.StringValue ?? '?', m]),
    );
    const small = byKind.get('s');
    expect(small?.Body).toBe('small');
    expect(Object.keys(small?.MessageAttributes ?? {})).toEqual(['kind']);

    const pointer = byKind.get('l');
    const match = POINTER.exec(pointer?.Body ?? '');
    expect(match).not.toBeNull();
    const [, pointerBucket, key] = match as RegExpExecArray;
    expect(pointerBucket).toBe(bucket);
    expect(key).toMatch(
      /^orders\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(pointer?.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'l' },
      ExtendedPayloadSize: { DataType: 'Number', StringValue: String(Buffer.byteLength(large)) },
    });
    expect(await objectText(s3, bucket, key as string)).toBe(large);
  });

  it('round trip: bodies over and under the threshold come back as sent; ack deletes the object (deleteFromS3 default)', async () => {
    const queueUrl = await createTestQueue();
    const bodies = [bigBody(2_000_000), 'tiny', bigBody(5_000)];
    await pipeline(
      Readable.from(bodies),
      new SqsWritable({
        queueUrl,
        client: sqs,
        largePayloads: { s3Client: s3, bucket, thresholdBytes: 1024 },
      }),
    );
    const source = new SqsReadable({
      queueUrl,
      client: sqs,
      waitTimeSeconds: 1,
      largePayloads: { s3Client: s3 },
    });
    const got = await readAll(source, 3);
    await source.stop();
    expect(got.map((m) => m.body).sort()).toEqual([...bodies].sort());
    const offloaded = got.filter((m) => m.payload !== undefined);
    expect(offloaded).toHaveLength(2);
    for (const message of offloaded) {
      expect(message.payload?.bucket).toBe(bucket);
      expect(message.messageAttributes).toEqual({});
      expect(message.raw.Body).toMatch(POINTER);
      expect(await objectExists(s3, bucket, message.payload?.key as string)).toBe(false);
    }
    expect(got.find((m) => m.body === 'tiny')?.payload).toBeUndefined();
  });

  it('deleteFromS3: false leaves the object after the ack', async () => {
    const queueUrl = await createTestQueue();
    const body = bigBody(3_000);
    await pipeline(
      Readable.from([body]),
      new SqsWritable({
        queueUrl,
        client: sqs,
        largePayloads: { s3Client: s3, bucket, alwaysThroughS3: true },
      }),
    );
    const source = new SqsReadable({
      queueUrl,
      client: sqs,
      waitTimeSeconds: 1,
      largePayloads: { s3Client: s3, deleteFromS3: false },
    });
    const [message] = await readAll(source, 1);
    await source.stop();
    expect(message?.body).toBe(body);
    expect(await objectText(s3, bucket, message?.payload?.key as string)).toBe(body);
  });

  it('legacyAttributeName sends SQSLargePayloadSize with the same pointer class; a receiver resolves it', async () => {
    const queueUrl = await createTestQueue();
    const body = bigBody(2_000);
    await pipeline(
      Readable.from([body]),
      new SqsWritable({
        queueUrl,
        client: sqs,
        largePayloads: { s3Client: s3, bucket, thresholdBytes: 100, legacyAttributeName: true },
      }),
    );
    const [raw] = await drainQueue(sqs, queueUrl, {
      deleteMessages: false,
      visibilityTimeout: 1,
      maxMessages: 1,
    });
    expect(raw?.Body).toMatch(POINTER);
    expect(raw?.MessageAttributes).toEqual({
      SQSLargePayloadSize: { DataType: 'Number', StringValue: '2000' },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const source = new SqsReadable({
      queueUrl,
      client: sqs,
      waitTimeSeconds: 1,
      largePayloads: { s3Client: s3 },
    });
    const [message] = await readAll(source, 1);
    await source.stop();
    expect(message?.body).toBe(body);
    expect(message?.messageAttributes).toEqual({});
  });

  it('resolves a hand-made Java 1.x message (MessageS3Pointer, SQSLargePayloadSize, spaced JSON)', async () => {
    const queueUrl = await createTestQueue();
    const key = `java-legacy/${randomBytes(8).toString('hex')}`;
    const body = bigBody(1_500);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: `[ "com.amazon.sqs.javamessaging.MessageS3Pointer", {\n  "s3BucketName" : "${bucket}",\n  "s3Key" : "${key}"\n} ]`,
        MessageAttributes: {
          SQSLargePayloadSize: { DataType: 'Number', StringValue: '1500' },
          origin: { DataType: 'String', StringValue: 'java' },
        },
      }),
    );
    const source = new SqsReadable({
      queueUrl,
      client: sqs,
      waitTimeSeconds: 1,
      largePayloads: { s3Client: s3 },
    });
    const [message] = await readAll(source, 1);
    await source.stop();
    expect(message?.body).toBe(body);
    expect(message?.payload).toEqual({ bucket, key });
    expect(message?.messageAttributes).toEqual({
      origin: { DataType: 'String', StringValue: 'java' },
    });
    expect(await objectExists(s3, bucket, key)).toBe(false);
  });

  it("a missing object: 'payloadError', the stream goes on, and the message comes back after its visibility timeout", async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 2 });
    const key = `missing/${randomBytes(8).toString('hex')}`;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify([
          'software.amazon.payloadoffloading.PayloadS3Pointer',
          { s3BucketName: bucket, s3Key: key },
        ]),
        MessageAttributes: { ExtendedPayloadSize: { DataType: 'Number', StringValue: '10' } },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'healthy' }));
    const source = new SqsReadable({
      queueUrl,
      client: sqs,
      waitTimeSeconds: 1,
      largePayloads: { s3Client: s3 },
    });
    const errors: SqsStreamError[] = [];
    source.on('payloadError', (error: SqsStreamError) => errors.push(error));
    const streamErrors: unknown[] = [];
    source.on('error', (error) => streamErrors.push(error));
    const delivered: string[] = [];
    source.on('data', (message: SqsMessage) => {
      delivered.push(message.body);
      void message.ack();
    });
    // Twice: once now, once more after its 2 s visibility timeout (heartbeat or not, it is no
    // longer held). Bounded by time.
    const deadline = Date.now() + 15_000;
    while (errors.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await source.stop();
    expect(streamErrors).toEqual([]);
    expect(delivered).toEqual(['healthy']);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    const [first, second] = errors as [PayloadError, PayloadError];
    expect(first).toBeInstanceOf(PayloadError);
    expect(first).toMatchObject({ operation: 'GetObject', bucket, key, code: 'NoSuchKey' });
    expect(first.messageId).toBe(second.messageId);
    expect((first.cause as Error).name).toBe('NoSuchKey');
    expect(first.message).toContain(`s3://${bucket}/${key}`);
    expect(first.message).toContain(first.messageId);
  });

  it("uses the queue's MaximumMessageSize as the default threshold", async () => {
    const queueUrl = await createTestQueue({ attributes: { MaximumMessageSize: '1024' } });
    const under = 'u'.repeat(1024);
    const over = 'o'.repeat(1025);
    await pipeline(
      Readable.from([under, over]),
      new SqsWritable({ queueUrl, client: sqs, largePayloads: { s3Client: s3, bucket } }),
    );
    const raw = await drainQueue(sqs, queueUrl, { maxEmptyReceives: 1 });
    const bodies = raw.map((m) => m.Body ?? '');
    expect(bodies).toContain(under);
    expect(bodies.filter((b) => POINTER.test(b))).toHaveLength(1);
    expect(bodies).not.toContain(over);
  });

  // 500 and 503 only: under Jest a connection reset reaches the SDK from Node's own realm and is
  // wrapped into a bare Error without its code (see __tests__/reliability/sqs-proxy.test.ts), so
  // resets are exercised by the plain-Node consumers of the reliability suite, not here.
  it('S3 faults (500, 503) under the fault proxy are retried; nothing is lost', async () => {
    const queueUrl = await createTestQueue();
    const proxy = await startSqsProxy({
      target: testEndpoint().endpoint,
      faults: { rate: 0.3, kinds: ['500', '503'], seed: 7 },
      maxRequests: 2_000,
      maxDurationMs: 60_000,
    });
    // The SDK's own retries off: every fault reaches the stream's retry loop.
    const faultyS3 = new S3Client({ ...s3Config(proxy.endpoint), maxAttempts: 1 });
    const retry = { startingDelay: 10, maxDelay: 50 };
    try {
      const bodies = Array.from({ length: 20 }, () => bigBody(2_000));
      const sink = new SqsWritable({
        queueUrl,
        client: sqs,
        retry,
        largePayloads: { s3Client: faultyS3, bucket, thresholdBytes: 1024 },
      });
      let sendRetries = 0;
      sink.on('retry', () => sendRetries++);
      await pipeline(Readable.from(bodies), sink);

      const source = new SqsReadable({
        queueUrl,
        client: sqs,
        waitTimeSeconds: 1,
        retry,
        largePayloads: { s3Client: faultyS3 },
      });
      let receiveRetries = 0;
      source.on('retry', () => receiveRetries++);
      const deleteErrors: unknown[] = [];
      source.on('payloadDeleteError', (error) => deleteErrors.push(error));
      const got = await readAll(source, 20, { timeoutMs: 40_000 });
      await source.stop();

      expect(got.map((m) => m.body).sort()).toEqual([...bodies].sort());
      expect(deleteErrors).toEqual([]);
      expect(totalInjected(proxy.injected)).toBeGreaterThan(0);
      expect(proxy.counts.PutObject).toBeGreaterThan(20);
      expect(sendRetries + receiveRetries).toBe(totalInjected(proxy.injected));
      const keys = got.map((m) => m.payload?.key as string);
      for (const key of keys) expect(await objectExists(s3, bucket, key)).toBe(false);
    } finally {
      faultyS3.destroy();
      await proxy.close();
    }
  });
});
