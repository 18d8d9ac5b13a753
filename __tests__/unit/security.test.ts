/**
 * No credentials, receipt handles or message bodies in error messages or in the
 * NODE_DEBUG=sqs-streams output. util.debuglog reads NODE_DEBUG once, when the process starts,
 * so the scenarios run in a child process started with it (reliability-leak-scenarios.ts),
 * against a fake SQS that echoes secrets back the way AWS can.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { SECRETS } from '../support/reliability-leak-scenarios';
import { SqsMessage, type MessageSettler } from '../../lib/settle/message';

const ROOT = path.resolve(__dirname, '..', '..');

interface Result {
  errors: Array<{ scenario: string; message: string; inspected: string }>;
  inspectedMessages: string[];
}

let result: Result;
let debugOutput: string;

beforeAll(() => {
  const script = path.join(__dirname, '..', 'support', 'reliability-leak-scenarios.ts');
  const register = `require('ts-node').register({ transpileOnly: true, experimentalResolver: true, project: ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))} });`;
  const child = spawnSync(
    process.execPath,
    ['-e', `${register} require(${JSON.stringify(script)}).run();`],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        NODE_DEBUG: 'sqs-streams',
        NODE_NO_WARNINGS: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  if (child.status !== 0) {
    throw new Error(`leak scenarios exited with ${child.status ?? child.signal}:\n${child.stderr}`);
  }
  result = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as Result;
  debugOutput = child.stderr;
}, 70_000);

const secrets: Array<[string, string]> = [
  ['the access key id', SECRETS.accessKeyId],
  ['the secret access key', SECRETS.secretAccessKey],
  ['the session token', SECRETS.sessionToken],
  ...SECRETS.bodies.map((b, i): [string, string] => [`message body ${i}`, b]),
  ...SECRETS.handles.map((h, i): [string, string] => [`receipt handle ${i}`, h]),
];

describe('secrets stay out of errors and debug output', () => {
  it('ran every scenario, with debug output on', () => {
    expect(result.errors.map((e) => e.scenario)).toEqual([
      'late ack',
      'nack with a whole-request error',
      'ack pipeline',
      'signature error on receive',
      'signature error on send',
      'failed send entry',
      'oversize send',
      'bad character',
      'non-serialisable body',
      'body written to SqsAckWritable',
    ]);
    // NODE_DEBUG took effect: debuglog prefixes its lines with the section and pid.
    expect(debugOutput).toMatch(/SQS-STREAMS \d+:/);
  });

  it.each(secrets)('%s is in no debug output', (_label, secret) => {
    expect(debugOutput).not.toContain(secret);
  });

  it.each(secrets)('%s is in no error message', (_label, secret) => {
    const leaks = result.errors.filter((e) => e.message.includes(secret)).map((e) => e.scenario);
    expect(leaks).toEqual([]);
  });

  it.each(secrets)('%s is in no logged error (util.inspect, causes included)', (_label, secret) => {
    const leaks = result.errors.filter((e) => e.inspected.includes(secret)).map((e) => e.scenario);
    expect(leaks).toEqual([]);
  });

  it('an inspected or logged SqsMessage shows neither body nor receipt handle', () => {
    expect(result.inspectedMessages.length).toBeGreaterThan(0);
    for (const text of result.inspectedMessages) {
      for (const [, secret] of secrets) expect(text).not.toContain(secret);
    }
  });

  it('SqsMessage keeps body and handle out of inspect, but still gives them to code that asks', () => {
    const settler: MessageSettler = {
      ack: () => Promise.resolve(),
      nack: () => Promise.resolve(),
      extend: () => Promise.resolve(),
    };
    const message = new SqsMessage(
      { MessageId: 'm-1', ReceiptHandle: SECRETS.handles[0], Body: SECRETS.bodies[0] },
      'https://sqs.us-east-1.amazonaws.com/1/q',
      settler,
    );
    expect(inspect(message)).not.toContain(SECRETS.bodies[0]);
    expect(inspect(message)).not.toContain(SECRETS.handles[0]);
    expect(message.body).toBe(SECRETS.bodies[0]);
  });
});
