import { inspect } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, SqsWritable, type SqsMessage } from '../../lib/index.js';
import { channels, type RequestTraceContext, type TraceKind } from '../../lib/core/diagnostics.js';
import { processEach } from '../support/process-loop.js';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  deleteTestQueue,
  testClient,
} from '../support/sqs-helpers.js';

// The diagnostics channels on a real endpoint: every request kind publishes start, end,
// asyncStart and asyncEnd (error when it fails), with the context DESIGN.md promises, and no
// context ever holds a body or a receipt handle.

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type TraceEvent = (typeof EVENTS)[number];

interface Published {
  kind: TraceKind;
  event: TraceEvent;
  context: RequestTraceContext;
  /** The context as it was when published, serialised (JSON, and as a log would print it). */
  json: string;
  inspected: string;
}

let published: Published[] = [];
const unsubscribes: Array<() => void> = [];

beforeAll(() => {
  for (const kind of Object.keys(channels) as TraceKind[]) {
    for (const event of EVENTS) {
      const listener = (message: unknown): void => {
        const context = message as RequestTraceContext;
        published.push({
          kind,
          event,
          context,
          // A process context's `message` is an SqsMessage: serialised as a log prints it.
          json: JSON.stringify({ ...context, message: undefined }),
          inspected: inspect(context, { depth: Infinity }),
        });
      };
      channels[kind][event].subscribe(listener);
      unsubscribes.push(() => channels[kind][event].unsubscribe(listener));
    }
  }
});

afterAll(async () => {
  for (const unsubscribe of unsubscribes) unsubscribe();
  await deleteCreatedTestQueues();
});

beforeEach(() => {
  published = [];
});

const events = (kind: TraceKind): TraceEvent[] =>
  published.filter((p) => p.kind === kind).map((p) => p.event);
const contexts = (kind: TraceKind, event: TraceEvent): RequestTraceContext[] =>
  published.filter((p) => p.kind === kind && p.event === event).map((p) => p.context);

/** Each start is followed, for the same context, by end and asyncEnd (or error). */
function expectBalanced(kind: TraceKind): void {
  const started = contexts(kind, 'start');
  expect(started.length).toBeGreaterThan(0);
  for (const context of started) {
    const seen = published.filter((p) => p.context === context).map((p) => p.event);
    expect(seen[0]).toBe('start');
    expect(seen).toContain('end');
    expect(seen[seen.length - 1]).toBe('asyncEnd');
  }
}

describe('diagnostics channels on a real endpoint', () => {
  let client: SQSClient;

  beforeAll(() => {
    client = testClient();
  });

  afterAll(() => {
    client.destroy();
  });

  it('publishes every send, receive, delete, visibility change and handler run', async () => {
    const queueUrl = await createTestQueue();
    const bodies = Array.from({ length: 6 }, (_, i) => `tracing-body-${i}-${'x'.repeat(20)}`);
    await pipeline(Readable.from(bodies), new SqsWritable({ queueUrl, client }));

    const source = new SqsReadable({ queueUrl, client, maxMessages: 6, heartbeat: false });
    const handles: string[] = [];
    let nacked = false;
    await processEach(source, async (message) => {
      handles.push(message.receiptHandle);
      if (!nacked) {
        nacked = true;
        await message.extend(30); // a visibility change
        await message.nack(); // and another: it comes back
        return;
      }
      await message.ack();
    });

    for (const kind of ['send', 'receive', 'delete', 'visibility', 'process'] as const) {
      expectBalanced(kind);
      expect(events(kind)).not.toContain('error');
    }
    expect(contexts('send', 'start').map((c) => [c.operation, c.messageCount])).toEqual([
      ['SendMessageBatch', 6],
    ]);
    const receives = contexts('receive', 'asyncEnd');
    expect(receives.every((c) => c.operation === 'ReceiveMessage')).toBe(true);
    expect(receives.reduce((sum, c) => sum + c.messageCount, 0)).toBe(6);
    const withMessages = receives.filter((c) => c.messageCount > 0);
    expect(withMessages.every((c) => c.messages?.length === c.messageCount)).toBe(true);
    expect(contexts('delete', 'start').every((c) => c.operation === 'DeleteMessageBatch')).toBe(
      true,
    );
    expect(contexts('delete', 'start').reduce((sum, c) => sum + c.messageCount, 0)).toBe(5);
    expect(contexts('visibility', 'start').map((c) => c.operation)).toContain(
      'ChangeMessageVisibilityBatch',
    );
    expect(contexts('process', 'start')).toHaveLength(6);
    expect(published.every((p) => p.context.queueUrl === queueUrl)).toBe(true);
    expect(published.every((p) => p.context.result === undefined)).toBe(true);

    // No context, serialised at any point, holds a body or a receipt handle.
    expect(handles).toHaveLength(6);
    for (const p of published) {
      for (const secret of [...bodies, ...handles]) {
        expect(p.json).not.toContain(secret);
        expect(p.inspected).not.toContain(secret);
      }
    }
  });

  it('publishes error for a failed attempt of each request kind', async () => {
    const queueUrl = await createTestQueue();
    await pipeline(Readable.from(['one', 'two']), new SqsWritable({ queueUrl, client }));
    const source = new SqsReadable({ queueUrl, client, maxMessages: 2, heartbeat: false });
    const held: SqsMessage[] = [];
    for await (const message of source as AsyncIterable<SqsMessage>) held.push(message);
    await deleteTestQueue(queueUrl);
    published = [];

    // Every request now meets a missing queue: a permanent error, one attempt each.
    const [first, second] = held as [SqsMessage, SqsMessage];
    await expect(first.ack()).rejects.toThrow();
    await expect(second.nack()).rejects.toThrow();
    await expect(
      pipeline(Readable.from(['three']), new SqsWritable({ queueUrl, client })),
    ).rejects.toThrow();
    const gone = new SqsReadable({ queueUrl, client, heartbeat: false });
    await expect(gone.toArray()).rejects.toThrow();

    for (const kind of ['delete', 'visibility', 'send', 'receive'] as const) {
      expect(events(kind).slice(0, 2)).toEqual(['start', 'end']);
      expect(events(kind)).toContain('error');
      const [failed] = contexts(kind, 'error');
      expect(failed?.error).toBeInstanceOf(Error);
      expect(events(kind)[events(kind).length - 1]).toBe('asyncEnd');
    }
  });
});
