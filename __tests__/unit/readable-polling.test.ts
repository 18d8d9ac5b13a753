import { ReceiveMessageCommand, type ReceiveMessageCommandInput } from '@aws-sdk/client-sqs';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { QUEUE_URL, fakeMessages, mockedSqs, useStreamFakeTimers } from '../support/mock-sqs.js';

// Invariants 3 and 4: the loop never stalls on an empty receive, long polling keeps an idle
// queue to about 3 receives a minute, and short polling backs off exponentially.

beforeEach(() => useStreamFakeTimers());
afterEach(() => jest.useRealTimers());

/** A long poll that waits its full time when there is nothing, as SQS does. */
function longPollEmpty(input: ReceiveMessageCommandInput): Promise<object> {
  return new Promise((resolve) =>
    setTimeout(() => resolve({}), (input.WaitTimeSeconds ?? 0) * 1000),
  );
}

describe('SqsReadable polling', () => {
  it('long polls for 20 s by default and makes at most 3 receives a minute on an idle queue', async () => {
    const { client, mock } = mockedSqs();
    mock.on(ReceiveMessageCommand).callsFake(longPollEmpty);
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    source.resume();
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    const calls = mock.commandCalls(ReceiveMessageCommand);
    expect(calls[0]?.args[0].input.WaitTimeSeconds).toBe(20);
    // 10 minutes: 30 polls, one more started at the 10-minute mark at most.
    expect(calls.length).toBeGreaterThanOrEqual(30);
    expect(calls.length).toBeLessThanOrEqual(31);
    expect(source.stats.emptyReceives).toBe(calls.length - 1);
    source.destroy();
  });

  it('goes on by itself after empty receives and delivers what arrives later', async () => {
    const { client, mock } = mockedSqs();
    let polls = 0;
    mock.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => {
      polls++;
      if (polls <= 3) return longPollEmpty(input);
      return Promise.resolve({ Messages: fakeMessages(2) });
    });
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      maxMessages: 2,
    });
    const got: string[] = [];
    source.on('data', (m: { messageId: string }) => got.push(m.messageId));
    const ended = new Promise((resolve) => source.once('end', resolve));
    await jest.advanceTimersByTimeAsync(61_000);
    await ended;
    expect(polls).toBe(4);
    expect(got).toHaveLength(2);
    expect(source.stats.emptyReceives).toBe(3);
  });

  it('backs off exponentially between empty short polls and resets on a message', async () => {
    const { client, mock } = mockedSqs();
    let empties = 0;
    let deliverAt = Infinity;
    mock.on(ReceiveMessageCommand).callsFake(() => {
      if (Date.now() >= deliverAt) {
        deliverAt = Infinity;
        return Promise.resolve({ Messages: fakeMessages(1) });
      }
      empties++;
      return Promise.resolve({});
    });
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      waitTimeSeconds: 0,
      emptyBackoff: { jitter: 'none', maxDelay: 3200 },
    });
    source.resume();
    await jest.advanceTimersByTimeAsync(0);
    // Delays 200, 400, 800, 1600, 3200: receives at 0, 0.2, 0.6, 1.4, 3.0, 6.2 s.
    await jest.advanceTimersByTimeAsync(6_199);
    expect(empties).toBe(5);
    await jest.advanceTimersByTimeAsync(1);
    expect(empties).toBe(6);
    // Capped at 3.2 s from here on: 10 more in 32 s.
    await jest.advanceTimersByTimeAsync(32_000);
    expect(empties).toBe(16);
    // A message resets the backoff: the next empty waits only 200 ms again.
    deliverAt = Date.now();
    await jest.advanceTimersByTimeAsync(3_200);
    const afterMessage = empties;
    await jest.advanceTimersByTimeAsync(200);
    expect(empties).toBe(afterMessage + 1);
    source.destroy();
  });

  it('backs off when a long poll comes back empty early (another consumer won the message)', async () => {
    const { client, mock } = mockedSqs();
    mock.on(ReceiveMessageCommand).resolves({});
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      emptyBackoff: { jitter: 'none' },
    });
    source.resume();
    await jest.advanceTimersByTimeAsync(60_000);
    // Immediate empties would be thousands; backoff 200 ms doubling to 20 s allows about 10.
    expect(mock.commandCalls(ReceiveMessageCommand).length).toBeLessThanOrEqual(12);
    source.destroy();
  });

  it('full jitter never waits longer than the exponential value', async () => {
    const { client, mock } = mockedSqs();
    mock.on(ReceiveMessageCommand).resolves({});
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      waitTimeSeconds: 0,
    });
    source.resume();
    await jest.advanceTimersByTimeAsync(0);
    // Without jitter 6 receives fit in 6.2 s; with jitter at least as many do.
    await jest.advanceTimersByTimeAsync(6_200);
    expect(mock.commandCalls(ReceiveMessageCommand).length).toBeGreaterThanOrEqual(6);
    source.destroy();
  });
});
