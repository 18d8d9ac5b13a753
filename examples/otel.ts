/**
 * OpenTelemetry: spans for every send, receive and settle the streams make, and the producer's
 * trace carried to the consumer in each message's `traceparent` attribute.
 *
 * `instrumentSqsStreams()` subscribes to the streams' diagnostics channels; with no options it
 * uses the global tracer provider and propagator that your SDK setup registered (NodeSDK of
 * `@opentelemetry/sdk-node` does). Here an SDK is set up by hand so the example runs alone.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/orders npx ts-node examples/otel.ts
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, SqsWritable } from 'sqs-streams';
import { instrumentSqsStreams } from 'sqs-streams/otel';

export interface TracedRoundTripOptions {
  client: SQSClient;
  queueUrl: string;
  /** Where the spans go. */
  exporter: SpanExporter;
  /** How many orders to send and then consume. */
  orders?: number;
}

/** Sends `orders` messages inside a `place-orders` span, then consumes and acks them. */
export async function main({
  client,
  queueUrl,
  exporter,
  orders = 5,
}: TracedRoundTripOptions): Promise<void> {
  // The SDK: a context that follows async calls, a provider, the W3C propagator.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const uninstall = instrumentSqsStreams({
    tracerProvider: provider,
    propagator: new W3CTraceContextPropagator(),
  });
  try {
    const tracer = provider.getTracer('orders-app');
    // Messages written while a span is active carry its context (a `traceparent` attribute).
    await tracer.startActiveSpan('place-orders', async (span) => {
      const bodies = Array.from({ length: orders }, (_, i) => JSON.stringify({ id: `o-${i}` }));
      await pipeline(Readable.from(bodies), new SqsWritable({ queueUrl, client }));
      span.end();
    });
    // Each `receive <queue>` span links to the context of every message it received.
    const source = new SqsReadable({ queueUrl, client, maxMessages: orders });
    await pipeline(source, new SqsAckWritable());
  } finally {
    uninstall(); // no new spans from here on
    await provider.shutdown();
    context.disable();
  }
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({ client: new SQSClient({}), queueUrl, exporter: new ConsoleSpanExporter() }).catch(
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
