import { execFile } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { format, promisify } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type ChangeMessageVisibilityBatchCommandInput as ChangeInput,
  type Message,
} from '@aws-sdk/client-sqs';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { QueueDoesNotExistError } from '../../lib/index.js';
import {
  countRequests,
  createTestQueue,
  deleteCreatedTestQueues,
  deleteTestQueue,
  drainQueue,
  queueNameOf,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers.js';
import { main as settleMessages } from '../../examples/ack-nack-extend.js';
import { main as basicPipeline, type Order } from '../../examples/basic-pipeline.js';
import { main as concurrentWorker, type Job } from '../../examples/concurrent-worker.js';
import { main as endpointScript } from '../../examples/contributing/endpoint-script.js';
import { redrive } from '../../examples/dlq-redrive.js';
import { main as errorHandling } from '../../examples/error-handling.js';
import { publish, main as fifoWorker, type AccountEvent } from '../../examples/fifo-groups.js';
import { main as forAwaitWorker } from '../../examples/for-await-worker.js';
import { main as generatorStage } from '../../examples/generator-stage.js';
import { onShutdownSignals, startService } from '../../examples/graceful-shutdown.js';
import { main as migrated } from '../../examples/migrating/after-sqs-streams.js';
import { main as tracedRoundTrip } from '../../examples/otel.js';
import { startConsumer } from '../../examples/migrating/before-sqs-consumer.js';
import { main as webhookSender, retryDelaySeconds } from '../../examples/retry-by-receive-count.js';
import { sendLines } from '../../examples/send-lines.js';
import { sendOrders } from '../../examples/send-orders.js';
import { roundTrip as largePayloadsRoundTrip } from '../../examples/large-payloads.js';
import { startLocalStack, stopLocalStack } from '../../examples/testing/localstack.js';
// The testing guide's own tests (describe blocks) run here, as part of this file.
import '../../examples/testing/order-pipeline.mock.test.js';
import '../../examples/testing/order-pipeline.sqs.test.js';

// Every program in examples/ runs here against the harness's SQS endpoint (fauxqs in CI) and its
// outcome is asserted: what was processed, how often, and what is left on the queues. The
// examples import 'sqs-streams' as a user would; here that is the source in lib/.
jest.mock('sqs-streams', () => jest.requireActual('../../lib/index.js'), { virtual: true });

// examples/testing/localstack.ts needs a Docker engine, which CI does not have: its container is
// faked here, so what the example itself does (image, services, environment, stop) is checked
// everywhere. Running the suites against a real LocalStack is described in the testing guides.
const mockLocalStack = {
  uri: 'http://localhost:4566',
  started: [] as Array<{ image: string; environment: Record<string, string> }>,
  stopped: 0,
};
jest.mock('@testcontainers/localstack', () => ({
  LocalstackContainer: class {
    private environment: Record<string, string> = {};
    constructor(private readonly image: string) {}
    withEnvironment(environment: Record<string, string>): this {
      this.environment = { ...this.environment, ...environment };
      return this;
    }
    async start(): Promise<{ getConnectionUri(): string; stop(): Promise<void> }> {
      mockLocalStack.started.push({ image: this.image, environment: this.environment });
      return {
        getConnectionUri: () => mockLocalStack.uri,
        stop: async () => {
          mockLocalStack.stopped += 1;
        },
      };
    }
  },
}));

const ROOT = join(__dirname, '..', '..');

/** Waits until `predicate` holds (bounded by the test timeout; never asserted on time). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(5);
}

/**
 * Receives (and deletes) what is on the queue until `expected` messages were seen or `timeoutMs`
 * passed. A long poll aborted by `stop()` may have taken messages server-side: SQS hides those
 * for the visibility timeout, so they come back late, not never (docs/readable.md).
 */
async function drainExpecting(
  client: SQSClient,
  queueUrl: string,
  expected: number,
  timeoutMs: number,
): Promise<Message[]> {
  const deadline = Date.now() + timeoutMs;
  const seen: Message[] = [];
  while (seen.length < expected && Date.now() < deadline) {
    seen.push(...(await drainQueue(client, queueUrl, { maxEmptyReceives: 1, timeoutMs: 5_000 })));
  }
  // One more look: nothing beyond what was expected may be left.
  seen.push(...(await drainQueue(client, queueUrl)));
  return seen;
}

const bodies = (messages: Message[]): string[] => messages.map((m) => m.Body ?? '').sort();

/** What `client` asked of SQS in its batch settles: deletes, and the visibility timeouts set. */
function recordSettles(client: SQSClient): { deletes: number; visibilityTimeouts: number[] } {
  const record = { deletes: 0, visibilityTimeouts: [] as number[] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Entries?: Array<{ VisibilityTimeout?: number }> };
      if (context.commandName === 'DeleteMessageBatchCommand') {
        record.deletes += input.Entries?.length ?? 0;
      }
      if (context.commandName === 'ChangeMessageVisibilityBatchCommand') {
        for (const entry of input.Entries ?? []) {
          record.visibilityTimeouts.push(entry.VisibilityTimeout ?? -1);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordSettles' },
  );
  return record;
}

let admin: SQSClient;

beforeAll(() => {
  admin = testClient();
  // What the testing guide's global-setup.mjs sets for a user's test run (imported tests above).
  const endpoint = testEndpoint();
  process.env['SQS_ENDPOINT'] = endpoint.endpoint;
  process.env['AWS_REGION'] = endpoint.region;
  if (endpoint.credentials) {
    process.env['AWS_ACCESS_KEY_ID'] = endpoint.credentials.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = endpoint.credentials.secretAccessKey;
  }
});

afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

describe('examples/send-orders.ts and examples/basic-pipeline.ts', () => {
  it('sends 25 orders in batches, then processes each exactly once and empties the queue', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    const requests = countRequests(client);
    const orders: Order[] = Array.from({ length: 25 }, (_, i) => ({ id: `o-${i}`, total: i }));

    expect(await sendOrders({ client, queueUrl, orders })).toBe(25);
    expect(requests.counts['SendMessageBatchCommand']).toBe(3);

    const handled: Order[] = [];
    const stats = await basicPipeline({
      client,
      queueUrl,
      idleTimeoutMs: 1_000,
      handleOrder: async (order) => {
        handled.push(order);
      },
    });

    expect(handled.map((o) => o.id).sort()).toEqual(orders.map((o) => o.id).sort());
    expect(handled).toHaveLength(25);
    expect(stats).toMatchObject({ received: 25, acked: 25, released: 0 });
    expect(requests.counts['DeleteMessageBatchCommand']).toBeLessThanOrEqual(4);
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('stops on SIGTERM: finishes the messages in hand, and leaves the rest on the queue', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 3 });
    const sent = await sendTestMessages(admin, queueUrl, 200, (i) =>
      JSON.stringify({ id: `o-${i}`, total: i }),
    );
    const client = testClient();
    const signals = new EventEmitter();
    const handled: string[] = [];
    const running = basicPipeline({
      client,
      queueUrl,
      signals,
      handleOrder: async (order) => {
        await sleep(2);
        handled.push(JSON.stringify(order));
      },
    });
    await until(() => handled.length >= 20);
    signals.emit('SIGTERM');
    const stats = await running;

    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(stats.released).toBe(0);
    expect(stats.acked).toBe(handled.length);
    const left = await drainExpecting(admin, queueUrl, sent.length - handled.length, 10_000);
    expect(left.length).toBeGreaterThan(0); // it stopped receiving
    expect([...handled, ...bodies(left)].sort()).toEqual([...sent].sort()); // nothing lost or doubled
    client.destroy();
  });
});

