import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { STOP_GRACE_MS, SqsReadable } from '../../lib/receive/sqs-readable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import {
  QUEUE_URL,
  fakeMessages,
  mockedSqs,
  receiveFills,
  settle,
  useStreamFakeTimers,
  advance,
} from '../support/mock-sqs.js';

afterEach(() => jest.useRealTimers());

describe('SqsReadable lifecycle', () => {
  it('ends after maxMessages, never asking for more than remain', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      maxMessages: 25,
    });
    const got: SqsMessage[] = [];
    for await (const message of source) got.push(message);
    expect(got).toHaveLength(25);
    const sizes = mock
      .commandCalls(ReceiveMessageCommand)
      .map((c) => c.args[0].input.MaxNumberOfMessages);
    expect(sizes.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(25);
    expect(source.stats.received).toBe(25);
  });

  it('ends once the queue has been empty for idleTimeoutMs, clamping the long poll to it', async () => {
    useStreamFakeTimers();
    const { client, mock } = mockedSqs();
    let calls = 0;
    mock.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => {
      calls++;
      if (calls === 1) return Promise.resolve({ Messages: fakeMessages(3) });
      return new Promise((r) => setTimeout(() => r({}), (input.WaitTimeSeconds ?? 0) * 1000));
    });
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      idleTimeoutMs: 5_000,
    });
    const got: unknown[] = [];
    source.on('data', (m) => got.push(m));
    const ended = once(source, 'end');
    await jest.advanceTimersByTimeAsync(5_000);
    await ended;
    expect(got).toHaveLength(3);
    const waits = mock
      .commandCalls(ReceiveMessageCommand)
      .map((c) => c.args[0].input.WaitTimeSeconds);
    expect(waits).toEqual([5, 5]);
  });

  it('stop() aborts the pending long poll, lets the buffer flow out and ends', async () => {
    const { client } = mockedSqs();
    let receives = 0;
    let aborted = 0;
    jest.spyOn(client, 'send').mockImplementation(((
      command: unknown,
      options?: { abortSignal?: AbortSignal },
    ) => {
      if (!(command instanceof ReceiveMessageCommand))
        return Promise.resolve({ Successful: [], Failed: [] });
      receives++;
      if (receives === 1) return Promise.resolve({ Messages: fakeMessages(5) });
      return new Promise((_resolve, reject) => {
        options?.abortSignal?.addEventListener('abort', () => {
          aborted++;
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
    }) as never);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      highWaterMark: 20,
    });
    source.read(0);
    await settle();
    expect(source.readableLength).toBe(5);
    expect(source.stats.inFlight).toBe(1);
    const stopping = source.stop();
    const got: SqsMessage[] = [];
    source.on('data', (m: SqsMessage) => got.push(m));
    await stopping;
    expect(got).toHaveLength(5);
    expect(aborted).toBe(1);
    expect(receives).toBe(2);
    expect(source.readableEnded).toBe(true);
  });

  it('passes an abort signal to every request and aborts it on destroy', async () => {
    const { client } = mockedSqs();
    const signals: AbortSignal[] = [];
    const send = jest.spyOn(client, 'send').mockImplementation(((
      command: unknown,
      options?: { abortSignal?: AbortSignal },
    ) => {
      if (options?.abortSignal) signals.push(options.abortSignal);
      if (command instanceof ReceiveMessageCommand) {
        return new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
          );
        });
      }
      return Promise.resolve({ Successful: [], Failed: [] });
    }) as never);
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    source.resume();
    await settle();
    expect(signals).toHaveLength(1);
    source.destroy();
    await once(source, 'close');
    expect(signals[0]?.aborted).toBe(true);
    send.mockRestore();
  });

  it('an aborted `signal` destroys the stream with an AbortError', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const controller = new AbortController();
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      heartbeat: false,
      signal: controller.signal,
    });
    source.read(0);
    await settle();
    controller.abort();
    const [error] = (await once(source, 'error')) as [Error];
    expect(error.name).toBe('AbortError');
    expect(source.destroyed).toBe(true);
  });

  it('destroy() releases buffered and in-process messages at once; a natural end does not', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, highWaterMark: 20 });
    source.read(0);
    await settle();
    const inHand = source.read() as SqsMessage;
    expect(inHand).not.toBeNull();
    source.destroy();
    await once(source, 'close');
    const released = mock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released).toHaveLength(20);
    expect(released.every((e) => e.VisibilityTimeout === 0)).toBe(true);
    expect(source.stats.released).toBe(20);
    await expect(inHand.ack()).rejects.toThrow(/released/);

    const second = mockedSqs();
    receiveFills(second.mock);
    const ending = new SqsReadable({ queueUrl: QUEUE_URL, client: second.client, maxMessages: 10 });
    const kept: SqsMessage[] = [];
    for await (const m of ending) kept.push(m);
    expect(second.mock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
    await Promise.all(kept.map((m) => m.ack())); // acks after the stream closed still work
    expect(ending.stats.acked).toBe(10);
  });

  it('destroys a client it built itself, never one passed in', async () => {
    const { client, mock } = mockedSqs();
    mock.on(ReceiveMessageCommand).resolves({});
    const destroyPassed = jest.spyOn(client, 'destroy');
    const passed = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    passed.destroy();
    await once(passed, 'close');
    expect(destroyPassed).not.toHaveBeenCalled();

    const destroyOwn = jest.spyOn(SQSClient.prototype, 'destroy');
    const own = new SqsReadable({
      queueUrl: QUEUE_URL,
      heartbeat: false,
      clientConfig: { region: 'eu-west-1' },
    });
    own.destroy();
    await once(own, 'close');
    expect(destroyOwn).toHaveBeenCalledTimes(1);
    destroyOwn.mockRestore();
  });
});

