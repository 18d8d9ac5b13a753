// The endpoint the subjects consume from: fauxqs in its own process (or SQS_ENDPOINT), its CPU
// time, and the fresh queues each run fills.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { BODY } from './common.mjs';
import { root } from './run-options.mjs';

export async function startEndpoint() {
  if (process.env.SQS_ENDPOINT) {
    return {
      endpoint: process.env.SQS_ENDPOINT,
      kind: 'env',
      pid: undefined,
      stop: async () => {},
    };
  }
  const child = fork(path.join(root, '__tests__/support/fauxqs-server.mjs'), ['0'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = await once(child, 'message');
  return {
    endpoint: ready.endpoint,
    kind: 'fauxqs',
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

let queueSequence = 0;
const runId = Date.now().toString(36);

export async function createQueue(direct) {
  const name = `bench-${runId}-${++queueSequence}`;
  const out = await direct.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }),
  );
  return out.QueueUrl;
}

/** Fills the queue straight at the endpoint (not through the proxy), with SqsWritable. */
export async function preload(options, direct, queueUrl, count) {
  async function* bodies() {
    for (let i = 0; i < count; i++) yield BODY;
  }
  await pipeline(
    Readable.from(bodies()),
    new (await options.sqsStreams()).SqsWritable({
      queueUrl,
      client: direct,
      maxBatchesInFlight: 8,
    }),
  );
}
