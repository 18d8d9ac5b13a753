import {
  context as otelContext,
  defaultTextMapSetter,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Channel } from 'node:diagnostics_channel';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import {
  channels,
  injectChannel,
  type InjectContext,
  type RequestTraceContext,
  type TraceKind,
} from './core/diagnostics.js';
import { SqsStreamError } from './core/errors.js';

/**
 * `sqs-streams/otel`: OpenTelemetry spans for the streams' diagnostics channels, following the
 * OTel messaging semantic conventions (docs/observability.md). This is the only module that
 * loads `@opentelemetry/api` (an optional peer dependency); the main entry never does.
 */

/** Options of {@link instrumentSqsStreams}. */
export interface SqsStreamsInstrumentationOptions {
  /**
   * Where the spans are made (tracer `sqs-streams`).
   * @default the global tracer provider (`trace.getTracerProvider()` of `@opentelemetry/api`)
   */
  tracerProvider?: TracerProvider;
  /**
   * Injects the active context into each sent message's attributes, and extracts the sender's
   * context from each processed (and received) message.
   * @default the global propagator (`propagation` of `@opentelemetry/api`: W3C `traceparent`
   * once an SDK registered it)
   */
  propagator?: TextMapPropagator;
}

/** SQS's limit of message attributes per message. */
const MAX_MESSAGE_ATTRIBUTES = 10;

/** Span kind and `messaging.operation.type` of each channel (settle: delete and visibility). */
const SPAN_SHAPES: Record<TraceKind, { type: string; kind: SpanKind }> = {
  send: { type: 'send', kind: SpanKind.PRODUCER },
  receive: { type: 'receive', kind: SpanKind.CLIENT },
  delete: { type: 'settle', kind: SpanKind.CLIENT },
  visibility: { type: 'settle', kind: SpanKind.CLIENT },
  process: { type: 'process', kind: SpanKind.CONSUMER },
};

type Carrier = Readonly<Record<string, MessageAttributeValue>>;

/** Reads a propagator's fields from SQS message attributes (their `StringValue`). */
const attributeGetter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key]?.StringValue,
};

interface QueueInfo {
  name: string;
  attributes: Attributes;
}

const queueCache = new Map<string, QueueInfo>();

/** The queue's name (the URL's last path segment) and the span attributes naming it. */
function queueInfo(queueUrl: string): QueueInfo {
  let info = queueCache.get(queueUrl);
  if (info !== undefined) return info;
  const attributes: Attributes = { 'aws.sqs.queue.url': queueUrl };
  let name = queueUrl;
  try {
    const url = new URL(queueUrl);
    name = url.pathname.split('/').filter(Boolean).pop() ?? queueUrl;
    attributes['server.address'] = url.hostname;
    attributes['server.port'] = Number(url.port) || (url.protocol === 'http:' ? 80 : 443);
  } catch {
    // Not a URL (a queue name): the name is all there is.
  }
  attributes['messaging.destination.name'] = name;
  info = { name, attributes };
  if (queueCache.size >= 1_000) queueCache.clear();
  queueCache.set(queueUrl, info);
  return info;
}

/** `error.type` (low cardinality): SQS's code or the error's name. */
function errorType(error: unknown): string {
  if (error instanceof SqsStreamError && error.code !== undefined) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : '_OTHER';
}

/**
 * Marks the span failed. Only this package's own error messages go into the status: they never
 * quote a body or a receipt handle, which an SDK's message (`ReceiptHandleIsInvalid`) or a
 * handler's may.
 */
function setError(span: Span, error: unknown): void {
  span.setAttribute('error.type', errorType(error));
  span.setStatus(
    error instanceof SqsStreamError
      ? { code: SpanStatusCode.ERROR, message: error.message }
      : { code: SpanStatusCode.ERROR },
  );
}

function validSpanContext(context: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context);
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * Makes OpenTelemetry spans for every SQS request the streams make and every SqsProcessor
 * handler run, and propagates the trace through the messages' attributes:
 *
 * - `send <queue>` (PRODUCER), `receive <queue>` (CLIENT, linked to each received message's
 *   context), `settle <queue>` (CLIENT: DeleteMessageBatch, ChangeMessageVisibilityBatch), one
 *   span per attempt; `process <queue>` (CONSUMER) per handler run, a child of the context the
 *   message was sent with, and active while the handler runs.
 * - Each message written to an SqsWritable gets the active context injected into its message
 *   attributes (W3C `traceparent` as a `String` attribute with the default propagator), unless
 *   it already has 10 attributes or carries the propagator's fields itself.
 *
 * No span attribute holds a body or a receipt handle. Returns a function that uninstalls: no
 * new span or injection after it; spans already started still end.
 */