describe('SqsReadable destroyed while resolving its queue', () => {
  it('closes at once even though GetQueueUrl keeps failing transiently', async () => {
    const { client, mock } = mockedSqs();
    mock
      .on(GetQueueUrlCommand)
      .rejects(Object.assign(new Error('busy'), { name: 'ServiceUnavailable' }));
    const source = new SqsReadable({ queueName: 'never-resolves', client });
    source.resume();
    await settle();
    source.destroy();
    await once(source, 'close');
    expect(source.destroyed).toBe(true);
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });
});

describe('SqsReadable stop() grace', () => {
  afterEach(() => jest.useRealTimers());

  function scriptedClient(answerAfterMs: number | undefined) {
    const { client } = mockedSqs();
    const calls = { receives: 0, aborted: 0 };
    jest.spyOn(client, 'send').mockImplementation(((
      command: unknown,
      options?: { abortSignal?: AbortSignal },
    ) => {
      if (!(command instanceof ReceiveMessageCommand))
        return Promise.resolve({ Successful: [], Failed: [] });
      calls.receives++;
      return new Promise((resolve, reject) => {
        if (answerAfterMs !== undefined)
          setTimeout(() => resolve({ Messages: fakeMessages(3) }), answerAfterMs);
        options?.abortSignal?.addEventListener('abort', () => {
          calls.aborted++;
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
    }) as never);
    return { client, calls };
  }

  it('delivers what a receive in flight returns within the grace instead of aborting it', async () => {
    useStreamFakeTimers();
    const { client, calls } = scriptedClient(400);
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    const got: SqsMessage[] = [];
    source.on('data', (m: SqsMessage) => got.push(m));
    await advance(50);
    expect(calls.receives).toBe(1);
    const stopped = source.stop();
    await advance(500);
    await stopped;
    expect(calls.aborted).toBe(0);
    expect(got).toHaveLength(3);
    expect(calls.receives).toBe(1);
  });

  it('aborts an idle long poll once the grace has passed', async () => {
    useStreamFakeTimers();
    const { client, calls } = scriptedClient(undefined);
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    source.resume();
    await advance(50);
    const stopped = source.stop();
    await advance(STOP_GRACE_MS - 100);
    expect(calls.aborted).toBe(0);
    await advance(200);
    await stopped;
    expect(calls.aborted).toBe(1);
    expect(source.readableEnded).toBe(true);
  });
});
