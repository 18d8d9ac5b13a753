import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, SqsWritable } from '../../lib/index.js';
import { startSqs, type TestSqs } from '../../lib/testing.js';
import { testEndpoint } from '../support/sqs-helpers.js';

// sqs-streams/testing against a real SQS API: the harness' endpoint handed over as
// SQS_ENDPOINT, and the emulator path in a plain Node process (a Jest test cannot import
// fauxqs), from the build: CI builds before testing, as for the CLI tests.
const ROOT = join(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

describe('startSqs() on the endpoint SQS_ENDPOINT names', () => {
  let sqs: TestSqs;
  const queues: string[] = [];
  const createQueue = async (name: string): Promise<string> => {
    const url = await sqs.createQueue(
      `${name}-${Date.now()}-${queues.length}${name.endsWith('fifo') ? '.fifo' : ''}`,
    );
    queues.push(url);
    return url;
  };

  beforeAll(async () => {
    const { endpoint, region } = testEndpoint();
    sqs = await startSqs({ env: { SQS_ENDPOINT: endpoint, AWS_REGION: region } });
  });

  afterAll(async () => {
    await Promise.all(
      queues.map((QueueUrl) => sqs.client.send(new DeleteQueueCommand({ QueueUrl }))),
    );
    await sqs.stop();
  });

  it('drains what SqsWritable sent, and nothing once SqsReadable acked it all', async () => {
    const queueUrl = await createQueue('testing-std');
    const bodies = Array.from({ length: 25 }, (_, i) => `body-${i}`);

    await pipeline(Readable.from(bodies), new SqsWritable({ client: sqs.client, queueUrl }));
    expect((await sqs.drain(queueUrl)).sort()).toEqual([...bodies].sort());

    await sqs.send(queueUrl, bodies);
    const source = new SqsReadable({ client: sqs.client, queueUrl, idleTimeoutMs: 1_000 });
    await pipeline(source, new SqsAckWritable());
    expect(source.stats).toMatchObject({ received: 25, acked: 25 });
    expect(await sqs.drain(queueUrl)).toEqual([]);
  });

  it('sends to a FIFO queue in order, and drains it in that order', async () => {
    const queueUrl = await createQueue('testing-fifo');
    expect(queueUrl.endsWith('.fifo')).toBe(true);
    const bodies = ['first', 'second', 'second', 'third', 'fourth'];

    await sqs.send(queueUrl, bodies);

    expect(await sqs.drain(queueUrl)).toEqual(bodies); // one group; equal bodies both kept
  });
});

describe('startSqs() without SQS_ENDPOINT, in a plain Node process', () => {
  it('starts fauxqs on loopback for require and import alike, and stop() ends it', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import { connect } from 'node:net';
      import { startSqs } from 'sqs-streams/testing';
      const cjs = createRequire(import.meta.url)('sqs-streams/testing');
      const sqs = await startSqs();
      const queueUrl = await sqs.createQueue('emulated');
      await sqs.send(queueUrl, ['a', 'b', 'c']);
      const drained = await sqs.drain(queueUrl, { waitTimeSeconds: 0 });
      await sqs.stop();
      const port = new URL(sqs.endpoint).port;
      const refused = await new Promise((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        socket.once('connect', () => { socket.destroy(); resolve(false); });
        socket.once('error', () => resolve(true));
      });
      console.log(JSON.stringify({ same: cjs.startSqs === startSqs, endpoint: sqs.endpoint,
        emulator: sqs.emulator, drained: drained.sort(), refused }));
    `;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['SQS_ENDPOINT'];

    const { stdout } = await execFileAsync(
      process.execPath,
      ['--input-type=module', '-e', script],
      {
        cwd: ROOT, // 'sqs-streams/testing' resolves to this package's build (a self-reference)
        env,
        timeout: 30_000,
      },
    );

    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '{}')).toEqual({
      same: true,
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      emulator: true,
      drained: ['a', 'b', 'c'],
      refused: true,
    });
  });
});
