/**
 * Runs the streams against a fake SQS (node:http, in this process) that answers with the
 * errors in which secrets can travel: a receipt handle quoted back by SQS, a signature error
 * that echoes the request's credential and session token (as AWS's canonical-string message
 * does), failed entries. Meant for a child process started with NODE_DEBUG=sqs-streams (util's
 * debuglog reads NODE_DEBUG once, at start-up): stderr is then the debug output. Prints one JSON
 * object on stdout: every error the streams raised, as message and as `util.inspect` (what a
 * logger prints, causes included), and the inspected messages.
 *
 *   node -e "require('ts-node').register({ transpileOnly: true, experimentalResolver: true });
 *            require('./__tests__/support/reliability-leak-scenarios.ts').run()"
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, SqsWritable, type SqsMessage } from '../../lib/index';

export const SECRETS = {
  accessKeyId: 'AKIALEAKTESTKEY00001',
  secretAccessKey: 'leak/Test+SecretAccessKey/0000000000001',
  sessionToken: 'LeakTestSessionToken//////////0000000001',
  bodies: ['BODY-SECRET-alpha-0001', 'BODY-SECRET-bravo-0002', 'BODY-SECRET-charlie-0003'],
  handles: ['RH-SECRET-alpha-0001', 'RH-SECRET-bravo-0002'],
} as const;

type Answer = { status: number; body: unknown; errorCode?: string };
type Handler = (
  action: string,
  input: Record<string, unknown>,
  headers: http.IncomingHttpHeaders,
) => Answer;

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

function error(status: number, code: string, message: string): Answer {
  return { status, errorCode: code, body: { __type: `com.amazonaws.sqs#${code}`, message } };
}

async function fakeSqs(handler: Handler): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
        string,
        unknown
      >;
      const answer = handler(action, input, req.headers);
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(text),
        ...(answer.errorCode ? { 'x-amzn-query-error': `${answer.errorCode};Sender` } : {}),
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function client(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: SECRETS.accessKeyId,
      secretAccessKey: SECRETS.secretAccessKey,
      sessionToken: SECRETS.sessionToken,
    },
  });
}

const QUEUE = 'http://127.0.0.1/000000000000/leak-test';
const received = (): Answer => ({
  status: 200,
  body: {
    Messages: SECRETS.handles.map((handle, i) => ({
      MessageId: `mid-${i}`,
      ReceiptHandle: handle,
      Body: SECRETS.bodies[i],
      MD5OfBody: md5(SECRETS.bodies[i] as string),
      Attributes: { ApproximateReceiveCount: '1' },
    })),
  },
});

interface Caught {
  scenario: string;
  message: string;
  inspected: string;
}

async function main(): Promise<void> {
  const errors: Caught[] = [];
  const inspectedMessages: string[] = [];
  const catchFrom = (scenario: string, e: unknown): void => {
    errors.push({
      scenario,
      message: String((e as Error)?.message ?? e),
      inspected: inspect(e, { depth: 6 }),
    });
  };
  const retry = { numOfAttempts: 2, startingDelay: 1, maxDelay: 1 };

  // 1. Receive two messages; SQS refuses their deletes quoting the handle (a late ack), then a
  //    visibility change fails as a whole request, quoting the handle again.
  {
    let receives = 0;
    const sqs = await fakeSqs((action, input) => {
      if (action === 'ReceiveMessage')
        return receives++ === 0 ? received() : { status: 200, body: {} };
      if (action === 'DeleteMessageBatch') {
        const entries = (input.Entries ?? []) as Array<{ Id: string; ReceiptHandle: string }>;
        return {
          status: 200,
          body: {
            Successful: [],
            Failed: entries.map((e) => ({
              Id: e.Id,
              Code: 'ReceiptHandleIsInvalid',
              SenderFault: true,
              Message: `The input receipt handle "${e.ReceiptHandle}" is not a valid receipt handle.`,
            })),
          },
        };
      }
      if (action === 'ChangeMessageVisibilityBatch') {
        const entries = (input.Entries ?? []) as Array<{ ReceiptHandle: string }>;
        return error(
          400,
          'InvalidParameterValue',
          `Value ${entries[0]?.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
        );
      }
      return { status: 200, body: { Attributes: { VisibilityTimeout: '30' } } };
    });
    const c = client(sqs.endpoint);
    const source = new SqsReadable({
      queueUrl: QUEUE,
      client: c,
      waitTimeSeconds: 0,
      maxMessages: 2,
      retry,
    });
    const messages: SqsMessage[] = [];
    source.on('error', (e) => catchFrom('receive', e));
    for await (const m of source) messages.push(m as SqsMessage);
    for (const m of messages)
      inspectedMessages.push(
        inspect(m),
        inspect([m], { depth: 4 }),
        JSON.stringify({ id: m.messageId }),
      );
    await messages[0]?.ack().catch((e: unknown) => catchFrom('late ack', e));
    await messages[1]
      ?.nack()
      .catch((e: unknown) => catchFrom('nack with a whole-request error', e));
    c.destroy();
    await sqs.close();
  }

  // 2. Through SqsAckWritable: the pipeline's error.
  {
    let receives = 0;
    const sqs = await fakeSqs((action, input) => {
      if (action === 'ReceiveMessage')
        return receives++ === 0 ? received() : { status: 200, body: {} };
      if (action === 'DeleteMessageBatch') {
        const entries = (input.Entries ?? []) as Array<{ Id: string; ReceiptHandle: string }>;
        return {
          status: 200,
          body: {
            Successful: [],
            Failed: entries.map((e) => ({
              Id: e.Id,
              Code: 'ReceiptHandleIsInvalid',
              SenderFault: true,
              Message: `The input receipt handle "${e.ReceiptHandle}" is not a valid receipt handle.`,
            })),
          },
        };
      }
      return { status: 200, body: { Attributes: { VisibilityTimeout: '30' } } };
    });
    const c = client(sqs.endpoint);
    const { pipeline } = await import('node:stream/promises');
    await pipeline(
      new SqsReadable({ queueUrl: QUEUE, client: c, waitTimeSeconds: 0, maxMessages: 2, retry }),
      new SqsAckWritable(),
    ).catch((e: unknown) => catchFrom('ack pipeline', e));
    c.destroy();
    await sqs.close();
  }

  // 3. A signature error whose message echoes the request's credential scope and session token,
  //    as AWS's "canonical string" messages do.
  {
    const sqs = await fakeSqs((_action, _input, headers) => {
      const token = String(headers['x-amz-security-token'] ?? '');
      const auth = String(headers['authorization'] ?? '');
      return error(
        403,
        'InvalidSignatureException',
        `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.\n\nThe Canonical String for this request should have been\n'POST\n/\n\nx-amz-security-token:${token}\n'\n\nAuthorization: ${auth}`,
      );
    });
    const c = client(sqs.endpoint);
    const source = new SqsReadable({ queueUrl: QUEUE, client: c, heartbeat: false, retry });
    source.resume();
    await new Promise<void>((resolve) => {
      source.once('error', (e) => {
        catchFrom('signature error on receive', e);
        resolve();
      });
      source.once('close', () => resolve());
    });
    const sink = new SqsWritable({ queueUrl: QUEUE, client: c, retry });
    await new Promise<void>((resolve) => {
      sink.once('error', (e) => {
        catchFrom('signature error on send', e);
        resolve();
      });
      sink.write(SECRETS.bodies[2] as string);
    });
    c.destroy();
    await sqs.close();
  }

  // 4. Sends: a failed entry, an oversize message, a bad character.
  {
    const sqs = await fakeSqs((_action, input) => {
      const entries = (input.Entries ?? []) as Array<{ Id: string }>;
      return {
        status: 200,
        body: {
          Successful: [],
          Failed: entries.map((e) => ({
            Id: e.Id,
            Code: 'InvalidMessageContents',
            SenderFault: true,
            Message: 'Invalid binary character was found in the message body.',
          })),
        },
      };
    });
    const c = client(sqs.endpoint);
    for (const [scenario, chunk] of [
      ['failed send entry', SECRETS.bodies[2] as string],
      ['oversize send', `${SECRETS.bodies[2]}${'x'.repeat(1_048_576)}`],
      ['bad character', `${SECRETS.bodies[2]}\u0000`],
      ['non-serialisable body', { body: { secret: SECRETS.bodies[2], big: 10n } }],
    ] as const) {
      const sink = new SqsWritable({ queueUrl: QUEUE, client: c, retry });
      await new Promise<void>((resolve) => {
        sink.once('error', (e) => {
          catchFrom(scenario, e);
          resolve();
        });
        sink.write(chunk as never, () => undefined);
      });
    }
    // A body written to the ack sink by mistake.
    const ack = new SqsAckWritable();
    await new Promise<void>((resolve) => {
      ack.once('error', (e) => {
        catchFrom('body written to SqsAckWritable', e);
        resolve();
      });
      ack.write(SECRETS.bodies[0]);
    });
    c.destroy();
    await sqs.close();
  }

  process.stdout.write(`${JSON.stringify({ errors, inspectedMessages })}\n`);
}

/** Runs every scenario and prints the result; bounded to 30 s. */
export function run(): void {
  const timer = setTimeout(() => {
    process.stderr.write('leak scenarios timed out\n');
    process.exit(3);
  }, 30_000);
  timer.unref();
  main().then(
    () => undefined,
    (e: unknown) => {
      process.stderr.write(`leak scenarios failed: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
