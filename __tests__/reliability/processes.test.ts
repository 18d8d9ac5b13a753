/**
 * Consumers as separate processes (the built package, reliability-worker.mjs): killed with
 * SIGKILL mid-stream, stopped with SIGTERM, and four at once on one queue.
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
import {
  killAllWorkers,
  startWorker,
  tally,
  waitForExit,
  type Worker,
} from '../support/reliability-procs';
import { report } from '../support/reliability-report';

const endpoint = testEndpoint();
const admin = testClient();

afterEach(() => killAllWorkers());
afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

const run = (): string => randomBytes(4).toString('hex');

function consumer(
  name: string,
  queueUrl: string,
  extra: Partial<Parameters<typeof startWorker>[1]> = {},
): Worker {
  return startWorker(name, {
    role: 'consume',
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    staticCredentials: endpoint.credentials !== undefined,
    queueUrl,
    maxRunMs: 90_000,
    ...extra,
  });
}

const got = (worker: Worker): number => worker.count('got');
const acked = (worker: Worker): Set<string> =>
  new Set(worker.events.filter((e) => e.t === 'ack').map((e) => e.id as string));

describe('consumer processes', () => {
  it('SIGKILL mid-stream: a second consumer gets everything after the visibility timeout, none lost', async () => {
    const visibilityTimeout = 3;
    const queueUrl = await createTestQueue({ visibilityTimeout });
    const id = run();
    const sent = await sendTestMessages(admin, queueUrl, 1_000, (i) => `k-${id}-${i}`);

    const first = consumer('killed', queueUrl, { processMs: 5 });
    await first.waitFor(
      '300 messages processed',
      (events) => events.filter((e) => e.t === 'got').length >= 300,
      60_000,
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const firstExit = await waitForExit(first, 10_000);
    const processedByFirst = got(first);
    const ackedByFirst = acked(first);

    // Long enough to see the crashed consumer's messages come back (one visibility timeout).
    const second = consumer('survivor', queueUrl, {
      idleTimeoutMs: (visibilityTimeout + 4) * 1000,
    });
    const secondExit = await waitForExit(second, 80_000);
    const recoveredIn = (Date.now() - killedAt) / 1000;
    await sleep((visibilityTimeout + 0.5) * 1000);
    const left = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 2 });

    const t = tally(sent, [first, second]);
    const firstIds = new Set(first.events.filter((e) => e.t === 'got').map((e) => e.id));
    const redeliveredFromCrash = second.events.filter(
      (e) => e.t === 'got' && firstIds.has(e.id),
    ).length;
    report('sigkill', {
      messages: sent.length,
      visibilityTimeout,
      processedBeforeKill: processedByFirst,
      ackedBeforeKill: ackedByFirst.size,
      processedButNotAckedAtKill: processedByFirst - ackedByFirst.size,
      redeliveredFromCrash,
      lost: t.lost,
      duplicates: t.duplicates,
      redeliveries: t.redeliveries,
      leftInQueue: left.length,
      perWorker: t.perWorker,
      secondsFromKillToDrained: recoveredIn,
    });

    expect(firstExit.signal).toBe('SIGKILL');
    expect(second.events.filter((e) => e.t === 'error')).toEqual([]);
    expect(secondExit).toEqual({ code: 0, signal: null });
    expect(t.lostBodies).toEqual([]);
    expect(t.unexpected).toBe(0);
    expect(left).toEqual([]);
    // Only what the killed consumer had not got confirmed can come twice.
    expect(t.duplicates).toBeLessThanOrEqual(processedByFirst - ackedByFirst.size);
    // Nothing the killed consumer acked came back.
    const secondIds = second.events.filter((e) => e.t === 'got').map((e) => e.id as string);
    expect(secondIds.filter((mid) => ackedByFirst.has(mid))).toEqual([]);
  });

  it('SIGTERM: stop() drains what was received, exits 0, and leaves nothing invisible', async () => {
    // Long, so a message left invisible would still be hidden when the queue is checked.
    const visibilityTimeout = 30;
    const queueUrl = await createTestQueue({ visibilityTimeout });
    const id = run();
    const sent = await sendTestMessages(admin, queueUrl, 1_000, (i) => `t-${id}-${i}`);

    const first = consumer('terminated', queueUrl, { processMs: 5 });
    await first.waitFor(
      '200 messages processed',
      (events) => events.filter((e) => e.t === 'got').length >= 200,
      60_000,
    );
    first.child.kill('SIGTERM');
    const signalledAt = Date.now();
    const exit = await waitForExit(first, 30_000);
    const stopSeconds = (Date.now() - signalledAt) / 1000;
    const gotAtSignal = first.events.findIndex((e) => e.t === 'sigterm');
    const processedAfterSignal = first.events
      .slice(gotAtSignal)
      .filter((e) => e.t === 'got').length;

    // Well inside the visibility timeout: everything not acked must be visible right now.
    const left = await drainQueue(admin, queueUrl, {
      waitTimeSeconds: 1,
      maxEmptyReceives: 2,
      timeoutMs: 20_000,
    });
    const checkedWithin = (Date.now() - signalledAt) / 1000;
    const leftBodies = new Set(left.map((m) => m.Body));
    const processed = new Set(first.events.filter((e) => e.t === 'got').map((e) => e.b as string));
    const missing = sent.filter((body) => !processed.has(body) && !leftBodies.has(body));
    const ackedIds = acked(first);
    const done = first.events.find((e) => e.t === 'done');
    report('sigterm', {
      messages: sent.length,
      visibilityTimeout,
      processed: processed.size,
      processedAfterSignal,
      acked: ackedIds.size,
      visibleRightAfterExit: left.length,
      leftInvisible: missing.length,
      duplicates: left.filter((m) => processed.has(m.Body ?? '')).length,
      stopSeconds,
      checkedWithinSeconds: checkedWithin,
      stats: done?.stats,
    });

    expect(first.events.filter((e) => e.t === 'error')).toEqual([]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(done).toBeDefined();
    // Everything handed to the handler was acked before the process exited.
    expect(ackedIds.size).toBe(got(first));
    expect(missing).toEqual([]);
    expect(checkedWithin).toBeLessThan(visibilityTimeout);
  });

  it('4 consumer processes on one queue: every message once, the work spread over all four', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 30 });
    const id = run();
    const workers = [1, 2, 3, 4].map((n) =>
      consumer(`consumer-${n}`, queueUrl, { idleTimeoutMs: 4_000, processMs: 1 }),
    );
    await Promise.all(
      workers.map((w) => w.waitFor('start', (e) => e.some((x) => x.t === 'start'), 20_000)),
    );
    // Let every consumer reach its first long poll before the messages arrive.
    await sleep(1_000);
    const started = Date.now();
    const sent = await sendTestMessages(admin, queueUrl, 2_000, (i) => `p-${id}-${i}`);
    const exits = await Promise.all(workers.map((w) => waitForExit(w, 80_000)));
    const seconds = (Date.now() - started) / 1000;
    const left = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 1 });

    const t = tally(sent, workers);
    report('four-consumers', {
      messages: sent.length,
      lost: t.lost,
      duplicates: t.duplicates,
      redeliveries: t.redeliveries,
      perWorker: t.perWorker,
      leftInQueue: left.length,
      seconds,
    });

    for (const w of workers) expect(w.events.filter((e) => e.t === 'error')).toEqual([]);
    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));
    expect(t.lostBodies).toEqual([]);
    expect(t.duplicates).toBe(0);
    expect(t.unexpected).toBe(0);
    expect(left).toEqual([]);
    for (const n of Object.values(t.perWorker)) expect(n).toBeGreaterThanOrEqual(sent.length * 0.1);
  });
});
