import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { startSqs, type TestSqs } from '../../lib/testing.js';

// sqs-streams/testing with the endpoint from SQS_ENDPOINT and the SDK mocked: what each helper
// asks of SQS, counted. The emulator path runs in __tests__/integration/testing-emulator.test.ts.
const LOCAL = { SQS_ENDPOINT: 'http://localhost:4566' };
const QUEUE = 'http://localhost:4566/000000000000/q';
const FIFO_QUEUE = 'http://localhost:4566/000000000000/q.fifo';

let sqs: TestSqs;
let mock: AwsClientStub<SQSClient>;

beforeEach(async () => {
  sqs = await startSqs({ env: LOCAL });
  mock = mockClient(sqs.client);
});

afterEach(async () => {
  mock.restore();
  await sqs.stop();
});

const sentEntries = (): SendMessageBatchRequestEntry[][] =>
  mock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);

describe('startSqs() with SQS_ENDPOINT', () => {
  it('uses the endpoint SQS_ENDPOINT names, read at each call, with local test credentials', async () => {
    const env: NodeJS.ProcessEnv = {
      SQS_ENDPOINT: 'http://127.0.0.1:1111',
      AWS_REGION: 'eu-west-1',
    };
    const first = await startSqs({ env });
    env['SQS_ENDPOINT'] = 'http://localhost:2222';
    const second = await startSqs({ env });
    try {
      expect([first.endpoint, second.endpoint]).toEqual([
        'http://127.0.0.1:1111',
        'http://localhost:2222',
      ]);
      expect([first.emulator, second.emulator]).toEqual([false, false]);
      expect(await first.client.config.region()).toBe('eu-west-1');
      expect(await first.client.config.credentials()).toMatchObject({ accessKeyId: 'test' });
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('lets clientConfig override what it sets, and keeps the default chain for a remote endpoint', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'from-env', AWS_SECRET_ACCESS_KEY: 'x' });
    const remote = await startSqs({
      env: { SQS_ENDPOINT: 'https://sqs.eu-west-1.amazonaws.com' },
      clientConfig: { maxAttempts: 7 },
    });
    try {
      expect(await remote.client.config.maxAttempts()).toBe(7);
      // No static credentials: the SDK's default chain, here its environment variables.
      expect(await remote.client.config.credentials()).toMatchObject({ accessKeyId: 'from-env' });
    } finally {
      process.env = saved;
      await remote.stop();
    }
  });

  it('destroys the client on stop(), once however often it is called', async () => {
    const destroy = jest.spyOn(sqs.client, 'destroy');
    await sqs.stop();
    await sqs.stop();
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it.each([
    [null, 'Expected `options` to be an object, got `null`'],
    [{ env: 'x' }, 'Expected `env` to be an object, got `x`'],
    [{ env: LOCAL, region: '' }, 'Expected `region` to be a non-empty string, got ``'],
    [{ env: LOCAL, clientConfig: [] }, 'Expected `clientConfig` to be an object, got an array'],
    [{ env: { SQS_ENDPOINT: 'localhost:4566' } }, 'Expected `SQS_ENDPOINT` to be an http(s) URL'],
    [{ env: { SQS_ENDPOINT: 'not a url' } }, 'got `not a url`'],
  ])('rejects bad options: %j', async (options, message) => {
    await expect(startSqs(options as never)).rejects.toThrow(message);
  });
});

describe('createQueue()', () => {
  it('resolves to the URL SQS returned, making a .fifo name a FIFO queue', async () => {
    mock.on(CreateQueueCommand).callsFake(({ QueueName }: { QueueName: string }) => ({
      QueueUrl: `http://localhost:4566/000000000000/${QueueName}`,
    }));

    expect(await sqs.createQueue('q')).toBe(QUEUE);
    expect(await sqs.createQueue('q.fifo', { ContentBasedDeduplication: 'true' })).toBe(FIFO_QUEUE);
    await sqs.createQueue('plain.fifo', { FifoQueue: 'false' });

    const attributes = mock.commandCalls(CreateQueueCommand).map((c) => c.args[0].input.Attributes);
    expect(attributes).toEqual([
      {},
      { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      { FifoQueue: 'false' },
    ]);
  });

  it('rejects a bad name, and an answer without a URL', async () => {
    mock.on(CreateQueueCommand).resolves({});
    await expect(sqs.createQueue('' as string)).rejects.toThrow(
      'Expected `name` to be a non-empty string',
    );
    await expect(sqs.createQueue('q')).rejects.toThrow('CreateQueue q returned no QueueUrl');
  });
});

describe('send()', () => {
  beforeEach(() => {
    mock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('sends in order, 10 a request, one request at a time', async () => {
    const bodies = Array.from({ length: 23 }, (_, i) => `body-${i}`);
    await sqs.send(QUEUE, bodies);

    expect(sentEntries().map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(
      sentEntries()
        .flat()
        .map((entry) => entry.MessageBody),
    ).toEqual(bodies);
    expect(
      sentEntries()
        .flat()
        .some((entry) => entry.MessageGroupId !== undefined),
    ).toBe(false);
  });

  it('starts a new request before a batch would pass 256 KiB', async () => {
    const big = 'x'.repeat(100 * 1024);
    await sqs.send(QUEUE, [big, big, big, 'small']);
    expect(sentEntries().map((entries) => entries.length)).toEqual([2, 2]);
  });

  it('puts FIFO messages in one group, each with its own deduplication id', async () => {
    await sqs.send(FIFO_QUEUE, ['same', 'same', 'other']);
    const entries = sentEntries().flat();
    expect(entries.map((entry) => entry.MessageGroupId)).toEqual(
      Array(3).fill('sqs-streams-testing'),
    );
    expect(new Set(entries.map((entry) => entry.MessageDeduplicationId)).size).toBe(3);
  });

  it('rejects naming the refused entries by index and code, never by body', async () => {
    mock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '1', Code: 'InvalidMessageContents', SenderFault: true }],
    });
    const sending = sqs.send(QUEUE, ['ok', 'secret-body']);
    await expect(sending).rejects.toThrow(
      `SendMessageBatch to ${QUEUE} refused bodies[1]: InvalidMessageContents`,
    );
    await expect(sending).rejects.not.toThrow('secret-body');
  });

  it('rejects what is not an array of strings before any request', async () => {
    await expect(sqs.send(QUEUE, 'one' as never)).rejects.toThrow(
      'Expected `bodies` to be an array of strings, got `one`',
    );
    await expect(sqs.send(QUEUE, ['a', 5] as never)).rejects.toThrow(
      'Expected `bodies[1]` to be a string, got `5`',
    );
    await expect(sqs.send('' as string, [])).rejects.toThrow(
      'Expected `queueUrl` to be a queue URL',
    );
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('drain()', () => {
  const answer = (count: number, from = 0) => ({
    Messages: Array.from({ length: count }, (_, i) => ({
      Body: `b-${from + i}`,
      ReceiptHandle: `rh-${from + i}`,
    })),
  });

  beforeEach(() => {
    mock.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('receives until an empty receive, deletes each batch, and resolves to the bodies in order', async () => {
    mock
      .on(ReceiveMessageCommand)
      .resolvesOnce(answer(10))
      .resolvesOnce(answer(3, 10))
      .resolves({});

    const bodies = await sqs.drain(QUEUE);

    expect(bodies).toEqual(Array.from({ length: 13 }, (_, i) => `b-${i}`));
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(3);
    expect(mock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: QUEUE,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
    });
    const deleted = mock
      .commandCalls(DeleteMessageBatchCommand)
      .map((call) => (call.args[0].input.Entries ?? []).map((entry) => entry.ReceiptHandle));
    expect(deleted).toEqual([
      answer(10).Messages.map((m) => m.ReceiptHandle),
      ['rh-10', 'rh-11', 'rh-12'],
    ]);
  });

  it('stops at maxMessages on a queue that never empties', async () => {
    mock.on(ReceiveMessageCommand).callsFake(() => answer(1));

    expect(await sqs.drain(QUEUE, { maxMessages: 3, waitTimeSeconds: 0 })).toHaveLength(3);
    expect(mock.commandCalls(ReceiveMessageCommand)).toHaveLength(3);
  });

  it('rejects when a delete fails, and on bad options', async () => {
    mock.on(ReceiveMessageCommand).resolves(answer(2));
    mock.on(DeleteMessageBatchCommand).resolves({
      Failed: [{ Id: '0', Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
    });
    await expect(sqs.drain(QUEUE)).rejects.toThrow(
      `DeleteMessageBatch on ${QUEUE} failed for 1 (ReceiptHandleIsInvalid)`,
    );
    await expect(sqs.drain(QUEUE, { waitTimeSeconds: 21 })).rejects.toThrow(
      'Expected `waitTimeSeconds` to be an integer from 0 to 20, got `21`',
    );
    await expect(sqs.drain(QUEUE, { maxMessages: 0 })).rejects.toThrow(
      'to be an integer 1 or more, got `0`',
    );
  });
});

describe('startSqs() without SQS_ENDPOINT, inside a Jest test', () => {
  it('says why it cannot start fauxqs here, and what to do instead', async () => {
    // Jest runs tests in a VM context without import(); fauxqs is an ES module.
    const starting = startSqs({ env: {} });
    await expect(starting).rejects.toThrow(
      /Call startSqs\(\) in Jest globalSetup and set process\.env\.SQS_ENDPOINT/,
    );
  });
});
