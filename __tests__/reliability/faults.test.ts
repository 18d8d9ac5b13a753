/**
 * At-least-once under injected faults: 2,000 messages drained, and 2,000 sent, through the fault
 * proxy at a 10% fault rate. The streams run in a child process on the built package (see
 * reliability-worker.mjs for why), with the SDK's own retries off (`maxAttempts: 1`) so every
 * fault reaches the streams' retry logic.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers';
import { startSqsProxy, totalInjected, type FaultKind, type SqsProxy } from '../support/sqs-proxy';
import {
  proxyable,
  killAllWorkers,
  retriesByError,
  startWorker,
  tally,
  waitForExit,
} from '../support/reliability-procs';
import { report } from '../support/reliability-report';

const RATE = 0.1;
const ALL_KINDS: FaultKind[] = ['500', '503', 'throttle', 'reset', 'drop', 'spike'];
const VISIBILITY_TIMEOUT = 3;

const endpoint = testEndpoint();
const admin = testClient();
let proxy: SqsProxy | undefined;

afterEach(async () => {
  killAllWorkers();
  await proxy?.close();
  proxy = undefined;
});

afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

const run = (): string => randomBytes(4).toString('hex');
// The proxy forwards to loopback only: against real AWS (SQS_ENDPOINT) these tests are skipped.
const describeProxied = proxyable(endpoint.endpoint) ? describe : describe.skip;

describeProxied('faults on the receive side', () => {
  it('drains 2,000 messages through 10% faults: every message processed, none lost, no stream error', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: VISIBILITY_TIMEOUT });
    const id = run();
    const sent = await sendTestMessages(admin, queueUrl, 2_000, (i) => `f-${id}-${i}`);
    proxy = await startSqsProxy({
      target: endpoint.endpoint,
      faults: { rate: RATE, kinds: ALL_KINDS, spikeMs: 500, seed: 42 },
      maxRequests: 20_000,
      maxDurationMs: 110_000,
    });
    const started = Date.now();
    const consumer = startWorker('consumer', {
      role: 'consume',
      endpoint: proxy.endpoint,
      region: endpoint.region,
      staticCredentials: endpoint.credentials !== undefined,
      queueUrl,
      maxAttempts: 1,
      // Longer than the visibility timeout: what a dropped receive hid comes back before the end.
      idleTimeoutMs: (VISIBILITY_TIMEOUT + 4) * 1000,
      maxRunMs: 100_000,
    });
    const exit = await waitForExit(consumer, 105_000);
    const seconds = (Date.now() - started) / 1000;
    const counts = { ...proxy.counts };
    const injected = { ...proxy.injected };
    const injectedByAction = JSON.parse(JSON.stringify(proxy.injectedByAction)) as unknown;
    await proxy.close();

    // Anything still hidden comes back within one visibility timeout: the queue must then be empty.
    await sleep((VISIBILITY_TIMEOUT + 0.5) * 1000);
    const left = await drainQueue(admin, queueUrl, {
      waitTimeSeconds: 1,
      maxEmptyReceives: 2,
      timeoutMs: 20_000,
    });

    const t = tally(sent, [consumer]);
    const done = consumer.events.find((e) => e.t === 'done');
    report('receive-faults', {
      messages: sent.length,
      faultRate: RATE,
      requests: Object.values(counts).reduce((a, b) => a + b, 0),
      requestsByAction: counts,
      injected,
      injectedTotal: totalInjected(injected),
      injectedByAction,
      retriesByError: retriesByError([consumer]),
      lost: t.lost,
      duplicates: t.duplicates,
      redeliveries: t.redeliveries,
      leftInQueue: left.length,
      streamErrors: consumer.count('error'),
      stats: done?.stats,
      seconds,
    });

    expect(consumer.events.filter((e) => e.t === 'error')).toEqual([]);
    expect({ ...exit, stderr: exit.code === 0 ? '' : consumer.stderr().slice(-3000) }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(t.lostBodies).toEqual([]);
    expect(t.unexpected).toBe(0);
    expect(left).toEqual([]);
    for (const kind of ALL_KINDS) expect(injected[kind]).toBeGreaterThan(0);
  });
});

describeProxied('faults on the send side', () => {
  /** Sends 2,000 through the proxy, then receives straight from the endpoint and compares. */
  async function sendThrough(name: string, kinds: FaultKind[], fifo: boolean) {
    const queueUrl = await createTestQueue({ fifo });
    const id = run();
    proxy = await startSqsProxy({
      target: endpoint.endpoint,
      faults: { rate: RATE, kinds, spikeMs: 500, seed: 1 },
      maxRequests: 20_000,
      maxDurationMs: 110_000,
    });
    const prefix = `s-${id}`;
    const count = 2_000;
    const producer = startWorker('producer', {
      role: 'send',
      endpoint: proxy.endpoint,
      region: endpoint.region,
      staticCredentials: endpoint.credentials !== undefined,
      queueUrl,
      maxAttempts: 1,
      count,
      bodyPrefix: prefix,
      fifo,
      maxRunMs: 100_000,
    });
    const exit = await waitForExit(producer, 105_000);
    const injected = { ...proxy.injected };
    const counts = { ...proxy.counts };
    await proxy.close();

    const reportedSent = new Set(
      producer.events.filter((e) => e.t === 'sent').map((e) => `${prefix}-${e.i}`),
    );
    const reportedFailed = producer.count('fail');
    // A FIFO receive returns one message per group at a time: allow a receive a message.
    const arrived = await drainQueue(admin, queueUrl, {
      waitTimeSeconds: 1,
      maxEmptyReceives: 2,
      maxMessages: 3 * count,
      timeoutMs: 60_000,
    });
    const arrivals = new Map<string, number>();
    for (const m of arrived) arrivals.set(m.Body ?? '', (arrivals.get(m.Body ?? '') ?? 0) + 1);
    const missing = [...reportedSent].filter((body) => !arrivals.has(body));
    const duplicates = [...arrivals.values()].reduce((sum, n) => sum + n - 1, 0);
    const notReportedButArrived = [...arrivals.keys()].filter((body) => !reportedSent.has(body));
    const done = producer.events.find((e) => e.t === 'done');
    report(name, {
      messages: count,
      fifo,
      faultRate: RATE,
      kinds,
      requestsByAction: counts,
      injected,
      injectedTotal: totalInjected(injected),
      retriesByError: retriesByError([producer]),
      reportedSent: reportedSent.size,
      reportedFailed,
      arrived: arrived.length,
      reportedSentButMissing: missing.length,
      duplicates,
      arrivedButNotReported: notReportedButArrived.length,
      stats: done?.stats,
    });
    expect(producer.events.filter((e) => e.t === 'error')).toEqual([]);
    expect({ ...exit, stderr: exit.code === 0 ? '' : producer.stderr().slice(-3000) }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(reportedFailed).toBe(0);
    expect(reportedSent.size).toBe(count);
    expect(missing).toEqual([]);
    expect(notReportedButArrived).toEqual([]);
    return { duplicates, injected };
  }

  it('sends 2,000 through 10% faults SQS never saw: every acknowledged message arrives exactly once', async () => {
    const { duplicates, injected } = await sendThrough(
      'send-faults',
      ['500', '503', 'throttle', 'reset', 'spike'],
      false,
    );
    expect(duplicates).toBe(0);
    expect(totalInjected(injected)).toBeGreaterThan(0);
  });

  it('sends 2,000 through 10% lost responses (standard queue): at least once, the duplicates counted', async () => {
    const { injected } = await sendThrough('send-lost-responses', ['drop'], false);
    // SQS accepted a batch whose answer was lost; the retry sends it again. A standard queue
    // cannot tell: at-least-once, as SQS documents. The duplicates are reported, not hidden.
    expect(injected.drop).toBeGreaterThan(0);
  });

  it('sends 2,000 through 10% lost responses (FIFO, deduplication ids): exactly once', async () => {
    const { duplicates, injected } = await sendThrough('send-lost-responses-fifo', ['drop'], true);
    expect(injected.drop).toBeGreaterThan(0);
    expect(duplicates).toBe(0);
  });
});
