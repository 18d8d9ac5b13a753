import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  queueNameOf,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers.js';

// The built CLI, run as a user runs it: `node dist/cli/main.js ...` in a child process, against
// the harness' endpoint (`--endpoint`). CI builds before testing (`npm test` does too).
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
/** Upper bound on any one CLI run: a hung child is killed and the test fails. */
const RUN_TIMEOUT_MS = 40_000;
// Each test runs the CLI a few times; a project-level `testTimeout` is not applied by Jest.
jest.setTimeout(90_000);

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Called once the child started (e.g. to send it signals). */
  onSpawn?: (child: ChildProcess) => void;
}

function childEnv(): NodeJS.ProcessEnv {
  const endpoint = testEndpoint();
  return {
    ...process.env,
    AWS_REGION: endpoint.region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(endpoint.credentials
      ? {
          AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
        }
      : {}),
  };
}

/** `--endpoint` (and region) for the harness' endpoint, to append to a command. */
function connection(): string[] {
  const endpoint = testEndpoint();
  return ['--endpoint', endpoint.endpoint, '--region', endpoint.region];
}

function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `sqs-streams ${args.join(' ')} ran longer than ${RUN_TIMEOUT_MS} ms; stderr: ${Buffer.concat(stderr).toString()}`,
        ),
      );
    }, RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined); // a child that exits early closes its stdin
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    options.onSpawn?.(child);
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** The `key=value` pairs of the summary line starting with `prefix`. */
function summary(text: string, prefix: string): Record<string, string> {
  // The summary line is `prefix key=value key=value ...`; other lines of the prefix are prose.
  const line = lines(text).find(
    (l) =>
      l.startsWith(`${prefix} `) &&
      /^[\w/-]+=\S*$/.test(l.slice(prefix.length + 1).split(' ')[0] ?? ''),
  );
  if (line === undefined) throw new Error(`no "${prefix}" summary line in:\n${text}`);
  const out: Record<string, string> = {};
  for (const pair of line.slice(prefix.length + 1).split(' ')) {
    const [key, value] = pair.split('=');
    if (key !== undefined && value !== undefined) out[key] = value;
  }
  return out;
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();
const token = (): string => randomBytes(4).toString('hex');

describe('sqs-streams CLI (built, as a child process)', () => {
  let client: SQSClient;

  beforeAll(() => {
    if (!existsSync(CLI)) {
      throw new Error(`${CLI} does not exist: run \`npm run build\` before the integration tests`);
    }
    client = testClient();
  });

  afterAll(async () => {
    await deleteCreatedTestQueues();
    client.destroy();
  });

  it('sends 500 NDJSON lines, then receive --delete --max 500 prints them all and empties the queue', async () => {
    const queueUrl = await createTestQueue();
    const run = token();
    const sent = Array.from({ length: 500 }, (_, i) => ({
      body: `cli-${run}-${i}`,
      messageAttributes: { index: { DataType: 'Number', StringValue: String(i) } },
    }));
    const input = sent.map((message) => JSON.stringify(message)).join('\n') + '\n';

    const send = await runCli(['send', queueUrl, ...connection()], { input });
    expect(send.stderr).toBe('');
    expect(send.code).toBe(0);
    expect(summary(send.stdout, 'send:')).toMatchObject({ sent: '500' });

    const receive = await runCli([
      'receive',
      queueUrl,
      '--delete',
      '--max',
      '500',
      ...connection(),
    ]);
    expect(receive.code).toBe(0);
    const received = lines(receive.stdout).map(
      (line) =>
        JSON.parse(line) as {
          messageId: string;
          body: string;
          attributes: Record<string, string>;
          messageAttributes: Record<string, { DataType: string; StringValue: string }>;
          receiveCount: number;
        },
    );
    expect(received).toHaveLength(500);
    expect(sorted(received.map((m) => m.body))).toEqual(sorted(sent.map((m) => m.body)));
    expect(new Set(received.map((m) => m.messageId)).size).toBe(500);
    for (const message of received) {
      expect(Object.keys(message).sort()).toEqual(
        ['attributes', 'body', 'messageAttributes', 'messageId', 'receiveCount'].sort(),
      );
      expect(message.receiveCount).toBe(1);
      expect(message.messageAttributes['index']).toEqual({
        DataType: 'Number',
        StringValue: message.body.split('-').pop(),
      });
    }
    expect(receive.stdout).not.toMatch(/receiptHandle/i);
    expect(summary(receive.stderr, 'receive:')).toMatchObject({
      received: '500',
      written: '500',
      deleted: '500',
      released: '0',
    });
    // --delete acked every printed message.
    expect(await drainQueue(client, queueUrl, { waitTimeSeconds: 1 })).toHaveLength(0);
  });

  it('moves 200 messages: the source ends empty and the destination has every one', async () => {
    const from = await createTestQueue();
    const to = await createTestQueue();
    const bodies = await sendTestMessages(client, from, 200, (i) => `move-${token()}-${i}`);

    // The destination by name: the CLI resolves it with GetQueueUrl.
    const move = await runCli([
      'move',
      from,
      queueNameOf(to),
      '--idle-timeout',
      '1500',
      '--wait',
      '1',
      ...connection(),
    ]);
    expect(move.code).toBe(0);
    expect(summary(move.stdout, 'move:')).toMatchObject({
      received: '200',
      sent: '200',
      deleted: '200',
      released: '0',
    });

    expect(await drainQueue(client, from, { waitTimeSeconds: 1 })).toHaveLength(0);
    const moved = await drainQueue(client, to, { waitTimeSeconds: 1, maxEmptyReceives: 2 });
    expect(sorted(moved.map((m) => m.Body ?? ''))).toEqual(sorted(bodies));
  });

  it('large payloads: send --s3-bucket offloads, move keeps the pointer, receive --s3-bucket resolves and deletes', async () => {
    const endpoint = testEndpoint();
    const s3 = new S3Client({
      endpoint: endpoint.endpoint,
      region: endpoint.region,
      forcePathStyle: true,
      ...(endpoint.credentials ? { credentials: endpoint.credentials } : {}),
    });
    const bucket = `cli-payloads-${token()}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const from = await createTestQueue({ attributes: { MaximumMessageSize: '1024' } });
    const to = await createTestQueue();
    const big = `big-${token()}-${'x'.repeat(5_000)}`;
    const send = await runCli(['send', from, '--s3-bucket', bucket, ...connection()], {
      input: `${JSON.stringify({ body: big })}\n${JSON.stringify({ body: 'small' })}\n`,
    });
    expect(send.code).toBe(0);
    const move = await runCli([
      'move',
      from,
      to,
      '--idle-timeout',
      '1500',
      '--wait',
      '1',
      ...connection(),
    ]);
    expect(move.code).toBe(0);
    // Moved as a pointer: the same raw body and marker, read back without resolving.
    const peek = await runCli(['receive', to, '--wait', '1', ...connection()]);
    const peeked = lines(peek.stdout).map(
      (l) => JSON.parse(l) as { body: string; messageAttributes: object },
    );
    const pointer = peeked.find((m) =>
      m.body.startsWith('["software.amazon.payloadoffloading.PayloadS3Pointer"'),
    );
    expect(pointer?.messageAttributes).toEqual({
      ExtendedPayloadSize: { DataType: 'Number', StringValue: String(big.length) },
    });
    const received = await runCli([
      'receive',
      to,
      '--delete',
      '--s3-bucket',
      bucket,
      '--idle-timeout',
      '1500',
      '--wait',
      '1',
      ...connection(),
    ]);
    expect(received.code).toBe(0);
    const out = lines(received.stdout).map(
      (l) => JSON.parse(l) as { body: string; payload?: { bucket: string; key: string } },
    );
    expect(sorted(out.map((m) => m.body))).toEqual(sorted([big, 'small']));
    const key = out.find((m) => m.body === big)?.payload?.key as string;
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject(
      {
        name: 'NoSuchKey',
      },
    );
    s3.destroy();
  });

  it('on SIGINT during move finishes what it holds: every message in exactly one queue, none invisible', async () => {
    const from = await createTestQueue();
    const to = await createTestQueue();
    const total = 2000;
    const bodies = await sendTestMessages(client, from, total, (i) => `stop-${token()}-${i}`);

    const move = await runCli(['move', from, to, ...connection()], {
      // Whenever it lands (before, during or after the first batches), the result must hold.
      onSpawn: (child) => setTimeout(() => child.kill('SIGINT'), 900),
    });
    expect(move.code).toBe(0);
    const stats = summary(move.stdout, 'move:');
    expect(stats).toMatchObject({ 'stopped-by': 'SIGINT', released: '0' });
    expect(stats['deleted']).toBe(stats['received']);
    expect(stats['sent']).toBe(stats['received']);

    const drain = { waitTimeSeconds: 1, maxEmptyReceives: 2, maxMessages: total + 100 };
    const left = (await drainQueue(client, from, drain)).map((m) => m.Body ?? '');
    const moved = (await drainQueue(client, to, drain)).map((m) => m.Body ?? '');
    expect(moved).toHaveLength(Number(stats['sent']));
    expect(sorted([...left, ...moved])).toEqual(sorted(bodies));
  });

  it('stops at a bad NDJSON line, naming it, after sending every line before it', async () => {
    const queueUrl = await createTestQueue();
    const run = token();
    const good = Array.from({ length: 30 }, (_, i) => `cli-bad-${run}-${i}`);
    const input = [
      ...good.map((body) => JSON.stringify({ body })),
      'SECRET-BODY-TEXT this is not JSON',
      ...Array.from({ length: 10 }, (_, i) => JSON.stringify({ body: `after-${run}-${i}` })),
    ].join('\n');

    const send = await runCli(['send', queueUrl, ...connection()], { input });
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/line 31: not valid JSON/);
    expect(send.stderr).not.toContain('SECRET-BODY-TEXT');
    expect(summary(send.stdout, 'send:')).toMatchObject({ sent: '30' });

    const arrived = await drainQueue(client, queueUrl, { waitTimeSeconds: 1 });
    expect(sorted(arrived.map((m) => m.Body ?? ''))).toEqual(sorted(good));
  });

  it('stops at a line SqsWritable refuses, naming the line', async () => {
    const queueUrl = await createTestQueue();
    const run = token();
    const input = [
      JSON.stringify({ body: `ok-${run}-1` }),
      JSON.stringify({ body: `ok-${run}-2` }),
      '',
      JSON.stringify({ body: `late-${run}`, delaySeconds: 5000 }),
      JSON.stringify({ body: `after-${run}` }),
    ].join('\n');

    const send = await runCli(['send', queueUrl, ...connection()], { input });
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/line 4: .*delaySeconds/);
    expect(summary(send.stdout, 'send:')).toMatchObject({ sent: '2' });
    const arrived = await drainQueue(client, queueUrl, { waitTimeSeconds: 1 });
    expect(sorted(arrived.map((m) => m.Body ?? ''))).toEqual([`ok-${run}-1`, `ok-${run}-2`]);
  });

  it('on SIGTERM during receive --delete finishes what it holds: none lost, none left invisible', async () => {
    // The queue's own visibility timeout (30 s) is far longer than the check below: a message
    // left invisible would be missing from it.
    const queueUrl = await createTestQueue();
    const total = 300;
    const run = token();
    const pad = 'x'.repeat(1000);
    // ~1 KB a line: the pipe and the parent's buffer fill after ~100 lines.
    const bodies = await sendTestMessages(client, queueUrl, total, (i) => `${run}-${i}-${pad}`);

    let stopAt = 0;
    const receive = await runCli(
      ['receive', queueUrl, '--delete', '--body-only', ...connection()],
      {
        onSpawn: (child) => {
          const stdout = child.stdout as NodeJS.ReadableStream;
          stdout.once('data', () => {
            // Stop reading: stdout backpressure must stop the child receiving.
            stdout.pause();
            setTimeout(() => {
              stopAt = Date.now();
              child.kill('SIGTERM');
              setTimeout(() => stdout.resume(), 300);
            }, 700);
          });
        },
      },
    );
    expect(stopAt).toBeGreaterThan(0);
    expect(receive.signal).toBeNull();
    expect(receive.code).toBe(0);
    expect(receive.stderr).toMatch(/SIGTERM: stopping/);
    const printed = lines(receive.stdout);
    const stats = summary(receive.stderr, 'receive:');
    expect(stats).toMatchObject({ 'stopped-by': 'SIGTERM', released: '0' });
    // Backpressure: it stopped receiving well before the end of the queue...
    expect(printed.length).toBeGreaterThan(0);
    expect(printed.length).toBeLessThan(total);
    // ...and what it received, it wrote and deleted.
    expect(Number(stats['received'])).toBe(printed.length);
    expect(Number(stats['deleted'])).toBe(printed.length);

    const left = await drainQueue(client, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 2 });
    const leftBodies = left.map((m) => m.Body ?? '');
    // Nothing printed is still in the queue (deleted), nothing unprinted is missing (visible).
    expect(leftBodies.filter((body) => printed.includes(body))).toEqual([]);
    expect(sorted([...printed, ...leftBodies])).toEqual(sorted(bodies));
  });

  it('without --delete, a SIGTERM leaves every message visible at once', async () => {
    const queueUrl = await createTestQueue();
    const bodies = await sendTestMessages(client, queueUrl, 50, (i) => `peek-${token()}-${i}`);
    const receive = await runCli(['receive', queueUrl, ...connection()], {
      onSpawn: (child) => {
        (child.stdout as NodeJS.ReadableStream).once('data', () => {
          setTimeout(() => child.kill('SIGTERM'), 300);
        });
      },
    });
    expect(receive.code).toBe(0);
    expect(lines(receive.stdout).length).toBe(50);
    expect(summary(receive.stderr, 'receive:')).toMatchObject({
      deleted: '0',
      released: '50',
      'stopped-by': 'SIGTERM',
    });
    const left = await drainQueue(client, queueUrl, { waitTimeSeconds: 1 });
    expect(sorted(left.map((m) => m.Body ?? ''))).toEqual(sorted(bodies));
  });

  it('when its reader closes stdout, receive --delete releases what it did not write (exit 1)', async () => {
    const queueUrl = await createTestQueue();
    const total = 300;
    const bodies = await sendTestMessages(client, queueUrl, total, (i) => `pipe-${token()}-${i}`);
    let firstChunk = '';
    const receive = await runCli(
      ['receive', queueUrl, '--delete', '--body-only', ...connection()],
      {
        onSpawn: (child) => {
          const stdout = child.stdout as NodeJS.ReadableStream & { destroy(): void };
          stdout.once('data', (chunk: Buffer) => {
            firstChunk = chunk.toString('utf8');
            stdout.destroy(); // like `| head -n 1`: the reader goes away
          });
        },
      },
    );
    expect(receive.code).toBe(1);
    expect(receive.stderr).toMatch(/stdout was closed by its reader \(EPIPE\)/);
    const stats = summary(receive.stderr, 'receive:');
    const deleted = Number(stats['deleted']);
    expect(deleted).toBe(Number(stats['written']));
    expect(Number(stats['released'])).toBe(Number(stats['received']) - deleted);
    expect(lines(firstChunk).length).toBeGreaterThan(0);

    // Every message not deleted is visible again at once (none hidden by a cut receive).
    const left = await drainQueue(client, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 2 });
    expect(left).toHaveLength(total - deleted);
    const leftBodies = new Set(left.map((m) => m.Body ?? ''));
    expect(bodies.filter((body) => !leftBodies.has(body))).toHaveLength(deleted);
  });

  it('exits 2 on usage errors, with a message pointing at --help', async () => {
    const queueUrl = await createTestQueue();
    const usage: string[][] = [
      [],
      ['bogus'],
      ['receive'],
      ['receive', queueUrl, '--max', '0'],
      ['receive', queueUrl, '--wait', '21'],
      ['receive', queueUrl, '--no-such-flag'],
      ['receive', 'not a queue!'],
      ['send', queueUrl, 'extra'],
      ['move', queueUrl],
      ['demo', '--count', 'many'],
    ];
    for (const args of usage) {
      const result = await runCli(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(/error|Usage/);
    }
    const help = await runCli(['receive', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--delete/);
  });

  it('exits 1 with a message that says what to do when the queue does not exist', async () => {
    const result = await runCli([
      'receive',
      `no-such-queue-${token()}`,
      '--max',
      '1',
      ...connection(),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not exist.*Check the queue URL or name/);
  });

  it('runs the demo (embedded emulator) with a small N and reports consistent counts', async () => {
    const demo = await runCli(['demo', '--count', '500']);
    expect(demo.code).toBe(0);
    const stats = summary(demo.stdout, 'demo:');
    expect(stats).toMatchObject({
      sent: '500',
      received: '500',
      acked: '500',
      duplicates: '0',
      missing: '0',
    });
    // Invariant 9 and invariant 1, as the demo measured them.
    expect(Number(stats['requests/msg'])).toBeLessThanOrEqual(0.25);
    expect(Number(stats['peak-buffer'])).toBeLessThanOrEqual(20);
    expect(Number(stats['msgs/s'])).toBeGreaterThan(0);
  });

  it('runs the demo against an endpoint (--endpoint), creating and deleting its own queue', async () => {
    const demo = await runCli(['demo', '--count', '200', ...connection()]);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain(testEndpoint().endpoint);
    expect(summary(demo.stdout, 'demo:')).toMatchObject({
      sent: '200',
      received: '200',
      acked: '200',
      duplicates: '0',
      missing: '0',
    });
  });
});
