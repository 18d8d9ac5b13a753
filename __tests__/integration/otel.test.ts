import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SpanKind } from '@opentelemetry/api';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, SqsWritable, type SqsMessage } from '../../lib/index.js';
import { spanText, startOtel, type OtelHarness } from '../support/otel.js';
import { processEach } from '../support/process-loop.js';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  testClient,
} from '../support/sqs-helpers.js';

// sqs-streams/otel through the streams on a real endpoint: a producer's trace reaches every
// handler run through the messages' `traceparent` attribute.

/** Receives without deleting (visibility 0) until `count` distinct messages were seen. */
async function peek(client: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (let i = 0; i < 20 && seen.size < count; i++) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of Messages) seen.set(message.MessageId ?? '', message);
  }
  return [...seen.values()];
}

describe('sqs-streams/otel on a real endpoint', () => {
  let otel: OtelHarness;
  let uninstall: () => void;
  let client: SQSClient;

  beforeEach(() => {
    otel = startOtel();
    uninstall = otel.instrument();
    client = testClient();
  });

  afterEach(async () => {
    uninstall();
    await otel.shutdown();
    client.destroy();
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
  });

  it('carries the producer trace to each handler run, and keeps bodies out of spans', async () => {
    const queueUrl = await createTestQueue();
    const bodies = Array.from({ length: 5 }, (_, i) => `otel-secret-body-${i}`);
    const tracer = otel.provider.getTracer('test');
    await tracer.startActiveSpan('producer', async (span) => {
      await pipeline(Readable.from(bodies), new SqsWritable({ queueUrl, client }));
      span.end();
    });
    const producer = otel.named('producer')[0]?.spanContext();

    // A plain SDK receive sees the W3C context as a String message attribute.
    const raw = await peek(client, queueUrl, 5);
    expect(raw).toHaveLength(5);
    for (const message of raw) {
      expect(message.MessageAttributes?.['traceparent']).toEqual({
        DataType: 'String',
        StringValue: expect.stringMatching(new RegExp(`^00-${producer?.traceId}-[0-9a-f]{16}-01$`)),
      });
    }

    const source = new SqsReadable({ queueUrl, client, maxMessages: 5 });
    const handled: string[] = [];
    await processEach(source, async (message: SqsMessage) => {
      handled.push(message.body);
      await message.ack();
    });

    expect(handled.sort()).toEqual(bodies);
    const processed = otel.named(`process ${queueUrl.split('/').pop()}`);
    expect(processed).toHaveLength(5);
    for (const span of processed) {
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(producer?.traceId);
      expect(span.parentSpanContext?.spanId).toBe(producer?.spanId);
    }
    const names = new Set(otel.spans().map((span) => span.name.split(' ')[0]));
    expect([...names].sort()).toEqual(['process', 'producer', 'receive', 'send', 'settle']);
    const receives = otel.spans().filter((span) => span.name.startsWith('receive '));
    const links = receives.flatMap((span) => span.links.map((link) => link.context.traceId));
    expect(links).toEqual(Array(5).fill(producer?.traceId));
    for (const span of otel.spans()) {
      for (const body of bodies) expect(spanText(span)).not.toContain(body);
    }
  });

  it('sends a message that has 10 attributes unchanged', async () => {
    const queueUrl = await createTestQueue();
    const ten = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: `${i}` }]),
    );
    const tracer = otel.provider.getTracer('test');
    await tracer.startActiveSpan('producer', async (span) => {
      const sink = new SqsWritable({ queueUrl, client });
      await pipeline(Readable.from([{ body: 'full', messageAttributes: ten }, 'roomy']), sink);
      span.end();
    });

    const received = await drainQueue(client, queueUrl);
    const full = received.find((m) => m.Body === 'full');
    const roomy = received.find((m) => m.Body === 'roomy');
    expect(full?.MessageAttributes).toEqual(ten);
    expect(Object.keys(roomy?.MessageAttributes ?? {})).toEqual(['traceparent']);
  });

  it('makes no span and injects nothing once uninstalled', async () => {
    const queueUrl = await createTestQueue();
    uninstall();
    const tracer = otel.provider.getTracer('test');
    await tracer.startActiveSpan('producer', async (span) => {
      await pipeline(Readable.from(['after']), new SqsWritable({ queueUrl, client }));
      span.end();
    });
    const source = new SqsReadable({ queueUrl, client, maxMessages: 1 });
    let attributes: unknown;
    await processEach(source, async (message) => {
      attributes = message.messageAttributes;
      await message.ack();
    });

    expect(attributes).toEqual({});
    expect(otel.spans().map((span) => span.name)).toEqual(['producer']);
  });
});
