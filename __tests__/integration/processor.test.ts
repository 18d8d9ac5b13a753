import type { SQSClient } from '@aws-sdk/client-sqs';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  SchemaValidationError,
  SqsProcessor,
  SqsReadable,
  type SqsMessage,
  type StandardSchemaV1,
} from '../../lib/index.js';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
} from '../support/sqs-helpers.js';

// SqsProcessor against the harness's endpoint (fauxqs in CI). Ordering with several messages of
// a group per receive, and groups on standard queues, need SQS's own behaviour: those are in
// __tests__/unit/processor-ordering.test.ts, on a model of SQS. Waits are bounded by count.

let admin: SQSClient;

beforeAll(() => {
  admin = testClient();
});

afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

/** Waits until `predicate` holds, at most `ms`. */
async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; waited < ms && !predicate(); waited += 10) await sleep(10);
}

describe('SqsProcessor on a real endpoint', () => {
  it('runs `concurrency` handlers at once at the peak, and acks every message', async () => {
    const queueUrl = await createTestQueue();
    await sendTestMessages(admin, queueUrl, 40);
    const client = testClient();
    let active = 0;
    let peak = 0;
    const source = new SqsReadable({ queueUrl, client, maxMessages: 40 });
    const processor = new SqsProcessor(
      async () => {
        active++;
        peak = Math.max(peak, active);
        await sleep(30);
        active--;
      },
      { concurrency: 6 },
    );
    await pipeline(source, processor);
    expect(peak).toBe(6);
    expect(processor.stats).toMatchObject({ processed: 40, failed: 0, active: 0, held: 0 });
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('nacks a failure with its retry delay; it comes back with receiveCount 2 and succeeds', async () => {
    const queueUrl = await createTestQueue();
    await sendTestMessages(admin, queueUrl, 3);
    const client = testClient();
    const attempts: Array<[string, number]> = [];
    const source = new SqsReadable({ queueUrl, client, maxMessages: 4 });
    const processor = new SqsProcessor(
      async (message) => {
        attempts.push([message.body, message.receiveCount]);
        if (message.body === 'message-1' && message.receiveCount === 1) throw new Error('flaky');
      },
      { retryDelaySeconds: 1 },
    );
    const failed: string[] = [];
    processor.on('failed', (_error: unknown, m: SqsMessage) => failed.push(m.body));
    await pipeline(source, processor);
    expect(failed).toEqual(['message-1']);
    expect(attempts.filter(([body]) => body === 'message-1')).toEqual([
      ['message-1', 1],
      ['message-1', 2],
    ]);
    expect(processor.stats).toMatchObject({ processed: 3, failed: 1 });
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('timeoutMs: aborts a stuck handler, fails the message and frees its slot', async () => {
    const queueUrl = await createTestQueue();
    await sendTestMessages(admin, queueUrl, 2);
    const client = testClient();
    const source = new SqsReadable({ queueUrl, client, maxMessages: 3 });
    let aborted: unknown;
    const processor = new SqsProcessor(
      async (message, { signal }) => {
        if (message.body === 'message-0' && message.receiveCount === 1) {
          await new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = signal.reason;
              resolve();
            });
          });
        }
      },
      { concurrency: 1, timeoutMs: 300, retryDelaySeconds: 0 },
    );
    const failed: unknown[] = [];
    processor.on('failed', (error: unknown) => failed.push(error));
    await pipeline(source, processor);
    expect((aborted as Error).name).toBe('TimeoutError');
    expect(failed).toHaveLength(1);
    expect((failed[0] as Error).name).toBe('TimeoutError');
    expect(processor.stats).toMatchObject({ processed: 2, failed: 1 });
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  describe('schema', () => {
    const cases: Array<[string, StandardSchemaV1<unknown, { id: string }>]> = [
      ['zod', z.object({ id: z.string() })],
      [
        'an async validator',
        z.object({ id: z.string() }).refine(async (v) => {
          await sleep(1);
          return v.id.length > 0;
        }),
      ],
      [
        'a hand-written Standard Schema',
        {
          '~standard': {
            version: 1,
            vendor: 'hand-written',
            validate: (value) =>
              typeof value === 'object' &&
              value !== null &&
              typeof (value as { id?: unknown }).id === 'string'
                ? { value: { id: (value as { id: string }).id } }
                : { issues: [{ message: 'needs a string id', path: ['id'] }] },
          },
        },
      ],
    ];

    it.each(cases)(
      'with %s: valid bodies reach the handler as data, others fail',
      async (_, schema) => {
        const queueUrl = await createTestQueue();
        const bodies = [JSON.stringify({ id: 'a' }), '{"id":42,"secret":"s3cr3t"}', 'not json'];
        await sendTestMessages(admin, queueUrl, bodies.length, (i) => bodies[i] as string);
        const client = testClient();
        const source = new SqsReadable({ queueUrl, client, maxMessages: 3 });
        const data: unknown[] = [];
        const processor = new SqsProcessor(
          async (_message, context) => {
            data.push(context.data);
          },
          { schema, retryDelaySeconds: 600 },
        );
        const failed: SchemaValidationError[] = [];
        processor.on('failed', (error: SchemaValidationError) => failed.push(error));
        await pipeline(source, processor);
        expect(data).toEqual([{ id: 'a' }]);
        expect(failed).toHaveLength(2);
        for (const error of failed) {
          expect(error).toBeInstanceOf(SchemaValidationError);
          expect(JSON.stringify({ ...error, message: error.message })).not.toContain('s3cr3t');
        }
        expect(failed.map((e) => e.issues[0]?.path)).toContainEqual(['id']);
        // The two failures wait out their 10-minute delay: nothing to receive now.
        expect(await drainQueue(admin, queueUrl)).toEqual([]);
        client.destroy();
      },
    );
  });

  it('destroy() while handlers run leaves their messages visible at once', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 60 });
    await sendTestMessages(admin, queueUrl, 5);
    const client = testClient();
    // maxMessages: no long poll is left in flight (an aborted one may take the released
    // messages on the server, as SQS can; docs/testing.md), and the source ends naturally, which
    // releases nothing: what comes back is the processor's own release.
    const source = new SqsReadable({ queueUrl, client, maxMessages: 5 });
    let started = 0;
    const signals: AbortSignal[] = [];
    const processor = new SqsProcessor(
      async (_message, { signal }) => {
        started++;
        signals.push(signal);
        await new Promise<void>(() => {}); // stuck, ignoring its signal
      },
      { concurrency: 3 },
    );
    const failed = jest.fn();
    processor.on('failed', failed);
    const running = pipeline(source, processor);
    await until(() => started === 3 && source.stats.received === 5);
    expect(started).toBe(3);

    processor.destroy(new Error('shutting down'));
    await expect(running).rejects.toThrow('shutting down');
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(failed).not.toHaveBeenCalled();
    // Visibility timeout 60 s: only a release makes all five receivable within seconds.
    const back = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 2 });
    expect(back).toHaveLength(5);
    client.destroy();
  });
});
