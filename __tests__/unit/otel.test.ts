import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import {
  channels,
  injectChannel,
  isTraced,
  traced,
  type RequestTraceContext,
} from '../../lib/core/diagnostics.js';
import { SqsStreamError } from '../../lib/core/errors.js';
import { prepareMessage } from '../../lib/send/send-input.js';
import { spanText, startOtel, type OtelHarness } from '../support/otel.js';

// The subscriber on its own: the channels are published here by hand, as the request loop and
// SqsProcessor publish them (__tests__/integration/otel.test.ts runs it through the streams).

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders';
const BODY = 'SECRET-BODY-do-not-trace';
const RECEIPT_HANDLE = 'SECRET-RECEIPT-HANDLE';

let otel: OtelHarness;
let uninstall: () => void;

beforeEach(() => {
  otel = startOtel();
  uninstall = otel.instrument();
});

afterEach(async () => {
  uninstall();
  await otel.shutdown();
});

function requestContext(operation: string, messageCount: number): RequestTraceContext {
  return { queueUrl: QUEUE_URL, operation, messageCount };
}

/** A span, and the message attributes a message written while it was active got. */
function sentFrom(name: string): { span: Span; attributes: Record<string, MessageAttributeValue> } {
  const tracer = otel.provider.getTracer('test');
  return tracer.startActiveSpan(name, (span) => {
    const attributes: Record<string, MessageAttributeValue> = {};
    injectChannel.publish({ queueUrl: QUEUE_URL, messageAttributes: attributes });
    span.end();
    return { span, attributes };
  });
}

describe('request spans', () => {
  it('makes `send <queue>` (PRODUCER) with the messaging attributes, per attempt', async () => {
    const result = await traced('send', requestContext('SendMessageBatch', 3), async () => 'ok');

    expect(result).toBe('ok');
    const [span] = otel.named('send orders');
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.attributes).toEqual({
      'messaging.system': 'aws_sqs',
      'messaging.destination.name': 'orders',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'SendMessageBatch',
      'messaging.batch.message_count': 3,
      'aws.sqs.queue.url': QUEUE_URL,
      'server.address': 'sqs.eu-west-1.amazonaws.com',
      'server.port': 443,
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('makes `settle <queue>` (CLIENT) for deletes and visibility changes', async () => {
    await traced('delete', requestContext('DeleteMessageBatch', 10), async () => undefined);
    await traced(
      'visibility',
      requestContext('ChangeMessageVisibilityBatch', 2),
      async () => undefined,
    );

    const settles = otel.named('settle orders');
    expect(settles.map((s) => [s.kind, s.attributes['messaging.operation.name']])).toEqual([
      [SpanKind.CLIENT, 'DeleteMessageBatch'],
      [SpanKind.CLIENT, 'ChangeMessageVisibilityBatch'],
    ]);
    expect(settles.map((s) => s.attributes['messaging.operation.type'])).toEqual([
      'settle',
      'settle',
    ]);
  });

  it('makes `receive <queue>` (CLIENT) with the count received, linked to each sender', async () => {
    const first = sentFrom('producer-1');
    const second = sentFrom('producer-2');
    const context = requestContext('ReceiveMessage', 0);

    await traced('receive', context, async () => {
      context.messageCount = 3;
      context.messages = [
        { messageId: 'm-1', messageAttributes: first.attributes },
        { messageId: 'm-2', messageAttributes: {} }, // sent without a trace: no link
        { messageId: 'm-3', messageAttributes: second.attributes },
      ];
    });

    const [span] = otel.named('receive orders');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes['messaging.batch.message_count']).toBe(3);
    expect(span?.links.map((l) => [l.context.spanId, l.attributes])).toEqual([
      [first.span.spanContext().spanId, { 'messaging.message.id': 'm-1' }],
      [second.span.spanContext().spanId, { 'messaging.message.id': 'm-3' }],
    ]);
  });

  it('runs the request with its span active (an HTTP span of the SDK call is its child)', async () => {
    let active: string | undefined;
    await traced('delete', requestContext('DeleteMessageBatch', 1), async () => {
      active = trace.getActiveSpan()?.spanContext().spanId;
    });

    expect(active).toBe(otel.named('settle orders')[0]?.spanContext().spanId);
  });

  it('marks a failed attempt with error.type and an ERROR status, never the SDK message', async () => {
    const sdkError = Object.assign(
      new Error(`The input receipt handle "${RECEIPT_HANDLE}" is not a valid receipt handle.`),
      { name: 'ReceiptHandleIsInvalid' },
    );
    await expect(
      traced('delete', requestContext('DeleteMessageBatch', 1), async () => {
        throw sdkError;
      }),
    ).rejects.toBe(sdkError);
    const ours = new SqsStreamError('Queue orders does not exist; create it first', {
      code: 'AWS.SimpleQueueService.NonExistentQueue',
    });
    await expect(
      traced('receive', requestContext('ReceiveMessage', 0), async () => {
        throw ours;
      }),
    ).rejects.toBe(ours);

    const [settle] = otel.named('settle orders');
    expect(settle?.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(settle?.attributes['error.type']).toBe('ReceiptHandleIsInvalid');
    expect(spanText(settle as never)).not.toContain(RECEIPT_HANDLE);
    const [receive] = otel.named('receive orders');
    expect(receive?.status).toEqual({ code: SpanStatusCode.ERROR, message: ours.message });
    expect(receive?.attributes['error.type']).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });
});

describe('process spans', () => {
  const messageFrom = (attributes: Record<string, MessageAttributeValue>) => ({
    messageId: 'm-7',
    body: BODY,
    receiptHandle: RECEIPT_HANDLE,
    messageAttributes: attributes,
  });

  it('are CONSUMER children of the sender, active while the handler runs', async () => {
    const sender = sentFrom('producer');
    const context = { ...requestContext('process', 1), message: messageFrom(sender.attributes) };
    let activeInHandler: string | undefined;

    await traced('process', context, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
    });

    const [span] = otel.named('process orders');
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.spanContext().traceId).toBe(sender.span.spanContext().traceId);
    expect(span?.parentSpanContext?.spanId).toBe(sender.span.spanContext().spanId);
    expect(span?.links.map((l) => l.context.spanId)).toEqual([sender.span.spanContext().spanId]);
    expect(activeInHandler).toBe(span?.spanContext().spanId);
    expect(span?.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': 'm-7',
    });
    expect(span?.attributes['messaging.batch.message_count']).toBeUndefined();
    expect(spanText(span as never)).not.toMatch(/SECRET/);
  });

  it('keep an ambient span as a link, and start a trace of their own without a sender', async () => {
    const sender = sentFrom('producer');
    const tracer = otel.provider.getTracer('test');
    await tracer.startActiveSpan('poll-loop', async (ambient) => {
      await traced(
        'process',
        { ...requestContext('process', 1), message: messageFrom(sender.attributes) },
        async () => undefined,
      );
      await traced(
        'process',
        { ...requestContext('process', 1), message: messageFrom({}) },
        async () => undefined,
      );
      ambient.end();
    });

    const [linked, unlinked] = otel.named('process orders');
    const ambient = otel.named('poll-loop')[0];
    expect(linked?.parentSpanContext?.spanId).toBe(sender.span.spanContext().spanId);
    expect(linked?.links.map((l) => l.context.spanId)).toEqual([
      sender.span.spanContext().spanId,
      ambient?.spanContext().spanId,
    ]);
    expect(unlinked?.parentSpanContext?.spanId).toBe(ambient?.spanContext().spanId);
    expect(unlinked?.links).toEqual([]);
  });

  it('fail with the handler error type only (a handler message may quote the body)', async () => {
    await expect(
      traced('process', { ...requestContext('process', 1), message: messageFrom({}) }, () =>
        Promise.reject(new TypeError(`cannot parse ${BODY}`)),
      ),
    ).rejects.toThrow(TypeError);

    const [span] = otel.named('process orders');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span?.attributes['error.type']).toBe('TypeError');
    expect(spanText(span as never)).not.toMatch(/SECRET/);
  });
});

