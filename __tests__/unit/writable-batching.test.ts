import {
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { SqsWritable } from '../../lib/send/sqs-writable.js';

// Issue 4: a burst of writes becomes full SendMessageBatch requests, split by count (<= 10) and
// by bytes (<= 1 MiB of bodies plus attribute names, types and values), with valid, unique ids.

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-send';

function mockedSqs() {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const mock = mockClient(client);
  mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  }));
  return { client, mock };
}

function entriesOf(mock: ReturnType<typeof mockedSqs>['mock']): SendMessageBatchRequestEntry[][] {
  return mock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
}

function write(
  stream: SqsWritable,
  chunk: Parameters<SqsWritable['write']>[0],
): Promise<Error | null> {
  return new Promise((resolve) => stream.write(chunk, (error) => resolve(error ?? null)));
}

describe('SqsWritable batching', () => {
  it('turns a synchronous burst into full batches by count', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const done = Array.from({ length: 25 }, (_, i) => write(sink, `message ${i}`));
    sink.end();
    await finished(sink);
    expect(await Promise.all(done)).toEqual(new Array(25).fill(null));
    const batches = entriesOf(mock);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((e) => e.MessageBody)).toEqual(
      Array.from({ length: 25 }, (_, i) => `message ${i}`),
    );
    expect(mock).toHaveReceivedCommandTimes(SendMessageCommand, 0);
    expect(sink.stats).toMatchObject({ sent: 25, sendRequests: 3, errorsRetried: 0, inFlight: 0 });
  });

  it('gives each entry a valid id, unique in its request', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, batchSize: 7 });
    for (let i = 0; i < 30; i++) sink.write(`m${i}`);
    sink.end();
    await finished(sink);
    for (const batch of entriesOf(mock)) {
      expect(batch.length).toBeLessThanOrEqual(7);
      const ids = batch.map((e) => e.Id ?? '');
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    }
    expect(entriesOf(mock).flat()).toHaveLength(30);
  });

  it('a first write waits a tick for company instead of going out alone', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    sink.write('first');
    await Promise.resolve();
    for (let i = 0; i < 9; i++) sink.write(`more ${i}`);
    sink.end();
    await finished(sink);
    expect(entriesOf(mock).map((b) => b.length)).toEqual([10]);
  });

  it('splits by bytes: bodies plus attribute names, types and values, at most 1 MiB a request', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    // Each of these is exactly 512 KiB as SQS counts it: two fill a request to the byte.
    const half = 524_288;
    const attributes = { k: { DataType: 'String', StringValue: 'abc' } }; // 1 + 6 + 3 bytes
    const exact = { body: 'a'.repeat(half - 10), messageAttributes: attributes };
    const done = [
      write(sink, exact),
      write(sink, exact),
      write(sink, { ...exact, body: 'é'.repeat((half - 10) / 2) }),
    ];
    // One byte more no longer fits with another 512 KiB message.
    done.push(write(sink, { ...exact, body: 'b'.repeat(half - 9) }));
    sink.end();
    await finished(sink);
    expect(await Promise.all(done)).toEqual([null, null, null, null]);
    expect(entriesOf(mock).map((b) => b.length)).toEqual([2, 1, 1]);
  });

  it('packs small messages 10 a request and big ones by bytes', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const big = 'x'.repeat(300 * 1024);
    for (let i = 0; i < 5; i++) sink.write(big); // 3 fit in 1 MiB, then 2
    for (let i = 0; i < 12; i++) sink.write('small');
    sink.end();
    await finished(sink);
    const batches = entriesOf(mock);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(1_048_576);
      expect(batch.length).toBeLessThanOrEqual(10);
    }
    expect(batches.map((b) => b.length)).toEqual([3, 10, 4]);
  });

  it('sends strings as they are and JSON-serialises other bodies, with the entry fields', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    sink.write('plain');
    sink.write({ body: { order: 1, items: ['a'] }, delaySeconds: 5 });
    sink.write({ body: 42, messageAttributes: { n: { DataType: 'Number', StringValue: '7' } } });
    sink.write({ body: 'fair', groupId: 'tenant-1' });
    sink.end();
    await finished(sink);
    const [batch] = entriesOf(mock);
    expect(batch).toEqual([
      { Id: '0', MessageBody: 'plain' },
      { Id: '1', MessageBody: '{"order":1,"items":["a"]}', DelaySeconds: 5 },
      {
        Id: '2',
        MessageBody: '42',
        MessageAttributes: { n: { DataType: 'Number', StringValue: '7' } },
      },
      { Id: '3', MessageBody: 'fair', MessageGroupId: 'tenant-1' },
    ]);
  });

  it('sends only the fields SQS takes from a received message written back (queue to queue)', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    sink.end({
      messageId: 'm-1',
      receiptHandle: 'secret',
      body: 'moved',
      messageAttributes: {
        a: { DataType: 'String', StringValue: 'v', StringListValues: [], BinaryListValues: [] },
      },
    } as never);
    await finished(sink);
    expect(entriesOf(mock)).toEqual([
      [
        {
          Id: '0',
          MessageBody: 'moved',
          MessageAttributes: { a: { DataType: 'String', StringValue: 'v' } },
        },
      ],
    ]);
  });

  it('end() sends the last partial batch and finishes once SQS accepted it', async () => {
    const { client, mock } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client });
    const sent: number[] = [];
    sink.on('sent', (count: number) => sent.push(count));
    await pipeline(Readable.from(Array.from({ length: 23 }, (_, i) => ({ body: { i } }))), sink);
    expect(entriesOf(mock).flat()).toHaveLength(23);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(23);
    expect(sink.stats.sent).toBe(23);
  });

  it('resolves a queueName once, before the first send', async () => {
    const { client, mock } = mockedSqs();
    mock.on(GetQueueUrlCommand).resolves({ QueueUrl: QUEUE_URL });
    const sink = new SqsWritable({ queueName: 'unit-send', client });
    for (let i = 0; i < 15; i++) sink.write(`m${i}`);
    sink.end();
    await finished(sink);
    expect(mock).toHaveReceivedCommandTimes(GetQueueUrlCommand, 1);
    expect(mock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE_URL });
    expect(sink.queueUrl).toBe(QUEUE_URL);
  });
});
