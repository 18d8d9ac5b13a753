/**
 * Invariant 10 on the receive path: a ReceiveMessage or a DeleteMessageBatch that hangs
 * (accepted, never answered), stalls (headers, no body) or answers past the deadline costs one
 * deadline (`requestTimeoutMs` beyond the long-poll wait), is retried as a `TimeoutError`, and
 * loses nothing. Counted in requests and messages; time only bounds "did not hang".
 */
import { SqsReadable, type SqsMessage } from '../../lib/index';
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
import {
  approximateCounts,
  createTestQueue,
  drainQueue,
  sendTestMessages,
} from '../support/sqs-helpers';
import type { FaultKind } from '../support/sqs-proxy';

const suite = hungSuite();
const WAIT_SECONDS = 1;

/** Reads the source to its end (maxMessages), acking each message; bounded. */
async function readAndAck(source: SqsReadable, state: () => unknown) {
  const bodies: string[] = [];
  const acks: Promise<void>[] = [];
  const started = Date.now();
  await within(20_000, 'reading every message', readAll(source, bodies, acks), state);
  await within(10_000, 'the acks', Promise.all(acks), state);
  return { bodies, seconds: (Date.now() - started) / 1000 };
}

async function readAll(source: SqsReadable, bodies: string[], acks: Promise<void>[]) {
  for await (const message of source as AsyncIterable<SqsMessage>) {
    bodies.push(message.body);
    acks.push(message.ack());
  }
}

/** A queue with `count` messages, and a source through a proxy that faults the next `action`. */
async function setUp(kind: FaultKind, action: string, count: number, visibilityTimeout: number) {
  const queueUrl = await createTestQueue({ visibilityTimeout });
  const sent = await sendTestMessages(
    suite.admin,
    queueUrl,
    count,
    (i) => `${action}-${kind}-${i}`,
  );
  const { proxy, client } = await suite.proxied();
  faultOnce(proxy, action, kind);
  const source = suite.track(
    new SqsReadable({
      queueUrl,
      client,
      waitTimeSeconds: WAIT_SECONDS,
      visibilityTimeout,
      maxMessages: count,
      ...DEADLINES,
    }),
  );
  const retries = watchRetries(source);
  const { bodies, seconds } = await readAndAck(source, () => ({
    stats: source.stats,
    retries,
    counts: proxy.counts,
    holding: proxy.holding,
  }));
  const timeouts = retries.filter((r) => r.name === 'TimeoutError').length;
  return { queueUrl, sent, proxy, source, retries, bodies, seconds, timeouts, held: heldMs(proxy) };
}

describeProxied.each(HOLDING)('a %s', (kind) => {
  it('ReceiveMessage: one deadline, a TimeoutError retry, every message delivered once and deleted', async () => {
    const t = await setUp(kind, 'ReceiveMessage', 20, 2);
    const deadlineMs = WAIT_SECONDS * 1000 + DEADLINES.requestTimeoutMs;
    report(`hung-receive-${kind}`, {
      fault: kind,
      action: 'ReceiveMessage',
      messages: t.sent.length,
      delivered: t.bodies.length,
      receiveRequests: t.proxy.counts['ReceiveMessage'],
      retries: t.retries.map((r) => r.name),
      deadlineMs,
      heldMs: t.held,
      seconds: t.seconds,
    });

    expect(t.proxy.injected[kind]).toBe(1);
    expect(t.timeouts).toBe(1);
    expect([...t.bodies].sort()).toEqual([...t.sent].sort());
    // The fault cost one deadline, the long-poll wait included (a deadline of requestTimeoutMs
    // alone would cut it at a third), and was not held long past it (generous: shared cores).
    expect(t.held).toHaveLength(1);
    expect(t.held[0]).toBeGreaterThanOrEqual(deadlineMs / 2);
    expect(t.held[0]).toBeLessThan(deadlineMs + 3_000);
    expect(t.source.stats.inFlight).toBe(0);
    const left = await drainQueue(suite.admin, t.queueUrl, { waitTimeSeconds: 1 });
    expect(left.map((m) => m.Body)).toEqual([]);
  });

  it('DeleteMessageBatch: the acks resolve after one deadline, and the messages are gone', async () => {
    const t = await setUp(kind, 'DeleteMessageBatch', 10, 30);
    report(`hung-delete-${kind}`, {
      fault: kind,
      action: 'DeleteMessageBatch',
      messages: t.sent.length,
      deleteRequests: t.proxy.counts['DeleteMessageBatch'],
      retries: t.retries.map((r) => r.name),
      deadlineMs: DEADLINES.requestTimeoutMs,
      heldMs: t.held,
      seconds: t.seconds,
    });

    expect(t.proxy.injected[kind]).toBe(1);
    expect(t.timeouts).toBe(1);
    expect(t.bodies).toHaveLength(t.sent.length);
    expect(t.source.stats.acked).toBe(t.sent.length);
    expect(t.held).toHaveLength(1);
    expect(t.held[0]).toBeGreaterThanOrEqual(DEADLINES.requestTimeoutMs / 2);
    expect(t.held[0]).toBeLessThan(DEADLINES.requestTimeoutMs + 3_000);
    // Deleted, not merely invisible: nothing visible and nothing in flight (timeout 30 s).
    expect(await approximateCounts(suite.admin, t.queueUrl)).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
    });
  });
});
