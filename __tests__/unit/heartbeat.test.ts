import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type ChangeMessageVisibilityBatchCommandInput,
} from '@aws-sdk/client-sqs';
import type { SqsStreamError } from '../../lib/core/errors.js';
import { Heartbeat } from '../../lib/settle/heartbeat.js';
import { SqsMessage } from '../../lib/settle/message.js';
import { type TrackerOptions } from '../../lib/settle/tracker.js';
import { mockedTracker } from '../support/mock-tracker.js';
import { QUEUE_URL, deferred, fakeMessages, useStreamFakeTimers } from '../support/mock-sqs.js';

afterEach(() => jest.useRealTimers());

function setup(overrides: Partial<TrackerOptions> = {}) {
  const heartbeatErrors: SqsStreamError[] = [];
  const setup = mockedTracker({
    onHeartbeatError: (error) => heartbeatErrors.push(error),
    ...overrides,
  });
  return { ...setup, calls: setup.visibility, heartbeatErrors };
}

/** Lets the batching window pass (fake time), then waits for the settle. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  await jest.advanceTimersByTimeAsync(20);
  return promise;
}

function handles(input: ChangeMessageVisibilityBatchCommandInput): string[] {
  return (input.Entries ?? []).map((entry) => entry.ReceiptHandle!);
}

describe('heartbeat', () => {
  it('extends held messages nobody has read yet, a third of the timeout before it runs out', async () => {
    useStreamFakeTimers();
    const { receive, calls, stats, tracker } = setup();
    const messages = receive(3);
    expect(stats.held).toBe(3);
    await jest.advanceTimersByTimeAsync(19_999);
    expect(calls()).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls()).toHaveLength(1);
    expect(handles(calls()[0]!)).toEqual(messages.map((m) => m.receiptHandle));
    // Each extension is by the visibility timeout, from now.
    expect(calls()[0]!.Entries!.every((entry) => entry.VisibilityTimeout === 30)).toBe(true);
    // Then every 20 s (30 s timeout, renewed when 10 s are left).
    await jest.advanceTimersByTimeAsync(80_000);
    expect(calls()).toHaveLength(5);
    expect(stats.visibilityRequests).toBe(5);
    tracker.close();
  });

  it('stops extending a message once it is settled', async () => {
    useStreamFakeTimers();
    const { receive, calls, tracker } = setup();
    const [a, b] = receive(2);
    await jest.advanceTimersByTimeAsync(10_000);
    await settle(a!.ack());
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls()).toHaveLength(1);
    expect(handles(calls()[0]!)).toEqual([b!.receiptHandle]);
    await settle(b!.nack());
    const after = calls().length;
    await jest.advanceTimersByTimeAsync(600_000);
    expect(calls()).toHaveLength(after);
    expect(tracker.held).toBe(0);
  });

  it('groups messages whose deadlines are close into one batch, and keeps them together', async () => {
    useStreamFakeTimers();
    const { receive, calls, tracker } = setup();
    const early = receive(3); // deadline 30 s
    await jest.advanceTimersByTimeAsync(4_000);
    const close = receive(2); // deadline 34 s: within the grouping horizon of the first
    await jest.advanceTimersByTimeAsync(8_000);
    const late = receive(2); // deadline 42 s: its own batch
    await jest.advanceTimersByTimeAsync(8_000); // t = 20 s
    expect(calls()).toHaveLength(1);
    expect(handles(calls()[0]!)).toEqual([...early, ...close].map((m) => m.receiptHandle));
    await jest.advanceTimersByTimeAsync(12_000); // t = 32 s: the late ones are due
    expect(calls()).toHaveLength(2);
    expect(handles(calls()[1]!)).toEqual(late.map((m) => m.receiptHandle));
    await jest.advanceTimersByTimeAsync(8_000); // t = 40 s: the first five again, together
    expect(calls()).toHaveLength(3);
    expect(handles(calls()[2]!)).toHaveLength(5);
    tracker.close();
  });

  it('sends full batches of 10 when many messages are due together', async () => {
    useStreamFakeTimers();
    const { receive, calls, tracker } = setup();
    receive(25);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(calls().map((c) => c.Entries!.length)).toEqual([10, 10, 5]);
    tracker.close();
  });

  it('stops at maxHoldSeconds, the last extension cut to reach it exactly', async () => {
    useStreamFakeTimers();
    const { receive, calls } = setup({ maxHoldSeconds: 60 });
    receive(1);
    await jest.advanceTimersByTimeAsync(600_000);
    // At 20 s: +30 (deadline 50 s); at 40 s: +20 (deadline 60 s = the maximum); then nothing.
    expect(calls().map((c) => c.Entries![0]!.VisibilityTimeout)).toEqual([30, 20]);
  });

  it("moves a message's deadline when the consumer extends it", async () => {
    useStreamFakeTimers();
    const { receive, calls, tracker } = setup();
    const [message] = receive(1);
    await jest.advanceTimersByTimeAsync(5_000);
    await settle(message!.extend(120)); // confirmed at ~5 s: deadline 125 s
    expect(calls()).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100_000); // t ~ 105 s
    expect(calls()).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(15_100); // due at 115 s
    expect(calls()).toHaveLength(2);
    expect(calls()[1]!.Entries![0]!.VisibilityTimeout).toBe(30);
    tracker.close();
  });

  it('does nothing with heartbeat: false', async () => {
    useStreamFakeTimers();
    const { receive, calls } = setup({ heartbeat: false });
    receive(5);
    await jest.advanceTimersByTimeAsync(600_000);
    expect(calls()).toHaveLength(0);
  });

  it('close() stops it for good', async () => {
    useStreamFakeTimers();
    const { receive, calls, tracker } = setup();
    receive(5);
    tracker.close();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(calls()).toHaveLength(0);
    expect(tracker.held).toBe(5);
  });

  it('does not keep the process alive (its timer is unref’d)', () => {
    const { receive, tracker } = setup();
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    try {
      receive(3);
      expect(timers()).toBe(before);
    } finally {
      tracker.close();
    }
  });

  describe('racing an ack (sqs-consumer #848)', () => {
    it('drops an extension still waiting for its batch when the message is settled', async () => {
      useStreamFakeTimers();
      const { mock, receive, calls, heartbeatErrors } = setup();
      const throttled = Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
      mock
        .on(ChangeMessageVisibilityBatchCommand)
        .rejectsOnce(throttled)
        .callsFake((input: ChangeMessageVisibilityBatchCommandInput) => ({
          Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
          Failed: [],
        }));
      const [a, b] = receive(2);
      await jest.advanceTimersByTimeAsync(20_000); // heartbeat sent, throttled, waits to retry
      expect(calls()).toHaveLength(1);
      await settle(a!.ack());
      await jest.advanceTimersByTimeAsync(2_000); // the retry
      expect(calls()).toHaveLength(2);
      expect(handles(calls()[1]!)).toEqual([b!.receiptHandle]);
      await settle(b!.ack());
      expect(heartbeatErrors).toEqual([]);
    });

    it('drops the whole retry when every message in it was settled', async () => {
      useStreamFakeTimers();
      const { mock, receive, calls, tracker } = setup();
      mock.on(ChangeMessageVisibilityBatchCommand).rejects(
        Object.assign(new Error('busy'), {
          name: 'ServiceUnavailable',
          $metadata: { httpStatusCode: 503 },
        }),
      );
      const messages = receive(2);
      await jest.advanceTimersByTimeAsync(20_000);
      expect(calls()).toHaveLength(1);
      await settle(Promise.all(messages.map((m) => m.ack())));
      await jest.advanceTimersByTimeAsync(60_000);
      expect(calls()).toHaveLength(1);
      await tracker.whenIdle();
    });

    it('ignores an invalid receipt handle when the message was settled during the extension', async () => {
      useStreamFakeTimers();
      const { mock, receive, calls, heartbeatErrors, stats } = setup();
      const inFlight = deferred<object>();
      mock.on(ChangeMessageVisibilityBatchCommand).callsFake(() => inFlight.promise);
      const [message] = receive(1);
      await jest.advanceTimersByTimeAsync(20_000);
      expect(calls()).toHaveLength(1);
      await settle(message!.ack()); // SQS deletes it while the extension is in flight
      expect(stats.acked).toBe(1);
      inFlight.resolve({
        Successful: [],
        Failed: [
          {
            Id: '0',
            SenderFault: true,
            Code: 'ReceiptHandleIsInvalid',
            Message: `The receipt handle "${message!.receiptHandle}" is not valid.`,
          },
        ],
      });
      await jest.advanceTimersByTimeAsync(60_000);
      expect(heartbeatErrors).toEqual([]);
      expect(calls()).toHaveLength(1);
      expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(1);
    });

    it('reports (never fatally) a failed extension of a message still held, then lets it go', async () => {
      useStreamFakeTimers();
      const { mock, receive, calls, heartbeatErrors, tracker } = setup();
      const [lost, kept] = receive(2);
      mock
        .on(ChangeMessageVisibilityBatchCommand)
        .callsFake((input: ChangeMessageVisibilityBatchCommandInput) => ({
          Successful: (input.Entries ?? [])
            .filter((e) => e.ReceiptHandle !== lost!.receiptHandle)
            .map((e) => ({ Id: e.Id })),
          Failed: (input.Entries ?? [])
            .filter((e) => e.ReceiptHandle === lost!.receiptHandle)
            .map((e) => ({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid' })),
        }));
      await jest.advanceTimersByTimeAsync(20_000);
      expect(heartbeatErrors).toHaveLength(1);
      expect(heartbeatErrors[0]).toMatchObject({
        name: 'BatchEntryError',
        code: 'ReceiptHandleIsInvalid',
        messageId: lost!.messageId,
        operation: 'ChangeMessageVisibilityBatch',
      });
      await jest.advanceTimersByTimeAsync(20_000);
      expect(calls()).toHaveLength(2);
      expect(handles(calls()[1]!)).toEqual([kept!.receiptHandle]);
      expect(tracker.held).toBe(2); // still the consumer's to settle
      tracker.close();
    });
  });
});

describe('Heartbeat scheduler', () => {
  it('keeps one timer, set for the earliest due extension', () => {
    useStreamFakeTimers();
    const due: string[][] = [];
    const heartbeat = new Heartbeat({
      visibilityTimeout: 60,
      maxHoldSeconds: 43_200,
      onDue: (list) => due.push(list.map((d) => d.message.messageId)),
    });
    const [raw] = fakeMessages(1);
    const settler = { ack: jest.fn(), nack: jest.fn(), extend: jest.fn() };
    const message = new SqsMessage(raw!, QUEUE_URL, settler, Date.now());
    heartbeat.add(message);
    expect(heartbeat.nextBeatAt).toBe(message.receivedAt + 40_000);
    expect(jest.getTimerCount()).toBe(1);
    heartbeat.delete(message);
    expect(jest.getTimerCount()).toBe(0);
    heartbeat.stop();
  });

  it('rejects a visibility timeout under one second', () => {
    expect(
      () => new Heartbeat({ visibilityTimeout: 0, maxHoldSeconds: 60, onDue: () => undefined }),
    ).toThrow(RangeError);
  });
});