describe('examples/concurrent-worker.ts', () => {
  it('runs `concurrency` jobs at once, retries a failed one, and acks each job once', async () => {
    const queueUrl = await createTestQueue();
    const jobs: Job[] = Array.from({ length: 40 }, (_, i) => ({ id: `job-${i}` }));
    await sendTestMessages(admin, queueUrl, jobs.length, (i) => JSON.stringify(jobs[i]));
    const client = testClient();
    let active = 0;
    let peak = 0;
    const attempts: Array<{ id: string; receiveCount: number; ok: boolean }> = [];

    const result = await concurrentWorker({
      client,
      queueUrl,
      concurrency: 8,
      retryDelaySeconds: () => 0,
      idleTimeoutMs: 1_000,
      handleJob: async (job, message) => {
        active += 1;
        peak = Math.max(peak, active);
        try {
          await sleep(10);
          const ok = !(job.id === 'job-7' && message.receiveCount === 1);
          attempts.push({ id: job.id, receiveCount: message.receiveCount, ok });
          if (!ok) throw new Error('flaky downstream');
        } finally {
          active -= 1;
        }
      },
    });

    expect(result).toEqual({ succeeded: 40, failed: 1 });
    expect(peak).toBe(8);
    const succeeded = attempts.filter((a) => a.ok).map((a) => a.id);
    expect(succeeded.sort()).toEqual(jobs.map((j) => j.id).sort()); // each exactly once
    expect(attempts.filter((a) => a.id === 'job-7')).toEqual([
      { id: 'job-7', receiveCount: 1, ok: false },
      { id: 'job-7', receiveCount: 2, ok: true },
    ]);
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});

describe('examples/fifo-groups.ts', () => {
  it('keeps each account in order through a failure, and runs accounts side by side', async () => {
    const queueUrl = await createTestQueue({ fifo: true });
    const client = testClient();
    const accounts = ['a', 'b', 'c'];
    const events: AccountEvent[] = [];
    for (let sequence = 0; sequence < 8; sequence++) {
      for (const accountId of accounts) {
        events.push({ id: `${accountId}-${sequence}`, accountId, sequence, type: 'deposit' });
      }
    }
    await publish({ client, queueUrl, events });

    const applied = new Map<string, number[]>(accounts.map((a) => [a, []]));
    const activeByAccount = new Map<string, number>();
    let active = 0;
    let peak = 0;
    let failedOnce = false;
    const signals = new EventEmitter();
    const running = fifoWorker({
      client,
      queueUrl,
      signals,
      handleEvent: async (event) => {
        const mine = (activeByAccount.get(event.accountId) ?? 0) + 1;
        activeByAccount.set(event.accountId, mine);
        expect(mine).toBe(1); // never two events of one account at once
        active += 1;
        peak = Math.max(peak, active);
        try {
          await sleep(10);
          if (event.id === 'b-3' && !failedOnce) {
            failedOnce = true;
            throw new Error('ledger busy');
          }
          applied.get(event.accountId)?.push(event.sequence);
        } finally {
          active -= 1;
          activeByAccount.set(event.accountId, mine - 1);
        }
      },
    });
    const total = (): number => [...applied.values()].reduce((sum, list) => sum + list.length, 0);
    await until(() => total() === events.length);
    signals.emit('SIGTERM');
    const result = await running;

    for (const account of accounts) {
      expect(applied.get(account)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // in order, once each
    }
    expect(failedOnce).toBe(true);
    expect(result.handled).toBe(events.length);
    expect(result.retried).toBeGreaterThanOrEqual(1);
    expect(peak).toBeGreaterThanOrEqual(2); // accounts were handled side by side
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});

describe('examples/fifo-groups.ts, with several events of one group in a receive (SQS mocked)', () => {
  // Real SQS may return several messages of one group in a receive (fauxqs returns one): when
  // the first fails, the others must be nacked, not handled, so that the group keeps its order.
  // (SqsProcessor's own ordering tests, on a model of SQS: __tests__/unit/processor-ordering.)
  it('nacks the events received with a failed one, and handles the group in order once redelivered', async () => {
    const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/accounts.fifo';
    const client = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const sqs = mockClient(client);
    const delivery = (round: number) => ({
      Messages: [0, 1, 2].map((sequence) => ({
        MessageId: `a-${sequence}`,
        ReceiptHandle: `a-${sequence}-r${round}`,
        Body: JSON.stringify({ id: `a-${sequence}`, accountId: 'a', sequence, type: 'deposit' }),
        Attributes: { MessageGroupId: 'a', ApproximateReceiveCount: String(round) },
      })),
    });
    const allSucceed = ({ Entries = [] }: { Entries?: Array<{ Id?: string }> }) => ({
      Successful: Entries.map(({ Id }) => ({ Id })),
      Failed: [],
    });
    const nacked = new Map<string, number>(); // receipt handle -> visibility timeout asked
    let round = 0;
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { VisibilityTimeout: '30' } });
    sqs.on(DeleteMessageBatchCommand).callsFake(allSucceed);
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake((input: ChangeInput) => {
      for (const entry of input.Entries ?? []) {
        if (entry.VisibilityTimeout !== undefined && entry.VisibilityTimeout < 30) {
          nacked.set(entry.ReceiptHandle ?? '', entry.VisibilityTimeout); // not a heartbeat
        }
      }
      return allSucceed(input);
    });
    // Like SQS: the group is locked while any of its messages is held, so the redelivery comes
    // only once all three were given back.
    sqs.on(ReceiveMessageCommand).callsFake(() => {
      if (round === 0 || (round === 1 && nacked.size === 3)) return delivery(++round);
      return { Messages: [] };
    });
    const handled: number[] = [];
    let failedOnce = false;
    const signals = new EventEmitter();
    const running = fifoWorker({
      client,
      queueUrl,
      signals,
      handleEvent: async (event) => {
        await sleep(5);
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('ledger busy');
        }
        handled.push(event.sequence);
      },
    });
    await until(() => handled.length === 3);
    signals.emit('SIGTERM');
    const result = await running;

    expect(handled).toEqual([0, 1, 2]);
    // The failed event with its retry delay (the default for a first delivery: 1 s); the two
    // received with it at once, without running.
    expect(Object.fromEntries(nacked)).toEqual({ 'a-0-r1': 1, 'a-1-r1': 0, 'a-2-r1': 0 });
    expect(result).toEqual({ handled: 3, retried: 3 });
    sqs.restore();
    client.destroy();
  });
});

describe('examples/dlq-redrive.ts', () => {
  async function fillDeadLetterQueue(queueUrl: string, count: number): Promise<string[]> {
    const sent: string[] = [];
    for (let start = 0; start < count; start += 10) {
      const entries = Array.from({ length: Math.min(10, count - start) }, (_, offset) => {
        const body = `failed-${start + offset}`;
        sent.push(body);
        return {
          Id: `e${offset}`,
          MessageBody: body,
          MessageAttributes: { tenant: { DataType: 'String', StringValue: `t-${start + offset}` } },
        };
      });
      await admin.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
    return sent;
  }

  it('moves every message with its attributes, and deletes each from the DLQ once sent', async () => {
    const dlq = await createTestQueue({ prefix: 'sqs-streams-test-dlq' });
    const target = await createTestQueue();
    const sent = await fillDeadLetterQueue(dlq, 35);
    const client = testClient();
    const requests = countRequests(client);

    const moved = await redrive({
      client,
      fromQueueUrl: dlq,
      toQueueUrl: target,
      idleTimeoutMs: 1_000,
    });

    expect(moved).toBe(35);
    expect(await drainQueue(admin, dlq)).toEqual([]);
    const arrived = await drainQueue(admin, target);
    expect(bodies(arrived)).toEqual([...sent].sort());
    for (const message of arrived) {
      const n = (message.Body ?? '').split('-')[1];
      expect(message.MessageAttributes?.['tenant']?.StringValue).toBe(`t-${n}`);
    }
    expect(requests.counts['SendMessageBatchCommand']).toBeLessThanOrEqual(6); // batched
    expect(requests.counts['DeleteMessageBatchCommand']).toBeLessThanOrEqual(8);
    client.destroy();
  });

  it('deletes nothing when the target refuses: every message stays in the DLQ', async () => {
    const dlq = await createTestQueue({ prefix: 'sqs-streams-test-dlq', visibilityTimeout: 3 });
    const gone = await createTestQueue();
    await deleteTestQueue(gone);
    const sent = await fillDeadLetterQueue(dlq, 35);
    const client = testClient();

    const failing = redrive({ client, fromQueueUrl: dlq, toQueueUrl: gone, idleTimeoutMs: 1_000 });

    await expect(failing).rejects.toBeInstanceOf(QueueDoesNotExistError);
    const left = await drainExpecting(admin, dlq, sent.length, 10_000);
    expect(bodies(left)).toEqual([...sent].sort());
    client.destroy();
  });
});

describe('examples/graceful-shutdown.ts', () => {
  it('on SIGTERM finishes and deletes the messages in hand, and leaves the rest', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 3 });
    const sent = await sendTestMessages(admin, queueUrl, 200);
    const client = testClient();
    const signals = new EventEmitter();
    const lines: string[] = [];
    const handled: string[] = [];
    const service = startService({
      client,
      queueUrl,
      log: (line) => lines.push(line),
      handle: async (body, signal) => {
        await sleep(2, undefined, { signal });
        handled.push(body);
      },
    });
    onShutdownSignals(service, signals, (line) => lines.push(line));

    await until(() => handled.length >= 20);
    signals.emit('SIGTERM', 'SIGTERM'); // as `process` does: the listener gets the signal's name
    await service.done;

    expect(lines).toEqual(['SIGTERM: finishing the messages in hand, then exiting']);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(service.stats.released).toBe(0); // nothing had to be given back
    expect(service.stats.acked).toBe(handled.length);
    const left = await drainExpecting(admin, queueUrl, sent.length - handled.length, 10_000);
    expect(left.length).toBeGreaterThan(0);
    expect([...handled, ...bodies(left)].sort()).toEqual([...sent].sort());
    client.destroy();
  });

  it('when the grace period runs out, aborts the handlers and gives every message back', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 3 });
    const sent = await sendTestMessages(admin, queueUrl, 30);
    const client = testClient();
    const signals = new EventEmitter();
    let started = 0;
    const service = startService({
      client,
      queueUrl,
      graceMs: 200,
      log: () => {},
      // A handler stuck until it is aborted.
      handle: (_body, signal) =>
        new Promise<void>((_, reject) => {
          started += 1;
          if (signal.aborted) reject(signal.reason);
          else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    onShutdownSignals(service, signals, () => {});

    await until(() => started >= 1);
    signals.emit('SIGTERM', 'SIGTERM');
    await service.done;

    expect(service.stats.acked).toBe(0);
    expect(service.stats.released).toBe(service.stats.received); // all nacked, visible at once
    const left = await drainExpecting(admin, queueUrl, sent.length, 10_000);
    expect(bodies(left)).toEqual([...sent].sort());
    client.destroy();
  });
});

describe('examples/error-handling.ts', () => {
  it('reports a missing queue by name and asks for exit code 2', async () => {
    const client = testClient();
    const lines: string[] = [];
    const queueName = `sqs-streams-test-missing-${Date.now()}`;

    const code = await errorHandling({ client, queueName, log: (line) => lines.push(line) });

    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Queue \`${queueName}\` does not exist (GetQueueUrl)`);
    expect(lines[0]).toContain('create the queue first');
    client.destroy();
  });

  it('logs a transient error as a retry and carries on', async () => {
    const queueUrl = await createTestQueue();
    const queueName = queueUrl.split('/').pop() as string;
    const sent = await sendTestMessages(admin, queueUrl, 12);
    const client = testClient();
    let throttled = false;
    // The first receive is throttled, outside the SDK's own retries.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand' && !throttled) {
          throttled = true;
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleFirstReceive' },
    );
    const lines: string[] = [];
    const handled: string[] = [];

    const code = await errorHandling({
      client,
      queueName,
      idleTimeoutMs: 1_000,
      log: (line) => lines.push(line),
      handle: async (body) => {
        handled.push(body);
      },
    });

    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^SQS: ThrottlingException, retry 1 in \d+ ms$/);
    expect(handled.sort()).toEqual([...sent].sort());
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});

