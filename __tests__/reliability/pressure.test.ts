/**
 * 10,000 messages drained through 10% faults of every kind, hangs, stalls, slow answers and
 * short outages included, with a 500 ms deadline: nothing lost, duplicates counted, and what
 * each held connection cost measured. A plain Node child (reliability-scenarios.ts), since
 * `'reset'` and `'refuse'` surface as socket errors whose codes Jest's sandbox strips.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { report } from '../support/reliability-report';
import { killScenarios, runScenario } from '../support/reliability-scenario-runner';
import { DEADLINES, describeProxied } from '../support/reliability-streams';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers';
import { FAULT_KINDS, totalInjected, type FaultKind } from '../support/sqs-proxy';

const endpoint = testEndpoint();
const admin = testClient();
const COUNT = 10_000;
const VISIBILITY = 3;

afterEach(killScenarios);
afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

describeProxied('pressure', () => {
  it('drains 10,000 messages through 10% mixed faults with hangs and stalls: 0 lost', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: VISIBILITY });
    const prefix = `pr-${Date.now()}`;
    await sendTestMessages(admin, queueUrl, COUNT, (i) => `${prefix}-${i}`);
    const { result } = await runScenario(
      {
        scenario: 'pressure',
        target: endpoint.endpoint,
        region: endpoint.region,
        queueUrl,
        streamOptions: { ...DEADLINES },
        count: COUNT,
        visibilityTimeout: VISIBILITY,
        bodyPrefix: prefix,
        faults: {
          rate: 0.1,
          kinds: [...FAULT_KINDS],
          seed: 42,
          spikeMs: 300,
          // Past every deadline here (short polls: requestTimeoutMs).
          slowMs: 1_500,
          refuseMs: 300,
        },
        maxRunMs: 100_000,
      },
      110_000,
    );
    // What a lost answer hid comes back within one visibility timeout: the queue must be empty.
    await sleep((VISIBILITY + 0.5) * 1000);
    const left = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 2 });
    const injected = result['injected'] as Record<FaultKind, number>;
    report('pressure-mixed-faults', {
      ...result,
      faultRate: 0.1,
      requestTimeoutMs: DEADLINES.requestTimeoutMs,
      injectedTotal: totalInjected(injected),
      leftInQueue: left.length,
    });

    expect(result['streamError']).toBeUndefined();
    expect(result['stopError']).toBeUndefined();
    expect(result['lostIndices']).toEqual([]);
    expect(result['lost']).toBe(0);
    expect(result['unexpected']).toBe(0);
    expect(left.length).toBe(0);
    for (const kind of ['hang', 'stall', 'slow', 'refuse'] as const) {
      expect(injected[kind]).toBeGreaterThan(0);
    }
    // Every request a fault held was given up at a deadline, not waited out.
    const retries = result['retriesByError'] as Record<string, number>;
    expect(retries['TimeoutError']).toBeGreaterThan(0);
  });
});
