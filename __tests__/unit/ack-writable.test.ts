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
    // A long window: the last 5 must not wait for it, since the burst is over.
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
    sink.end();
    await once(sink, 'finish');
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