describe('examples/migrating: the same consumer with sqs-consumer and with sqs-streams', () => {
  const orders: Order[] = Array.from({ length: 20 }, (_, i) => ({ id: `o-${i}`, total: i }));

  /** Handles every order, failing `o-3` on its first attempt; records the successes. */
  function recorder(): { handled: string[]; handleOrder: (order: Order) => Promise<void> } {
    const handled: string[] = [];
    let failed = false;
    return {
      handled,
      handleOrder: async (order) => {
        if (order.id === 'o-3' && !failed) {
          failed = true;
          throw new Error('payment service unavailable');
        }
        handled.push(order.id);
      },
    };
  }

  it('before: sqs-consumer handles every order, deleting one message per request', async () => {
    const queueUrl = await createTestQueue();
    await sendOrders({ client: admin, queueUrl, orders });
    const client = testClient();
    const requests = countRequests(client);
    const { handled, handleOrder } = recorder();
    const lines: string[] = [];
    const signals = new EventEmitter();
    const consumer = startConsumer({
      client,
      queueUrl,
      handleOrder,
      signals,
      log: (line) => lines.push(line),
    });
    await until(() => handled.length === orders.length);
    const stopped = once(consumer, 'stopped');
    signals.emit('SIGTERM');
    await stopped;

    expect(handled.sort()).toEqual(orders.map((o) => o.id).sort());
    expect(lines).toEqual([
      'order failed: Unexpected message handler failure: payment service unavailable',
    ]);
    expect(requests.counts['DeleteMessageCommand']).toBe(orders.length);
    await until(() => (requests.inFlight['ReceiveMessageCommand'] ?? 0) === 0);
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('after: sqs-streams handles every order, deleting in batches', async () => {
    const queueUrl = await createTestQueue();
    await sendOrders({ client: admin, queueUrl, orders });
    const client = testClient();
    const requests = countRequests(client);
    const { handled, handleOrder } = recorder();
    const lines: string[] = [];
    const signals = new EventEmitter();
    const running = migrated({ client, queueUrl, handleOrder, signals, log: (l) => lines.push(l) });
    await until(() => handled.length === orders.length);
    signals.emit('SIGTERM');
    const stats = await running;

    expect(handled.sort()).toEqual(orders.map((o) => o.id).sort());
    expect(lines).toEqual(['order failed: Error: payment service unavailable']);
    expect(stats).toMatchObject({ acked: 20, released: 1 });
    expect(requests.counts['DeleteMessageCommand']).toBeUndefined();
    expect(requests.counts['DeleteMessageBatchCommand']).toBeLessThanOrEqual(5);
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});

describe('examples/testing', () => {
  const execFileAsync = promisify(execFile);

  it('global-setup.mjs starts fauxqs for a Jest run and global-teardown.mjs stops it', async () => {
    const url = (file: string): string =>
      pathToFileURL(join(ROOT, 'examples', 'testing', file)).href;
    const script = `
      import setup from ${JSON.stringify(url('global-setup.mjs'))};
      import teardown from ${JSON.stringify(url('global-teardown.mjs'))};
      import config from ${JSON.stringify(url('jest.config.mjs'))};
      import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
      await setup();
      const client = new SQSClient({ endpoint: process.env.SQS_ENDPOINT });
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'setup-check' }));
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
      client.destroy();
      await teardown();
      console.log(JSON.stringify({ endpoint: process.env.SQS_ENDPOINT, body: Messages[0]?.Body, config }));
    `;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of [
      'SQS_ENDPOINT',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_REGION',
    ]) {
      delete env[name];
    }
    env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

    const { stdout } = await execFileAsync(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: ROOT, env, timeout: 30_000 },
    );

    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      endpoint: string;
      body: string;
      config: { globalSetup: string; globalTeardown: string };
    };
    expect(out.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out.body).toBe('hello');
    for (const file of [out.config.globalSetup, out.config.globalTeardown]) {
      expect(existsSync(file.replace('<rootDir>', join(ROOT, 'examples', 'testing')))).toBe(true);
    }
  });

  it('localstack.ts starts LocalStack for SQS, points SQS_ENDPOINT at it, and stops it once', async () => {
    const names = ['SQS_ENDPOINT', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    const saved = names.map((name) => [name, process.env[name]] as const);
    for (const name of names) delete process.env[name];
    try {
      const endpoint = await startLocalStack();

      expect(mockLocalStack.started).toEqual([
        { image: 'localstack/localstack:4.4.0', environment: { SERVICES: 'sqs' } },
      ]);
      expect(endpoint).toBe(mockLocalStack.uri);
      expect(process.env['SQS_ENDPOINT']).toBe(mockLocalStack.uri);
      expect(process.env['AWS_REGION']).toBe('us-east-1');
      expect(process.env['AWS_ACCESS_KEY_ID']).toBe('test');
      expect(process.env['AWS_SECRET_ACCESS_KEY']).toBe('test');
      await stopLocalStack();
      await stopLocalStack(); // a second stop does nothing
      expect(mockLocalStack.stopped).toBe(1);
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('examples/for-await-worker.ts', () => {
  it('handles each message, acks it, and ends once the queue stays empty', async () => {
    const queueUrl = await createTestQueue();
    const sent = await sendTestMessages(admin, queueUrl, 12);
    const client = testClient();
    const handled: string[] = [];

    const count = await forAwaitWorker({
      client,
      queueUrl,
      idleTimeoutMs: 1_000,
      handle: async (body) => {
        handled.push(body);
      },
    });

    expect(count).toBe(12);
    expect([...handled].sort()).toEqual([...sent].sort());
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });

  it('rejects with the error of a failed message, and gives back every message not acked', async () => {
    // The loop's end destroys the stream while its next long poll waits: the emulator's side of
    // that cut poll can take the released messages and hide them for the visibility timeout (as
    // SQS can; docs/acknowledgement.md#shutdown). A short timeout brings them back in the test.
    const queueUrl = await createTestQueue({ visibilityTimeout: 3 });
    const sent = await sendTestMessages(admin, queueUrl, 5);
    const client = testClient();
    const handled: string[] = [];

    const failing = forAwaitWorker({
      client,
      queueUrl,
      handle: async (body) => {
        if (handled.length === 1) throw new Error('downstream unavailable');
        handled.push(body);
      },
    });

    await expect(failing).rejects.toThrow('downstream unavailable');
    expect(handled).toHaveLength(1); // acked before the failure
    const left = await drainExpecting(admin, queueUrl, sent.length - 1, 10_000);
    expect([...handled, ...bodies(left)].sort()).toEqual([...sent].sort()); // nothing lost or doubled
    client.destroy();
  });
});

describe('examples/ack-nack-extend.ts', () => {
  it('deletes poison, gives an unpaid order back for a minute, extends and deletes paid ones', async () => {
    const queueUrl = await createTestQueue();
    const sent = [
      'not an order',
      JSON.stringify({ id: 'o-1', paid: false }),
      JSON.stringify({ id: 'o-2', paid: true }),
      JSON.stringify({ id: 'o-3', paid: true }),
    ];
    await sendTestMessages(admin, queueUrl, sent.length, (i) => sent[i] as string);
    const client = testClient();
    const settles = recordSettles(client);
    const fulfilled: string[] = [];

    const result = await settleMessages({
      client,
      queueUrl,
      idleTimeoutMs: 1_000,
      fulfil: async (order) => {
        fulfilled.push(order.id);
      },
    });

    expect(result).toEqual({ fulfilled: 2, notPaid: 1, poison: 1 });
    expect(fulfilled.sort()).toEqual(['o-2', 'o-3']);
    expect(settles.deletes).toBe(3); // the poison and the two paid orders
    expect(settles.visibilityTimeouts.sort((a, b) => a - b)).toEqual([60, 600, 600]);
    // Deleted, or invisible for a minute: nothing to receive now.
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});

describe('examples/generator-stage.ts', () => {
  it('acks every message the generator yields, in batches', async () => {
    const queueUrl = await createTestQueue();
    const sent = await sendTestMessages(admin, queueUrl, 25);
    const client = testClient();
    const seen: string[] = [];

    const stats = await generatorStage({
      client,
      queueUrl,
      idleTimeoutMs: 1_000,
      handle: async (message) => {
        seen.push(message.body);
      },
    });

    expect(seen.sort()).toEqual([...sent].sort());
    expect(stats).toMatchObject({ received: 25, acked: 25, released: 0 });
    expect(stats.deleteRequests).toBeLessThanOrEqual(5); // batches, not one per message
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});

describe('examples/retry-by-receive-count.ts', () => {
  it('acks what the webhook took, and nacks a failed POST with a delay for its first delivery', async () => {
    const posts: string[] = [];
    const server = createServer((request, response) => {
      posts.push(`${request.method ?? ''} ${request.url ?? ''}`);
      response.statusCode = request.url === '/flaky' ? 503 : 204;
      response.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const queueUrl = await createTestQueue();
    const paths = ['/ok-0', '/flaky', '/ok-2'];
    await sendTestMessages(admin, queueUrl, paths.length, (i) =>
      JSON.stringify({ url: `${base}${paths[i] ?? ''}` }),
    );
    const client = testClient();
    const settles = recordSettles(client);
    const lines: string[] = [];

    try {
      const result = await webhookSender({
        client,
        queueUrl,
        idleTimeoutMs: 1_000,
        log: (template, ...args) => lines.push(format(template, ...args)),
      });

      expect(result).toEqual({ delivered: 2, retrying: 1 });
      expect(posts.sort()).toEqual(['POST /flaky', 'POST /ok-0', 'POST /ok-2']);
      expect(lines).toHaveLength(1);
      const logged =
        /^message \S+ failed on delivery 1 \(POST http:\/\/127\.0\.0\.1:\d+\/flaky answered 503\); retrying in (\d+) s$/.exec(
          lines[0] ?? '',
        );
      expect(logged).not.toBeNull();
      const delay = Number(logged?.[1]);
      expect(delay).toBeGreaterThanOrEqual(15);
      expect(delay).toBeLessThanOrEqual(30);
      expect(settles).toEqual({ deletes: 2, visibilityTimeouts: [delay] });
      expect(await drainQueue(admin, queueUrl)).toEqual([]); // the failed one waits for its delay
    } finally {
      server.closeAllConnections();
      server.close();
      client.destroy();
    }
  });

  it('spreads each delay over the upper half of a doubling ceiling, capped at 15 minutes', () => {
    for (let receiveCount = 1; receiveCount <= 12; receiveCount++) {
      const ceiling = Math.min(900, 30 * 2 ** (receiveCount - 1));
      for (let sample = 0; sample < 50; sample++) {
        const delay = retryDelaySeconds(receiveCount);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe('examples/send-lines.ts', () => {
  it('sends more lines than its highWaterMark to a queue given by name, in batches', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    const requests = countRequests(client);
    const lines = Array.from({ length: 95 }, (_, i) => `line-${i}`);

    const stats = await sendLines({ client, queueName: queueNameOf(queueUrl), lines });

    expect(stats).toMatchObject({ sent: 95, errorsRetried: 0, inFlight: 0 });
    expect(stats.sendRequests).toBeLessThanOrEqual(12);
    expect(requests.counts['GetQueueUrlCommand']).toBe(1);
    expect(bodies(await drainQueue(admin, queueUrl))).toEqual([...lines].sort());
    client.destroy();
  });

  it('rejects with the stream error when the queue does not exist', async () => {
    const client = testClient();
    const queueName = `sqs-streams-test-missing-${Date.now()}`;

    const sending = sendLines({ client, queueName, lines: ['one', 'two', 'three'] });

    await expect(sending).rejects.toBeInstanceOf(QueueDoesNotExistError);
    client.destroy();
  });
});

describe('examples/contributing/endpoint-script.ts', () => {
  it('starts fauxqs in a child process, makes a round trip through the streams, and stops it', async () => {
    // No SQS_ENDPOINT and no Docker probe: the harness's own fallback, fauxqs.
    const result = await endpointScript({ SQS_TEST_DOCKER: '0' });

    expect(result).toEqual({ kind: 'fauxqs', body: 'hello' });
  });
});

describe('examples/large-payloads.ts', () => {
  it('sends a 2 MB report through S3 and a short one as is; both come back, and the bucket ends empty', async () => {
    const endpoint = testEndpoint();
    const s3Client = new S3Client({
      endpoint: endpoint.endpoint,
      region: endpoint.region,
      forcePathStyle: true,
      ...(endpoint.credentials ? { credentials: endpoint.credentials } : {}),
    });
    const bucket = `example-payloads-${Date.now().toString(36)}`;
    await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
    const queueUrl = await createTestQueue();
    const client = testClient();
    try {
      const reports = ['a short report', `big-${'x'.repeat(2_000_000)}`];
      const errors: unknown[] = [];
      const received = await largePayloadsRoundTrip({
        client,
        s3Client,
        queueUrl,
        bucket,
        reports,
        onPayloadError: (error) => errors.push(error),
      });
      expect([...received].sort()).toEqual([...reports].sort());
      expect(errors).toEqual([]);
      const listed = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.Contents ?? []).toEqual([]);
    } finally {
      client.destroy();
      s3Client.destroy();
    }
  });
});

describe('examples/otel.ts', () => {
  it('traces the round trip: the producer context in every message, linked from the receives', async () => {
    const queueUrl = await createTestQueue();
    const client = testClient();
    // Collects what is exported (an InMemorySpanExporter forgets all on the example's shutdown).
    const spans: ReadableSpan[] = [];
    const exporter: SpanExporter = {
      export: (batch, done) => {
        spans.push(...batch);
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };

    await tracedRoundTrip({ client, queueUrl, exporter, orders: 5 });

    const producer = spans.find((span) => span.name === 'place-orders')?.spanContext();
    const queue = queueNameOf(queueUrl);
    expect(new Set(spans.map((span) => span.name))).toEqual(
      new Set(['place-orders', `send ${queue}`, `receive ${queue}`, `settle ${queue}`]),
    );
    const send = spans.find((span) => span.name === `send ${queue}`);
    expect(send?.parentSpanContext?.spanId).toBe(producer?.spanId);
    const links = spans
      .filter((span) => span.name === `receive ${queue}`)
      .flatMap((span) => span.links.map((link) => link.context.spanId));
    expect(links).toEqual(Array(5).fill(producer?.spanId));
    expect(await drainQueue(admin, queueUrl)).toEqual([]);
    client.destroy();
  });
});
