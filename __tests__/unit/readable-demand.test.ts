import { ReceiveMessageCommand, type ReceiveMessageCommandOutput } from '@aws-sdk/client-sqs';
import { once } from 'node:events';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import {
  QUEUE_URL,
  deferred,
  fakeMessages,
  mockedSqs,
  receiveFills,
  receiveSizes,
  settle,
  type Deferred,
} from '../support/mock-sqs.js';

// Invariants 1 and 2: the buffer never exceeds highWaterMark, receives ask for the unmet demand,
// start only for a full batch or a starving reader, and no more than `concurrency` are in flight.

afterEach(() => jest.useRealTimers());

describe('SqsReadable demand', () => {
  it('fills the buffer to highWaterMark with full batches and no further', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      highWaterMark: 20,
      heartbeat: false,
    });
    source.read(0); // one demand signal, nobody consumes
    await settle();
    expect(receiveSizes(mock)).toEqual([10, 10]);
    expect(source.readableLength).toBe(20);
    expect(source.stats.buffered).toBe(20);
    source.destroy();
  });

  it('sizes a starving receive to the demand and waits for a full batch otherwise', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      highWaterMark: 15,
      heartbeat: false,
    });
    source.read(0);
    await settle();
    // 10, then demand is 5 < a full batch while 10 are buffered: decline.
    expect(receiveSizes(mock)).toEqual([10]);
    for (let i = 0; i < 4; i++) expect(source.read()).not.toBeNull();
    await settle();
    expect(receiveSizes(mock)).toEqual([10]); // demand 9: still below a full batch
    expect(source.read()).not.toBeNull(); // demand reaches 10
    await settle();
    expect(receiveSizes(mock)).toEqual([10, 10]);
    expect(source.readableLength).toBe(15);
    source.destroy();
  });

  it('notices reads after it declined, instead of stalling with a half-empty buffer', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      highWaterMark: 12,
      heartbeat: false,
    });
    const seen: string[] = [];
    source.read(0);
    await settle();
    // Drain synchronously with read(): Node does not call _read again while it thinks a read is
    // pending, so only the stream's own bookkeeping can start the next receive.
    for (let round = 0; round < 5; round++) {
      let m;
      while ((m = source.read()) !== null) seen.push(m.messageId);
      await settle();
    }
    expect(seen.length).toBeGreaterThanOrEqual(40);
    expect(new Set(seen).size).toBe(seen.length);
    expect(Math.max(...receiveSizes(mock))).toBeLessThanOrEqual(10);
    source.destroy();
  });

  it('never buffers more than highWaterMark under a slow paused reader', async () => {
    const { client, mock } = mockedSqs();
    receiveFills(mock);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      highWaterMark: 7,
      batchSize: 3,
      concurrency: 4,
      heartbeat: false,
    });
    let peak = 0;
    source.read(0);
    for (let i = 0; i < 60; i++) {
      await settle(2);
      peak = Math.max(peak, source.readableLength);
      if (i % 3 === 0) source.read();
    }
    expect(peak).toBeLessThanOrEqual(7);
    expect(Math.max(...receiveSizes(mock))).toBeLessThanOrEqual(3);
    expect(source.stats.received - 20).toBeLessThanOrEqual(7); // read 20, hold at most 7 more
    source.destroy();
  });

  it('keeps one receive in flight however many times the consumer reads', async () => {
    const { client, mock } = mockedSqs();
    const pending: Deferred<Partial<ReceiveMessageCommandOutput>>[] = [];
    mock.on(ReceiveMessageCommand).callsFake(() => {
      const d = deferred<Partial<ReceiveMessageCommandOutput>>();
      pending.push(d);
      return d.promise;
    });
    const source = new SqsReadable({ queueUrl: QUEUE_URL, client, heartbeat: false });
    for (let i = 0; i < 50; i++) {
      source.read();
      await settle(1);
    }
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    expect(source.stats.inFlight).toBe(1);
    pending[0]?.resolve({ Messages: fakeMessages(10) });
    await settle();
    // The batch arrived with demand left for one more full batch: exactly one new receive.
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    expect(source.stats.inFlight).toBe(1);
    source.destroy();
    // The mock ignores the abort: answer the receive left, or destroy() waits out its bound.
    pending[1]?.resolve({});
    await once(source, 'close');
  });

  it('keeps at most `concurrency` receives in flight', async () => {
    const { client, mock } = mockedSqs();
    const pending: Deferred<Partial<ReceiveMessageCommandOutput>>[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    mock.on(ReceiveMessageCommand).callsFake(() => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const d = deferred<Partial<ReceiveMessageCommandOutput>>();
      pending.push(d);
      return d.promise.finally(() => inFlight--);
    });
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      concurrency: 3,
      highWaterMark: 100,
      heartbeat: false,
    });
    source.on('data', () => undefined);
    for (let round = 0; round < 10; round++) {
      await settle(2);
      for (const d of pending.splice(0)) d.resolve({ Messages: fakeMessages(10) });
    }
    expect(maxInFlight).toBe(3);
    expect(mock.commandCalls(ReceiveMessageCommand).length).toBeGreaterThan(10);
    source.destroy();
  });
});
