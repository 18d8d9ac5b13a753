/**
 * Invariant 10 on the send path: a SendMessageBatch that hangs, stalls or answers past the
 * deadline costs one deadline, is retried as a `TimeoutError`, and every write's callback
 * succeeds only for a message that arrived. A `'slow'` answer is one SQS acted on: its batch is
 * sent again, so a standard queue holds duplicates (at-least-once), counted.
 */
import { SqsWritable } from '../../lib/index';
import { report } from '../support/reliability-report';
import {
  DEADLINES,
  HOLDING,
  describeProxied,
  faultOnce,
  heldMs,
  hungSuite,
  watchRetries,
  within,
} from '../support/reliability-streams';
import { createTestQueue, drainQueue } from '../support/sqs-helpers';

const suite = hungSuite();
const COUNT = 25;

describeProxied.each(HOLDING)('a %s', (kind) => {
  it('SendMessageBatch: one deadline, a TimeoutError retry, every acknowledged write arrives', async () => {
    const queueUrl = await createTestQueue({ visibilityTimeout: 30 });
    const { proxy, client } = await suite.proxied();
    faultOnce(proxy, 'SendMessageBatch', kind);
    const sink = suite.track(new SqsWritable({ queueUrl, client, ...DEADLINES }));
    const retries = watchRetries(sink);
    const state = () => ({ stats: sink.stats, retries, counts: proxy.counts, held: proxy.holding });
    const bodies = Array.from({ length: COUNT }, (_, i) => `hs-${kind}-${i}`);
    const written = bodies.map(
      (body) =>
        new Promise<string | undefined>((resolve) =>
          sink.write(body, (error) => resolve(error ? error.name : undefined)),
        ),
    );
    const started = Date.now();
    const ended = new Promise<void>((resolve, reject) =>
      sink.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await within(10_000, 'end()', ended, state);
    const outcomes = await within(1_000, 'the write callbacks', Promise.all(written), state);
    const seconds = (Date.now() - started) / 1000;
    const arrived = await drainQueue(suite.admin, queueUrl, { waitTimeSeconds: 1 });
    const arrivals = new Map<string, number>();
    for (const m of arrived) arrivals.set(m.Body ?? '', (arrivals.get(m.Body ?? '') ?? 0) + 1);
    const duplicates = [...arrivals.values()].reduce((sum, n) => sum + n - 1, 0);
    report(`hung-send-${kind}`, {
      fault: kind,
      action: 'SendMessageBatch',
      messages: COUNT,
      sendRequests: proxy.counts['SendMessageBatch'],
      retries: retries.map((r) => r.name),
      heldMs: heldMs(proxy),
      arrived: arrived.length,
      duplicates,
      seconds,
    });

    expect(proxy.injected[kind]).toBe(1);
    expect(retries.filter((r) => r.name === 'TimeoutError')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== undefined)).toEqual([]);
    expect([...arrivals.keys()].sort()).toEqual([...bodies].sort());
    // SQS never saw a hung or stalled batch; it sent a slow one, and the retry sent it again.
    if (kind === 'slow') expect(duplicates).toBeLessThanOrEqual(10);
    else expect(duplicates).toBe(0);
  });
});
