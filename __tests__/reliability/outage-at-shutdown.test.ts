/**
 * Invariant 11: shutdown is bounded when SQS is unreachable. The proxy's port closes for real
 * (ECONNREFUSED) and stays closed for the rest of the scenario; `destroy()`, `stop()` and
 * `SqsWritable.end()` must settle within `shutdownTimeoutMs` anyway, count what failed, and lose
 * nothing: once the outage is over (the child and its proxy are gone), every message is deleted
 * or visible again after its visibility timeout. Plain Node children (reliability-scenarios.ts),
 * since inside Jest ECONNREFUSED loses its code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { STOP_GRACE_MS } from '../../lib/index';
import { report } from '../support/reliability-report';
import { killScenarios, runScenario } from '../support/reliability-scenario-runner';
import type { ScenarioConfig } from '../support/reliability-scenarios';
import { DEADLINES, describeProxied } from '../support/reliability-streams';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers';

const endpoint = testEndpoint();
const admin = testClient();
const VISIBILITY = 3;
/** Slack over `shutdownTimeoutMs` for timers and a loaded machine: "did not hang", no more. */
const BOUND_MS = DEADLINES.shutdownTimeoutMs + 1_500;

afterEach(killScenarios);
afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

async function scenario(
  name: ScenarioConfig['scenario'],
  count: number,
  extra: Partial<ScenarioConfig>,
) {
  const queueUrl = await createTestQueue({ visibilityTimeout: VISIBILITY });
  const prefix = `${name}-${Date.now()}`;
  const sent =
    name === 'end-in-outage'
      ? Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
      : await sendTestMessages(admin, queueUrl, count, (i) => `${prefix}-${i}`);
  const { result } = await runScenario(
    {
      scenario: name,
      target: endpoint.endpoint,
      region: endpoint.region,
      queueUrl,
      streamOptions: { ...DEADLINES },
      count,
      visibilityTimeout: VISIBILITY,
      bodyPrefix: prefix,
      maxRunMs: 30_000,
      ...extra,
    },
    40_000,
  );
  // The outage is over: wait out the visibility timeout, then look at the queue directly.
  await sleep((VISIBILITY + 0.5) * 1000);
  const left = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 2 });
  report(`outage-${name}`, {
    ...result,
    shutdownTimeoutMs: DEADLINES.shutdownTimeoutMs,
    left: left.length,
  });
  return { result, sent, left, stats: result.stats ?? {} };
}

describeProxied('an outage at shutdown (connections refused)', () => {
  it('destroy() closes within shutdownTimeoutMs, no error, releaseFailed counted; all visible again after the timeout', async () => {
    const { result, sent, left, stats } = await scenario('destroy-in-outage', 10, { read: 3 });
    expect(result['closeMs']).toBeLessThan(BOUND_MS);
    // A failed release is not an 'error' of a plain destroy().
    expect(result['errors']).toEqual([]);
    expect(result['retries']).toBeGreaterThan(0); // it tried, during the outage
    expect(stats['releaseFailed']).toBe(sent.length);
    expect(stats['released']).toBe(0);
    expect(left.map((m) => m.Body).sort()).toEqual([...sent].sort());
  });

  it('stop() settles within shutdownTimeoutMs, rejects with an SqsStreamError saying how many, ackFailed counted; nothing lost', async () => {
    const { result, sent, left, stats } = await scenario('stop-in-outage', 10, {
      read: 10,
      ackedBefore: 3,
      ackedDuring: 4,
    });
    const stopped = result['stopped'] as { rejected: boolean; name?: string; message?: string };
    // stop() first lets a receive in flight answer for STOP_GRACE_MS (measured: 2 s + 1 s).
    expect(result['stopMs']).toBeLessThan(BOUND_MS + STOP_GRACE_MS);
    expect(stopped.rejected).toBe(true);
    expect(stopped.name).toBe('SqsStreamError');
    expect(stopped.message).toMatch(/\b4\b/);
    const acksDuring = result['acksDuring'] as Record<string, number>;
    expect(acksDuring['ok']).toBeUndefined();
    expect(Object.values(acksDuring).reduce((a, b) => a + b, 0)).toBe(4);
    expect(stats['acked']).toBe(3);
    expect(stats['ackFailed']).toBe(4);
    // Deleted (the 3 confirmed) or visible again (the 4 unconfirmed and the 3 never settled).
    const ackedIds = result['ackedIds'] as string[];
    expect(left).toHaveLength(sent.length - ackedIds.length);
    expect(left.filter((m) => ackedIds.includes(m.MessageId ?? ''))).toHaveLength(0);
    expect(new Set(left.map((m) => m.Body)).size).toBe(left.length);
  });

  it.each([
    ['end(callback)', true],
    ['end()', false],
  ])(
    'SqsWritable %s settles within shutdownTimeoutMs, failing the unsent writes, stats.failed counted',
    async (_form, endWithCallback) => {
      const { result, sent, left, stats } = await scenario('end-in-outage', 25, {
        sentBefore: 10,
        endWithCallback,
      });
      expect(result['endMs']).toBeLessThan(BOUND_MS);
      expect(result['first']).toEqual({ ok: 10 });
      expect((result['ended'] as { error?: string }).error).toBeDefined();
      const during = result['writesDuring'] as Record<string, number>;
      expect(during['ok']).toBeUndefined();
      expect(Object.values(during).reduce((a, b) => a + b, 0)).toBe(15);
      expect(stats['failed']).toBe(15);
      // Refused connections never reach SQS: exactly the 10 confirmed writes arrived.
      expect(left.map((m) => m.Body).sort()).toEqual(sent.slice(0, 10).sort());
    },
  );
});
