/**
 * Invariant 10 on ChangeMessageVisibilityBatch, for each of its three users: `nack()`, the
 * heartbeat and the release of `destroy()`. A hung, stalled or too-slow request costs one
 * deadline and is retried as a `TimeoutError`; the change then happens (checked on the queue,
 * whose visibility timeout is long enough that expiry cannot pass for it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsMessage } from '../../lib/index';
import { report } from '../support/reliability-report';
import { take as readMessages } from '../support/reliability-scenarios';
import {
  DEADLINES,
  HOLDING,
  describeProxied,
  closed,
  faultOnce,
  heldMs,
  hungSuite,
  watchRetries,
  within,
} from '../support/reliability-streams';
import {
  approximateCounts,
  createTestQueue,
  drainQueue,
  sendTestMessages,
} from '../support/sqs-helpers';
import type { FaultKind } from '../support/sqs-proxy';

const suite = hungSuite();

/** A queue with `count` messages and a source through a proxy that faults the next visibility change. */
async function setUp(kind: FaultKind, count: number, visibilityTimeout: number) {
  const queueUrl = await createTestQueue({ visibilityTimeout });
  const sent = await sendTestMessages(suite.admin, queueUrl, count, (i) => `hv-${kind}-${i}`);
  const { proxy, client } = await suite.proxied();
  faultOnce(proxy, 'ChangeMessageVisibilityBatch', kind);
  const source = suite.track(
    new SqsReadable({
      queueUrl,
      client,
      waitTimeSeconds: 1,
      visibilityTimeout,
      highWaterMark: count,
      batchSize: Math.min(10, count),
      maxMessages: count,
      ...DEADLINES,
    }),
  );
  const retries = watchRetries(source);
  const state = () => ({ stats: source.stats, retries, counts: proxy.counts, held: proxy.holding });
  const take = (n: number): Promise<SqsMessage[]> =>
    within(10_000, `reading ${n} messages`, readMessages(source, n), state);
  const figures = (name: string, extra: Record<string, unknown>) =>
    report(`hung-visibility-${name}-${kind}`, {
      fault: kind,
      action: 'ChangeMessageVisibilityBatch',
      visibilityRequests: proxy.counts['ChangeMessageVisibilityBatch'],
      retries: retries.map((r) => r.name),
      heldMs: heldMs(proxy),
      stats: { ...source.stats },
      ...extra,
    });
  const timeouts = () => retries.filter((r) => r.name === 'TimeoutError').length;
  return { queueUrl, sent, proxy, source, state, take, figures, timeouts };
}

describeProxied.each(HOLDING)('a %s', (kind) => {
  it('nack(): resolves after one deadline, and the messages are visible again at once', async () => {
    const t = await setUp(kind, 10, 30);
    const messages = await t.take(10);
    const started = Date.now();
    await within(10_000, 'the nacks', Promise.all(messages.map((m) => m.nack())), t.state);
    const seconds = (Date.now() - started) / 1000;
    const visible = await drainQueue(suite.admin, t.queueUrl, { waitTimeSeconds: 1 });
    t.figures('nack', { messages: t.sent.length, visibleAfter: visible.length, seconds });

    expect(t.proxy.injected[kind]).toBe(1);
    expect(t.timeouts()).toBe(1);
    expect(t.source.stats.released).toBe(t.sent.length);
    expect(visible.map((m) => m.Body).sort()).toEqual([...t.sent].sort());
  });

  it('heartbeat: a hung extension is retried in time, and held messages never expire', async () => {
    // Due with a third of the 4 s timeout left (1.3 s): one 0.5 s deadline and a retry fit.
    const t = await setUp(kind, 5, 4);
    const messages = await t.take(5);
    // Hold for 1.5 visibility timeouts; meanwhile nobody else may get them.
    await sleep(6_000);
    const { Messages = [] } = await suite.admin.send(
      new ReceiveMessageCommand({
        QueueUrl: t.queueUrl,
        WaitTimeSeconds: 0,
        MaxNumberOfMessages: 10,
      }),
    );
    await within(10_000, 'the acks', Promise.all(messages.map((m) => m.ack())), t.state);
    t.figures('heartbeat', { messages: t.sent.length, stolenWhileHeld: Messages.length });

    expect(Messages.length).toBe(0); // counts only: a failure must not print receipt handles
    expect(t.proxy.injected[kind]).toBe(1);
    expect(t.timeouts()).toBe(1);
    expect(t.source.stats.visibilityRequests).toBeGreaterThanOrEqual(2);
    expect(await approximateCounts(suite.admin, t.queueUrl)).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
    });
  });

  it('release on destroy(): retried after one deadline, closed within shutdownTimeoutMs, all visible again', async () => {
    const t = await setUp(kind, 10, 30);
    const [first] = await t.take(1); // the rest stay buffered
    expect(first).toBeDefined();
    const started = Date.now();
    t.source.destroy();
    await within(
      DEADLINES.shutdownTimeoutMs + 3_000,
      "destroy()'s close",
      closed(t.source),
      t.state,
    );
    const closeMs = Date.now() - started;
    const visible = await drainQueue(suite.admin, t.queueUrl, { waitTimeSeconds: 1 });
    t.figures('release', { messages: t.sent.length, closeMs, visibleAfter: visible.length });

    expect(t.proxy.injected[kind]).toBe(1);
    expect(t.timeouts()).toBe(1);
    expect(closeMs).toBeLessThan(DEADLINES.shutdownTimeoutMs + 1_500);
    expect(t.source.stats.released).toBe(t.sent.length);
    expect(visible.map((m) => m.Body).sort()).toEqual([...t.sent].sort());
  });
});
