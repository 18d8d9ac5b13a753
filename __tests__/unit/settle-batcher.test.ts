import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  type DeleteMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { BatchEntryError, SqsStreamError } from '../../lib/core/errors.js';
import { SqsMessage } from '../../lib/settle/message.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';
import { type TrackerOptions } from '../../lib/settle/tracker.js';
import { mockedTracker } from '../support/mock-tracker.js';
import {
  QUEUE_URL,
  advance,
  deferred,
  mockedSqs,
  useStreamFakeTimers,
} from '../support/mock-sqs.js';

afterEach(() => jest.useRealTimers());

function setup(overrides: Partial<TrackerOptions> = {}) {
  const retries: Array<{ error: unknown; attempt: number }> = [];
  const setup = mockedTracker({
    heartbeat: false,
    onRetry: (error, attempt) => retries.push({ error, attempt }),
    ...overrides,
  });
  return { ...setup, retries };
}

function deleteCalls(mock: ReturnType<typeof mockedSqs>['mock']): DeleteMessageBatchCommandInput[] {
  return mock.commandCalls(DeleteMessageBatchCommand).map((call) => call.args[0].input);
}

function visibilityCalls(
  mock: ReturnType<typeof mockedSqs>['mock'],
): ChangeMessageVisibilityBatchCommandInput[] {
  return mock.commandCalls(ChangeMessageVisibilityBatchCommand).map((call) => call.args[0].input);
}

