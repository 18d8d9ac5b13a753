import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { instrumentSqsStreams } from '../../lib/otel.js';

/** An in-memory OpenTelemetry SDK: spans are kept, the context lives in AsyncLocalStorage. */
export interface OtelHarness {
  provider: BasicTracerProvider;
  exporter: InMemorySpanExporter;
  propagator: W3CTraceContextPropagator;
  /** Installs the instrumentation with this provider and propagator; returns the uninstaller. */
  instrument(): () => void;
  spans(): ReadableSpan[];
  /** The finished spans with this name. */
  named(name: string): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function startOtel(): OtelHarness {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const propagator = new W3CTraceContextPropagator();
  return {
    provider,
    exporter,
    propagator,
    instrument: () => instrumentSqsStreams({ tracerProvider: provider, propagator }),
    spans: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((span) => span.name === name),
    shutdown: async () => {
      await provider.shutdown();
      context.disable();
      trace.disable();
    },
  };
}

/** Every string a span carries: name, attributes, status, events and links. */
export function spanText(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    status: span.status,
    events: span.events,
    links: span.links,
  });
}
