import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchCommandInput,
  type DeleteMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_ACK_HIGH_WATER_MARK, SqsAckWritable } from '../../lib/settle/ack-writable.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';
import { mockedTracker } from '../support/mock-tracker.js';
import { deferred, mockedSqs, settle, type Deferred } from '../support/mock-sqs.js';

function setup(ackBatchWindowMs = 20) {
  return mockedTracker({
    policy: { retry: DEFAULT_RETRY, requestTimeoutMs: 10_000 },
    ackBatchWindowMs,
    heartbeat: false,
  });
}

/** Holds every DeleteMessageBatch open until the test answers it. */
function holdDeletes(mock: ReturnType<typeof mockedSqs>['mock']) {
  const held: Array<{ input: DeleteMessageBatchCommandInput; reply: Deferred<object> }> = [];
  mock.on(DeleteMessageBatchCommand).callsFake((input: DeleteMessageBatchCommandInput) => {
    const reply = deferred<object>();
    held.push({ input, reply });
    return reply.promise;
  });
  const confirm = (index: number): void => {
    const { input, reply } = held[index]!;
    const output: Partial<DeleteMessageBatchCommandOutput> = {
      Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id! })),
      Failed: [],
    };
    reply.resolve(output);
  };
  return { held, confirm };
}

describe('SqsAckWritable', () => {
  it('turns a burst of 25 writes into 3 DeleteMessageBatch; callbacks wait for SQS', async () => {
    // A long window: the last 5 wait for company until end() says none can come.
    const { mock, receive, stats, deletes } = setup(60_000);
    const { confirm } = holdDeletes(mock);
    const sink = new SqsAckWritable();
    const messages = receive(25);
    const done: string[] = [];
    for (const message of messages) {
      sink.write(message, (error) => {
        if (!error) done.push(message.messageId);
      });
    }
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10, 10]);
    const finished = once(sink, 'finish');
    sink.end();
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10, 10, 5]);
    expect(done).toEqual([]);
    confirm(0);
    confirm(1);
    await settle();
    // One _writev, one callback round: nothing fires until the whole round is confirmed.
    expect(done).toEqual([]);
    confirm(2);
    await settle();
    expect(done).toHaveLength(25);
    expect(stats.acked).toBe(25);
    await finished;
  });

  it('fills a partial batch with the writes that come while its round waits', async () => {
    // A steady flow reaches _writev in rounds of any size: 13, then 7 while the first round's
    // deletes are out. The 3 left over from the first round wait for the next 7, not alone.
    const { mock, receive, deletes } = setup(60_000);
    const { confirm } = holdDeletes(mock);
    const sink = new SqsAckWritable();
    const messages = receive(20);
    for (const message of messages.slice(0, 13)) sink.write(message);
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10]);
    for (const message of messages.slice(13)) sink.write(message);
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10, 10]);
    confirm(0);
    confirm(1);
    sink.end();
    await once(sink, 'finish');
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10, 10]);
  });

  it('sends a partial batch at once when the buffer fills, since nothing can join it', async () => {
    const { mock, receive, deletes } = setup(60_000);
    const { confirm } = holdDeletes(mock);
    const sink = new SqsAckWritable({ highWaterMark: 15 });
    const accepted = receive(15).map((message) => sink.write(message));
    expect(accepted.indexOf(false)).toBe(14);
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10, 5]);
    const drained = once(sink, 'drain');
    confirm(0);
    confirm(1);
    await drained;
    sink.end();
    await once(sink, 'finish');
  });

  it('keeps batches full for writes that ignore backpressure', async () => {
    const { mock, receive, deletes } = setup(60_000);
    const { confirm } = holdDeletes(mock);
    const sink = new SqsAckWritable({ highWaterMark: 5 });
    // The buffer fills at the 5th write: those 5 go; the 20 written past `false` go by tens.
    for (const message of receive(25)) sink.write(message);
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([5, 10, 10]);
    for (let i = 0; i < 3; i++) confirm(i);
    sink.end();
    await once(sink, 'finish');
  });

  it('starts the delete of a message given to end(), behind a round in flight', async () => {
    const { mock, receive, deletes, stats } = setup(60_000);
    const { confirm } = holdDeletes(mock);
    const sink = new SqsAckWritable();
    const messages = receive(11);
    for (const message of messages.slice(0, 10)) sink.write(message);
    await settle();
    // Node buffers the last chunk behind the round in flight, without calling write().
    const finished = once(sink, 'finish');
    sink.end(messages[10]);
    await settle();
    expect(deletes().map((c) => c.Entries!.length)).toEqual([10, 1]);
    confirm(0);
    confirm(1);
    await finished;
    expect(stats.acked).toBe(11);
  });

  it('lets a first write wait one tick for company, so a burst reaches _writev together', async () => {
    const { receive, deletes } = setup();
    const writev = jest.spyOn(SqsAckWritable.prototype, '_writev');
    const write = jest.spyOn(SqsAckWritable.prototype, '_write');
    try {
      const sink = new SqsAckWritable();
      for (const message of receive(3)) sink.write(message);
      sink.end();
      await once(sink, 'finish');
      expect(write).not.toHaveBeenCalled();
      expect(writev).toHaveBeenCalledTimes(1);
      expect(writev.mock.calls[0]![0]).toHaveLength(3);
      expect(deletes().map((c) => c.Entries!.length)).toEqual([3]);
    } finally {
      writev.mockRestore();
      write.mockRestore();
    }
  });

  it('applies backpressure while deletes are unconfirmed (default highWaterMark)', async () => {
    const { mock, receive } = setup();
    const { held, confirm } = holdDeletes(mock);
    const sink = new SqsAckWritable();
    expect(sink.writableHighWaterMark).toBe(DEFAULT_ACK_HIGH_WATER_MARK);
    const count = DEFAULT_ACK_HIGH_WATER_MARK;
    const messages = receive(count);
    const accepted = messages.map((message) => sink.write(message));
    expect(accepted.indexOf(false)).toBe(count - 1);
    await settle();
    // Every delete went out in full batches as the messages were written, and the stream stays
    // full until SQS confirms them.
    expect(held.map((h) => h.input.Entries!.length)).toEqual(Array(count / 10).fill(10));
    expect(sink.writableLength).toBe(count);
    expect(sink.writableNeedDrain).toBe(true);
    const drained = once(sink, 'drain');
    for (let i = 0; i < held.length; i++) confirm(i);
    await drained;
    expect(sink.writableLength).toBe(0);
    sink.end();
    await once(sink, 'finish');
  });

  it('fails a write of something that is not an SqsMessage, naming its type but not its content', async () => {
    setup();
    const sink = new SqsAckWritable();
    const errored = once(sink, 'error');
    let callbackError: unknown;
    sink.write('secret body text', (error) => (callbackError = error));
    const [error] = (await errored) as [Error];
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/expects SqsMessage objects.*got a string/);
    expect(error.message).not.toContain('secret body text');
    expect(callbackError).toBe(error);
  });

  it('names the class of a wrong object', async () => {
    const sink = new SqsAckWritable();
    const errored = once(sink, 'error');
    sink.write(Buffer.from('x'));
    const [error] = (await errored) as [Error];
    expect(error.message).toMatch(/got an instance of Buffer/);
  });

  it('fails the write with the SqsStreamError of a delete SQS refused', async () => {
    const { mock, receive } = setup();
    const [message] = receive(1);
    mock.on(DeleteMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', SenderFault: true, Code: 'ReceiptHandleIsInvalid' }],
    });
    const sink = new SqsAckWritable();
    const errored = once(sink, 'error');
    sink.write(message);
    const [error] = (await errored) as [Error];
    expect(error).toMatchObject({
      name: 'BatchEntryError',
      code: 'ReceiptHandleIsInvalid',
      messageId: message!.messageId,
    });
    // The sink's ack is the message's one settle: asking the message gives the same outcome.
    const asked = message!.ack();
    expect(message!.ack()).toBe(asked);
    await expect(asked).rejects.toBe(error);
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(1);
  });

  it('fails the write of a message its stream released, without a request', async () => {
    const { mock, receive, tracker } = setup();
    const [message] = receive(1);
    await tracker.releaseAll();
    const sink = new SqsAckWritable();
    const errored = once(sink, 'error');
    sink.write(message);
    const [error] = (await errored) as [Error];
    expect(error.message).toContain(`Message ${message!.messageId} was released`);
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(message!.state).toBe('released');
  });

  it('acks through each message’s own tracker, after its source stream has ended', async () => {
    const { receive, stats, deletes, tracker } = setup();
    const messages = receive(25);
    tracker.close(); // the source stream is gone; its tracker still settles
    await pipeline(Readable.from(messages), new SqsAckWritable());
    expect(stats.acked).toBe(25);
    expect(messages.every((m) => m.state === 'acked')).toBe(true);
    const entries = deletes().flatMap((c) => c.Entries!);
    expect(entries).toHaveLength(25);
    expect(deletes().every((c) => c.Entries!.length <= 10)).toBe(true);
    await tracker.whenIdle();
  });

  it('validates its options', () => {
    expect(() => new SqsAckWritable({ highWaterMark: 0 })).toThrow(RangeError);
    expect(() => new SqsAckWritable({ highWaterMark: 'x' as never })).toThrow(TypeError);
    expect(new SqsAckWritable({ highWaterMark: 100 }).writableHighWaterMark).toBe(100);
  });
});