/** Answers a batch: entries whose receipt handle is in `fail` get that failure. */
function answer(fail: Record<string, { Code: string; SenderFault: boolean; Message?: string }>) {
  return (input: { Entries?: Array<{ Id?: string; ReceiptHandle?: string }> }) => {
    const entries = input.Entries ?? [];
    return {
      Successful: entries.filter((e) => !(e.ReceiptHandle! in fail)).map((e) => ({ Id: e.Id })),
      Failed: entries
        .filter((e) => e.ReceiptHandle! in fail)
        .map((e) => ({ Id: e.Id, ...fail[e.ReceiptHandle!] })),
    };
  };
}

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('batching acknowledger', () => {
  it('sends a full batch of 10 at once, without waiting for the window', async () => {
    useStreamFakeTimers();
    const { mock, stats, receive } = setup({ ackBatchWindowMs: 60_000 });
    const messages = receive(25);
    const acks = messages.map((m) => m.ack());
    await jest.advanceTimersByTimeAsync(0);
    expect(deleteCalls(mock).map((c) => c.Entries?.length)).toEqual([10, 10]);
    // The remaining 5 wait for company until the window ends.
    await jest.advanceTimersByTimeAsync(59_999);
    expect(deleteCalls(mock)).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(deleteCalls(mock).map((c) => c.Entries?.length)).toEqual([10, 10, 5]);
    await Promise.all(acks);
    expect(stats.acked).toBe(25);
    expect(stats.deleteRequests).toBe(3);
    expect(stats.held).toBe(0);
    const handles = deleteCalls(mock).flatMap((c) => c.Entries!.map((e) => e.ReceiptHandle));
    expect(new Set(handles)).toEqual(new Set(messages.map((m) => m.receiptHandle)));
  });

  it('leaves no window timer behind a full batch; a later ack gets a whole window', async () => {
    useStreamFakeTimers();
    const { mock, receive } = setup({ ackBatchWindowMs: 1_000 });
    const [first, ...rest] = receive(11);
    const acks = rest.slice(0, 9).map((m) => m.ack());
    acks.unshift(first!.ack());
    await jest.advanceTimersByTimeAsync(0);
    expect(deleteCalls(mock).map((c) => c.Entries?.length)).toEqual([10]);
    await Promise.all(acks);
    // Nothing waits: an idle consumer is not woken up by the first entry's window.
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(600);
    const late = rest[9]!.ack();
    // The window of the first ack would have ended 400 ms from now; this one has its own.
    await jest.advanceTimersByTimeAsync(999);
    expect(deleteCalls(mock)).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(deleteCalls(mock).map((c) => c.Entries?.length)).toEqual([10, 1]);
    await late;
  });

  it('arms no window timer for a batch that fills within one turn of the event loop', async () => {
    // A timer armed and cleared within the turn would still wake an idle process when it was
    // due: Node leaves libuv's timer armed.
    useStreamFakeTimers();
    const windowMs = 1_234;
    const { mock, receive } = setup({ ackBatchWindowMs: windowMs });
    const setTimer = jest.spyOn(global, 'setTimeout');
    const messages = receive(13);
    // A receive's messages through a pipeline: acks a few microtasks apart, in one turn.
    const acks: Array<Promise<void>> = [];
    for (const message of messages.slice(0, 10)) {
      await Promise.resolve();
      acks.push(message.ack());
    }
    await Promise.all(acks);
    expect(deleteCalls(mock).map((c) => c.Entries?.length)).toEqual([10]);
    const windows = (): number => setTimer.mock.calls.filter(([, ms]) => ms === windowMs).length;
    expect(windows()).toBe(0);

    // Acks that do not fill a batch within the turn get the window, measured from the first.
    const late = messages.slice(10).map((m) => m.ack());
    await jest.advanceTimersByTimeAsync(windowMs - 1);
    expect(windows()).toBe(1);
    expect(deleteCalls(mock)).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(deleteCalls(mock).map((c) => c.Entries?.length)).toEqual([10, 3]);
    await Promise.all(late);
    setTimer.mockRestore();
  });

  it('groups acks that arrive within the window into one request', async () => {
    useStreamFakeTimers();
    const { mock, receive } = setup();
    const [a, b, c] = receive(3);
    const acks = [a!.ack()];
    await jest.advanceTimersByTimeAsync(10);
    acks.push(b!.ack(), c!.ack());
    expect(deleteCalls(mock)).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(10);
    expect(deleteCalls(mock).map((call) => call.Entries?.length)).toEqual([3]);
    await Promise.all(acks);
  });

  it('resolves each ack only when SQS confirmed its entry', async () => {
    useStreamFakeTimers();
    const { mock, receive } = setup();
    const held = deferred<object>();
    mock.on(DeleteMessageBatchCommand).callsFake(() => held.promise);
    const [message] = receive(1);
    let done = false;
    void message!.ack().then(() => (done = true));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(deleteCalls(mock)).toHaveLength(1);
    expect(done).toBe(false);
    held.resolve({ Successful: [{ Id: '0' }], Failed: [] });
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
  });

  it('is idempotent: a second ack or nack makes no request and returns the first outcome', async () => {
    useStreamFakeTimers();
    const { mock, stats, receive } = setup();
    const [message] = receive(1);
    const first = message!.ack();
    expect(message!.ack()).toBe(first);
    expect(message!.nack()).toBe(first);
    await jest.advanceTimersByTimeAsync(20);
    await first;
    expect(message!.ack()).toBe(first);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(deleteCalls(mock)).toHaveLength(1);
    expect(visibilityCalls(mock)).toHaveLength(0);
    expect(stats.acked).toBe(1);
  });

  it('nacks with the delay asked for, batched with other visibility changes', async () => {
    useStreamFakeTimers();
    const { mock, stats, receive } = setup();
    const [a, b] = receive(2);
    const nacks = [a!.nack(), b!.nack(120)];
    await jest.advanceTimersByTimeAsync(20);
    await Promise.all(nacks);
    const calls = visibilityCalls(mock);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.Entries!.map((e) => e.VisibilityTimeout)).toEqual([0, 120]);
    expect(stats.released).toBe(2);
    expect(stats.visibilityRequests).toBe(1);
  });

  it('reports confirmed acks and nacks through onAck and onRelease', async () => {
    useStreamFakeTimers();
    const acked: string[] = [];
    const released: string[] = [];
    const { receive } = setup({
      onAck: (m) => acked.push(m.messageId),
      onRelease: (m) => released.push(m.messageId),
    });
    const [a, b] = receive(2);
    const settled = [a!.ack(), b!.nack(5)];
    await jest.advanceTimersByTimeAsync(20);
    await Promise.all(settled);
    expect(acked).toEqual([a!.messageId]);
    expect(released).toEqual([b!.messageId]);
  });

  describe('partial failures', () => {
    it('retries transient entries, surfaces permanent ones, and gives each message its own outcome', async () => {
      useStreamFakeTimers();
      const { mock, stats, receive, retries } = setup();
      const messages = receive(4);
      const [, flaky, gone, bad] = messages as [SqsMessage, SqsMessage, SqsMessage, SqsMessage];
      let round = 0;
      mock.on(DeleteMessageBatchCommand).callsFake((input: DeleteMessageBatchCommandInput) => {
        round++;
        return answer({
          ...(round === 1
            ? { [flaky.receiptHandle]: { Code: 'InternalError', SenderFault: false } }
            : {}),
          [gone.receiptHandle]: {
            Code: 'ReceiptHandleIsInvalid',
            SenderFault: true,
            Message: `The receipt handle "${gone.receiptHandle}" is not valid.`,
          },
          [bad.receiptHandle]: {
            Code: 'InvalidParameterValue',
            SenderFault: true,
            Message: 'Something else is wrong',
          },
        })(input);
      });
      const outcomes = messages.map((m) =>
        m.ack().then(
          () => 'ok',
          (error: unknown) => error,
        ),
      );
      await jest.advanceTimersByTimeAsync(20);
      await jest.advanceTimersByTimeAsync(2_000);
      const [okOutcome, flakyOutcome, goneOutcome, badOutcome] = await Promise.all(outcomes);
      expect(okOutcome).toBe('ok');
      expect(flakyOutcome).toBe('ok');

      expect(goneOutcome).toBeInstanceOf(BatchEntryError);
      const goneError = goneOutcome as BatchEntryError;
      expect(goneError.code).toBe('ReceiptHandleIsInvalid');
      expect(goneError.messageId).toBe(gone.messageId);
      expect(goneError.operation).toBe('DeleteMessageBatch');
      expect(goneError.message).toContain(gone.messageId);
      expect(goneError.message).toMatch(/receipt handle is no longer valid/);
      expect(goneError.message).not.toContain(gone.receiptHandle);
      expect(JSON.stringify(goneError.cause)).not.toContain(gone.receiptHandle);

      expect(badOutcome).toBeInstanceOf(BatchEntryError);
      expect((badOutcome as BatchEntryError).code).toBe('InvalidParameterValue');
      expect((badOutcome as BatchEntryError).messageId).toBe(bad.messageId);
      expect((badOutcome as BatchEntryError).senderFault).toBe(true);

      // First request: 4 entries; the retry carries only the transient one.
      expect(deleteCalls(mock).map((c) => c.Entries!.map((e) => e.ReceiptHandle))).toEqual([
        messages.map((m) => m.receiptHandle),
        [flaky.receiptHandle],
      ]);
      expect(stats.acked).toBe(2);
      expect(stats.errorsRetried).toBe(1);
      expect(retries).toHaveLength(1);
      expect(retries[0]!.attempt).toBe(1);
      expect((retries[0]!.error as SqsStreamError).code).toBe('InternalError');
    });

    it('does not retry an expired receipt handle on a visibility change (MessageNotInflight)', async () => {
      useStreamFakeTimers();
      const { mock, receive } = setup();
      const [message] = receive(1);
      mock
        .on(ChangeMessageVisibilityBatchCommand)
        .callsFake(
          answer({ [message!.receiptHandle]: { Code: 'MessageNotInflight', SenderFault: true } }),
        );
      const nack = message!.nack(30);
      const failed = expect(nack).rejects.toMatchObject({
        name: 'BatchEntryError',
        code: 'MessageNotInflight',
        messageId: message!.messageId,
        message: expect.stringMatching(/no longer in flight/),
      });
      await jest.advanceTimersByTimeAsync(60_000);
      await failed;
      expect(visibilityCalls(mock)).toHaveLength(1);
    });

    it('gives up on a transient entry failure after retry.numOfAttempts', async () => {
      useStreamFakeTimers();
      const { mock, receive, stats } = setup({
        policy: {
          retry: { ...DEFAULT_RETRY, numOfAttempts: 3, maxDelay: 100 },
          requestTimeoutMs: 10_000,
        },
      });
      const [message] = receive(1);
      mock
        .on(DeleteMessageBatchCommand)
        .callsFake(
          answer({ [message!.receiptHandle]: { Code: 'ServiceUnavailable', SenderFault: false } }),
        );
      const ack = message!.ack();
      const failed = expect(ack).rejects.toMatchObject({
        code: 'ServiceUnavailable',
        messageId: message!.messageId,
        message: expect.stringMatching(/after 3 attempts/),
      });
      await jest.advanceTimersByTimeAsync(10_000);
      await failed;
      expect(deleteCalls(mock)).toHaveLength(3);
      expect(stats.errorsRetried).toBe(2);
    });
  });

  describe('whole-request errors', () => {
    it('retries a throttled request with backoff, counting and reporting each retry', async () => {
      useStreamFakeTimers();
      const { mock, receive, stats, retries } = setup();
      mock
        .on(DeleteMessageBatchCommand)
        .rejectsOnce(sdkError('ThrottlingException', 400))
        .rejectsOnce(sdkError('InternalError', 500))
        .callsFake(answer({}));
      const messages = receive(3);
      const acks = messages.map((m) => m.ack());
      await jest.advanceTimersByTimeAsync(20);
      await jest.advanceTimersByTimeAsync(5_000);
      await Promise.all(acks);
      expect(deleteCalls(mock)).toHaveLength(3);
      expect(deleteCalls(mock).every((c) => c.Entries!.length === 3)).toBe(true);
      expect(stats.deleteRequests).toBe(3);
      expect(stats.errorsRetried).toBe(2);
      expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
      expect(stats.acked).toBe(3);
    });

    it('rejects every entry of a request that failed permanently, naming queue and operation', async () => {
      useStreamFakeTimers();
      const { mock, receive } = setup();
      mock.on(DeleteMessageBatchCommand).rejects(sdkError('AccessDenied', 403));
      const messages = receive(2);
      const outcomes = messages.map((m) => m.ack().catch((error: unknown) => error));
      await jest.advanceTimersByTimeAsync(20);
      const errors = await Promise.all(outcomes);
      for (const error of errors) {
        expect(error).toMatchObject({
          name: 'AccessDeniedError',
          operation: 'DeleteMessageBatch',
          queue: QUEUE_URL,
        });
      }
      expect(deleteCalls(mock)).toHaveLength(1);
    });
  });

  it('passes an abort signal with every request; abort() rejects what is not confirmed', async () => {
    useStreamFakeTimers();
    const { mock, receive, tracker } = setup();
    const held = deferred<object>();
    mock.on(DeleteMessageBatchCommand).callsFake(() => held.promise);
    const [a, b] = receive(2);
    const first = a!.ack().catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(20);
    const second = b!.ack().catch((error: unknown) => error);
    const call = mock.commandCalls(DeleteMessageBatchCommand)[0]!;
    const signal = (call.args as unknown[])[1] as { abortSignal: AbortSignal };
    expect(signal.abortSignal).toBeInstanceOf(AbortSignal);
    tracker.abort();
    expect(signal.abortSignal.aborted).toBe(true);
    expect(await first).toMatchObject({ code: 'AbortError', messageId: a!.messageId });
    expect(await second).toMatchObject({ code: 'AbortError', messageId: b!.messageId });
    await tracker.whenIdle();
  });

  it('orders visibility changes per message: a nack waits for an extension in flight', async () => {
    useStreamFakeTimers();
    const { mock, receive } = setup();
    const [message] = receive(1);
    const first = deferred<object>();
    mock
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFakeOnce(() => first.promise)
      .callsFake(answer({}));
    const extended = message!.extend(600);
    await jest.advanceTimersByTimeAsync(20);
    expect(visibilityCalls(mock)).toHaveLength(1);
    const nacked = message!.nack();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(visibilityCalls(mock)).toHaveLength(1);
    first.resolve({ Successful: [{ Id: '0' }], Failed: [] });
    // The waiting change gets a batch window, armed once the event loop turns.
    await advance(20);
    await Promise.all([extended, nacked]);
    expect(visibilityCalls(mock).map((c) => c.Entries![0]!.VisibilityTimeout)).toEqual([600, 0]);
  });

  it('flush() sends what waits without the window and resolves when it completed', async () => {
    useStreamFakeTimers();
    const { mock, receive, tracker } = setup({ ackBatchWindowMs: 60_000 });
    const [a, b] = receive(2);
    const acks = [a!.ack(), b!.nack()];
    await tracker.flush();
    expect(deleteCalls(mock)).toHaveLength(1);
    expect(visibilityCalls(mock)).toHaveLength(1);
    await Promise.all(acks);
    expect(tracker.pending).toBe(0);
  });
});