export function instrumentSqsStreams(options: SqsStreamsInstrumentationOptions = {}): () => void {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('sqs-streams');
  const propagator: TextMapPropagator = options.propagator ?? propagation;
  const spans = new Map<RequestTraceContext, Span>();
  const subscriptions: Array<{ unsubscribe(): void; ends: boolean }> = [];
  let uninstalled = false;

  const extract = (parent: Context, carrier: unknown): Context | undefined => {
    if (typeof carrier !== 'object' || carrier === null) return undefined;
    const extracted = propagator.extract(parent, carrier as Carrier, attributeGetter);
    const spanContext = validSpanContext(extracted);
    return spanContext === undefined || spanContext === validSpanContext(parent)
      ? undefined
      : extracted;
  };

  const start = (kind: TraceKind, data: RequestTraceContext): void => {
    const { type, kind: spanKind } = SPAN_SHAPES[kind];
    const queue = queueInfo(data.queueUrl);
    const attributes: Attributes = {
      'messaging.system': 'aws_sqs',
      'messaging.operation.type': type,
      'messaging.operation.name': data.operation,
      ...queue.attributes,
    };
    let parent = otelContext.active();
    const links: Link[] = [];
    if (kind === 'process') {
      const message = data['message'] as { messageId?: unknown; messageAttributes?: unknown };
      if (typeof message?.messageId === 'string') {
        attributes['messaging.message.id'] = message.messageId;
      }
      // The sender's context is the parent (and, as the conventions ask, a link); an ambient
      // span the handler run happens in is kept as a link.
      const creation = extract(parent, message?.messageAttributes);
      if (creation !== undefined) {
        const ambient = validSpanContext(parent);
        links.push({ context: validSpanContext(creation) as SpanContext });
        if (ambient !== undefined) links.push({ context: ambient });
        parent = creation;
      }
    } else if (kind !== 'receive') {
      attributes['messaging.batch.message_count'] = data.messageCount;
    }
    const span = tracer.startSpan(
      `${type} ${queue.name}`,
      { kind: spanKind, attributes, links },
      parent,
    );
    spans.set(data, span);
    const active = trace.setSpan(parent, span);
    const outer = data.runInContext;
    data.runInContext =
      outer === undefined
        ? (work) => otelContext.with(active, work)
        : (work) => otelContext.with(active, () => outer(work));
  };

  const finish = (kind: TraceKind, data: RequestTraceContext): void => {
    const span = spans.get(data);
    if (span === undefined) return;
    spans.delete(data);
    if (kind === 'receive') {
      span.setAttribute('messaging.batch.message_count', data.messageCount);
      const links: Link[] = [];
      for (const message of data.messages ?? []) {
        const creation = extract(otelContext.active(), message.messageAttributes);
        if (creation === undefined) continue;
        links.push({
          context: validSpanContext(creation) as SpanContext,
          attributes: { 'messaging.message.id': message.messageId },
        });
      }
      // `addLinks` is in @opentelemetry/api >= 1.8; older SDKs simply get no receive links.
      if (links.length > 0 && typeof span.addLinks === 'function') span.addLinks(links);
    }
    if (data['error'] !== undefined) setError(span, data['error']);
    span.end();
    if (uninstalled && spans.size === 0) unsubscribe(true);
  };

  const inject = (message: unknown): void => {
    const { messageAttributes } = message as InjectContext;
    let count = Object.keys(messageAttributes).length;
    if (count >= MAX_MESSAGE_ATTRIBUTES) return;
    const fields: Record<string, string> = {};
    propagator.inject(otelContext.active(), fields, defaultTextMapSetter);
    const names = Object.keys(fields);
    // A context the sender put in the message itself is its creation context: leave it.
    if (names.some((name) => Object.hasOwn(messageAttributes, name))) return;
    for (const name of names) {
      if (count >= MAX_MESSAGE_ATTRIBUTES) break;
      messageAttributes[name] = { DataType: 'String', StringValue: fields[name] as string };
      count += 1;
    }
  };

  const listen = (channel: Channel, fn: (message: unknown) => void, ends: boolean): void => {
    channel.subscribe(fn);
    subscriptions.push({ unsubscribe: () => channel.unsubscribe(fn), ends });
  };

  const unsubscribe = (ends: boolean): void => {
    for (let i = subscriptions.length - 1; i >= 0; i--) {
      const subscription = subscriptions[i] as (typeof subscriptions)[number];
      if (subscription.ends !== ends) continue;
      subscription.unsubscribe();
      subscriptions.splice(i, 1);
    }
  };

  for (const kind of Object.keys(channels) as TraceKind[]) {
    const channel = channels[kind];
    listen(channel.start, (data) => start(kind, data as RequestTraceContext), false);
    listen(channel.asyncEnd, (data) => finish(kind, data as RequestTraceContext), true);
    // A synchronous throw publishes `error` and `end` but no `asyncEnd`.
    listen(
      channel.end,
      (data) => {
        if ((data as RequestTraceContext)['error'] !== undefined) {
          finish(kind, data as RequestTraceContext);
        }
      },
      true,
    );
  }
  listen(injectChannel, inject, false);

  return function uninstall(): void {
    if (uninstalled) return;
    uninstalled = true;
    unsubscribe(false);
    // Spans already started still end (and are exported); then the last listeners go.
    if (spans.size === 0) unsubscribe(true);
  };
}