describe('propagation into sent messages', () => {
  const prepare = (chunk: unknown) =>
    prepareMessage(chunk, 0, { fifo: false, queue: QUEUE_URL, maxMessageBytes: 1_048_576 });

  it('injects the active context as a String `traceparent`, counted in the size', () => {
    const tracer = otel.provider.getTracer('test');
    const prepared = tracer.startActiveSpan('producer', (span) => {
      span.end();
      return prepare({ body: 'hello' });
    });

    const traceparent = prepared.entry.MessageAttributes?.['traceparent'];
    const producer = otel.named('producer')[0]?.spanContext();
    expect(traceparent).toEqual({
      DataType: 'String',
      StringValue: `00-${producer?.traceId}-${producer?.spanId}-01`,
    });
    expect(prepared.size).toBe(5 + 'traceparent'.length + 'String'.length + 55);
  });

  it('injects nothing without an active span, into a full message, or over a sender context', () => {
    const tracer = otel.provider.getTracer('test');
    const ten = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
    );
    const own = {
      DataType: 'String',
      StringValue: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const [full, withOwn] = tracer.startActiveSpan('producer', (span) => {
      span.end();
      return [
        prepare({ body: 'x', messageAttributes: ten }),
        prepare({ body: 'x', messageAttributes: { traceparent: own } }),
      ];
    });

    expect(prepare('no span').entry.MessageAttributes).toBeUndefined();
    expect(full?.entry.MessageAttributes).toEqual(ten);
    expect(withOwn?.entry.MessageAttributes).toEqual({ traceparent: own });
  });

  it('adds what fits, in the propagator order, to a message with 9 attributes', () => {
    const tracer = otel.provider.getTracer('test');
    const nine = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
    );
    const attributes = tracer.startActiveSpan('producer', (span) => {
      span.end();
      // A tracestate makes the W3C propagator inject two fields.
      const withState = trace.setSpanContext(context.active(), {
        ...span.spanContext(),
        traceState: { serialize: () => 'vendor=1' } as never,
      });
      return context.with(withState, () => prepare({ body: 'x', messageAttributes: nine })).entry
        .MessageAttributes;
    });

    expect(Object.keys(attributes ?? {})).toEqual([...Object.keys(nine), 'traceparent']);
  });
});

describe('uninstalling', () => {
  it('stops new spans and injection, and still ends the spans already started', async () => {
    let release: () => void = () => undefined;
    const running = traced(
      'receive',
      requestContext('ReceiveMessage', 0),
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    uninstall();
    await traced('send', requestContext('SendMessageBatch', 1), async () => undefined);
    const tracer = otel.provider.getTracer('test');
    const prepared = tracer.startActiveSpan('producer', (span) => {
      span.end();
      return prepareMessage('x', 0, { fifo: false, queue: QUEUE_URL, maxMessageBytes: 1024 });
    });
    expect(isTraced('receive')).toBe(true); // its asyncEnd listener waits for the open span

    release();
    await running;

    expect(otel.spans().map((s) => s.name)).toEqual(['producer', 'receive orders']);
    expect(prepared.entry.MessageAttributes).toBeUndefined();
    for (const kind of Object.keys(channels) as Array<keyof typeof channels>) {
      expect(isTraced(kind)).toBe(false);
    }
    expect(injectChannel.hasSubscribers).toBe(false);
  });
});
