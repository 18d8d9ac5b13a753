import diagnosticsChannel from 'node:diagnostics_channel';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * The `node:diagnostics_channel` channels every SQS request (and every SqsProcessor handler run)
 * is published on (docs/observability.md). Publishing costs nothing while nobody subscribes: each
 * call checks `hasSubscribers` first. No context ever holds a body, a receipt handle or a
 * credential, and `context.result` is never the SDK's response.
 */

/** The context of one traced request: one attempt of one SQS call. */
export interface RequestTraceContext {
  /** The queue the request is for. */
  queueUrl: string;
  /** The SQS action (`ReceiveMessage`, `DeleteMessageBatch`, ...), or `process`. */
  operation: string;
  /** Messages the request carries; for a receive, the number received (set before `asyncEnd`). */
  messageCount: number;
  /** Whatever the subscribers add (a span, ...). */
  [key: string]: unknown;
}

/** What a `sqs-streams:inject` subscriber is handed for each message written to an SqsWritable. */
export interface InjectContext {
  queueUrl: string;
  /**
   * The message's attributes, to add to (at most 10 in all: a subscriber must leave a message
   * that has 10 unchanged). The added ones count towards the message's size.
   */
  messageAttributes: Record<string, MessageAttributeValue>;
}

export type TraceKind = 'receive' | 'delete' | 'visibility' | 'send' | 'process';

type Tracing = diagnosticsChannel.TracingChannel<unknown, RequestTraceContext>;

function tracing(name: string): Tracing {
  return diagnosticsChannel.tracingChannel<unknown, RequestTraceContext>(name);
}

export const channels: Record<TraceKind, Tracing> = {
  receive: tracing('sqs-streams:receive'),
  delete: tracing('sqs-streams:delete'),
  visibility: tracing('sqs-streams:visibility'),
  send: tracing('sqs-streams:send'),
  process: tracing('sqs-streams:process'),
};

/** Published once per message written to an SqsWritable, before its size is checked. */
export const injectChannel = diagnosticsChannel.channel('sqs-streams:inject');

/** The trace kind of an SQS action, when it has one. */
export function traceKindOf(operation: string): TraceKind | undefined {
  switch (operation) {
    case 'ReceiveMessage':
      return 'receive';
    case 'DeleteMessageBatch':
      return 'delete';
    case 'ChangeMessageVisibilityBatch':
      return 'visibility';
    case 'SendMessageBatch':
      return 'send';
    default:
      return undefined;
  }
}

// `TracingChannel.hasSubscribers` is Node >= 20.13; before it, ask the five channels.
function hasSubscribers(channel: Tracing): boolean {
  const own = (channel as { hasSubscribers?: boolean }).hasSubscribers;
  if (own !== undefined) return own;
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  );
}

/** Whether anyone listens on this kind's channel (so the caller can skip building a context). */
export function isTraced(kind: TraceKind | undefined): kind is TraceKind {
  return kind !== undefined && hasSubscribers(channels[kind]);
}

/**
 * Runs `fn` inside the kind's tracing channel (start, end, asyncStart, asyncEnd, error). `fn`'s
 * result is returned to the caller but never published: the traced function resolves to
 * `undefined`, so `context.result` cannot leak a response. `fn` may update the context (a
 * receive sets `messageCount`) before it resolves.
 */
export async function traced<T>(
  kind: TraceKind,
  context: RequestTraceContext,
  fn: () => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  await channels[kind].tracePromise(async () => {
    result = await fn();
  }, context);
  return result as T;
}
