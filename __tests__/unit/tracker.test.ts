import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type ChangeMessageVisibilityBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { SqsStreamError } from '../../lib/core/errors.js';
import { SqsMessage } from '../../lib/settle/message.js';
import { trackerOf, type TrackerOptions } from '../../lib/settle/tracker.js';
import { mockedTracker } from '../support/mock-tracker.js';
import { advance, deferred, useStreamFakeTimers } from '../support/mock-sqs.js';

afterEach(() => jest.useRealTimers());

function setup(overrides: Partial<TrackerOptions> = {}) {
  const released: string[] = [];
  const setup = mockedTracker({
    onRelease: (message) => released.push(message.messageId),
    ...overrides,
  });
  return { ...setup, released };
}

describe('MessageTracker', () => {
  it('counts held messages from track() until they are settled', async () => {
    useStreamFakeTimers();
    const { tracker, receive, stats } = setup();
    const [a, b, c] = receive(3);
    tracker.track(a!); // twice is once
    expect(tracker.held).toBe(3);
    expect(stats.held).toBe(3);
    expect(tracker.holds(a!)).toBe(true);
    expect(trackerOf(a!)).toBe(tracker);
    const settled = [a!.ack(), b!.nack()];
    expect(tracker.held).toBe(1);
    expect(stats.held).toBe(1);
    await jest.advanceTimersByTimeAsync(20);
    await Promise.all(settled);
    expect(tracker.held).toBe(1);
    void c;
    tracker.close();
  });

  it('releaseAll() releases every held message at once, in batches of 10, and marks them released', async () => {
    useStreamFakeTimers();
    const { tracker, receive, stats, released, visibility, mock } = setup();
    const messages = receive(95);
    const acked = messages[0]!.ack(); // settled: not released
    await tracker.releaseAll(); // no timer needed: releases do not wait for the window
    const calls = visibility();
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 4]);
    expect(calls.every((c) => c.Entries!.every((e) => e.VisibilityTimeout === 0))).toBe(true);
    expect(stats.released).toBe(94);
    expect(released).toHaveLength(94);
    expect(tracker.held).toBe(0);
    expect(stats.held).toBe(0);
    expect(messages.slice(1).every((m) => m.state === 'released')).toBe(true);
    expect(messages[0]!.state).toBe('acked');
    // A released message is not deleted later: ack() says so, and makes no request.
    await expect(messages[1]!.ack()).rejects.toMatchObject({ messageId: messages[1]!.messageId });
    await expect(messages[1]!.nack()).resolves.toBeUndefined(); // the release's own outcome
    await jest.advanceTimersByTimeAsync(20);
    await acked;
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(1);
    tracker.close();
  });

  it('releaseAll() retries transient failures', async () => {
    useStreamFakeTimers();
    const { tracker, receive, mock, stats } = setup();
    mock
      .on(ChangeMessageVisibilityBatchCommand)
      .rejectsOnce(Object.assign(new Error('busy'), { name: 'InternalError', $metadata: {} }))
      .callsFake((input: ChangeMessageVisibilityBatchCommandInput) => ({
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
        Failed: [],
      }));
    receive(3);
    const done = tracker.releaseAll();
    await jest.advanceTimersByTimeAsync(2_000);
    await done;
    expect(stats.released).toBe(3);
    expect(stats.errorsRetried).toBe(1);
    tracker.close();
  });

  it('releaseAll() rejects naming how many could not be released; each message keeps its own outcome', async () => {
    useStreamFakeTimers();
    const { tracker, receive, mock, stats } = setup();
    const [ok, bad, gone] = receive(3);
    mock
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake((input: ChangeMessageVisibilityBatchCommandInput) => {
        const entries = input.Entries ?? [];
        const id = (m: SqsMessage) => entries.find((e) => e.ReceiptHandle === m.receiptHandle)!.Id;
        return {
          Successful: [{ Id: id(ok!) }],
          Failed: [
            { Id: id(bad!), SenderFault: true, Code: 'AccessDenied', Message: 'no' },
            { Id: id(gone!), SenderFault: true, Code: 'ReceiptHandleIsInvalid' },
          ],
        };
      });
    const error = await tracker.releaseAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqsStreamError);
    expect((error as Error).message).toMatch(/Could not release 1 of 3 held messages/);
    expect((error as SqsStreamError).operation).toBe('ChangeMessageVisibilityBatch');
    // nack() of a released message returns its release's outcome.
    await expect(bad!.nack()).rejects.toMatchObject({
      code: 'AccessDenied',
      messageId: bad!.messageId,
    });
    // Already visible again or received elsewhere: nothing to release, no error.
    await expect(gone!.nack()).resolves.toBeUndefined();
    expect(stats.released).toBe(1);
    tracker.close();
  });

  it('releases a message whose heartbeat is in flight only after that extension', async () => {
    useStreamFakeTimers();
    const { tracker, receive, mock, visibility } = setup();
    const beat = deferred<object>();
    mock
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFakeOnce(() => beat.promise)
      .callsFake((input: ChangeMessageVisibilityBatchCommandInput) => ({
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
        Failed: [],
      }));
    const [message] = receive(1);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(visibility()).toHaveLength(1);
    const released = tracker.releaseAll();
    await jest.advanceTimersByTimeAsync(0);
    expect(visibility()).toHaveLength(1);
    beat.resolve({ Successful: [{ Id: '0' }], Failed: [] });
    // The waiting change gets a batch window, armed once the event loop turns.
    await advance(20);
    await released;
    expect(visibility().map((c) => c.Entries![0]!.VisibilityTimeout)).toEqual([30, 0]);
    expect(message!.state).toBe('released');
    tracker.close();
  });

  it('whenIdle() waits for held messages to be settled and for their requests', async () => {
    useStreamFakeTimers();
    const { tracker, receive, mock } = setup();
    const inFlight = deferred<object>();
    mock.on(DeleteMessageBatchCommand).callsFake(() => inFlight.promise);
    const [a, b] = receive(2);
    let idle = false;
    void tracker.whenIdle().then(() => (idle = true));
    const acks = [a!.ack(), b!.ack()];
    await jest.advanceTimersByTimeAsync(1_000);
    expect(tracker.held).toBe(0);
    expect(idle).toBe(false);
    inFlight.resolve({ Successful: [{ Id: '0' }, { Id: '1' }], Failed: [] });
    await jest.advanceTimersByTimeAsync(0);
    await Promise.all(acks);
    expect(idle).toBe(true);
    await tracker.whenIdle();
  });

  it('acks keep working after close() (the stream ended)', async () => {
    useStreamFakeTimers();
    const { tracker, receive, stats } = setup();
    const [message] = receive(1);
    tracker.close();
    const ack = message!.ack();
    await jest.advanceTimersByTimeAsync(20);
    await ack;
    expect(stats.acked).toBe(1);
  });

  it('extend() on a settled message does nothing', async () => {
    useStreamFakeTimers();
    const { tracker, receive, visibility } = setup({ heartbeat: false });
    const [message] = receive(1);
    const ack = message!.ack();
    await message!.extend(60);
    await jest.advanceTimersByTimeAsync(20);
    await ack;
    expect(visibility()).toHaveLength(0);
    tracker.close();
  });
});
