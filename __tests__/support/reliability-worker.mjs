// A consumer or producer process for the reliability tests: plain Node running the BUILT
// package (dist/, or SQS_STREAMS_DIST), so that it behaves as an application would. (Inside a
// Jest sandbox, Node's socket errors come from another realm and the SDK wraps them into bare
// `Error`s without a code, which no application ever sees.)
//
//   node __tests__/support/reliability-worker.mjs '<json config>'
//
// It reports on stdout, one JSON object a line (stdout to a pipe is synchronous on Linux, so
// every line written before a SIGKILL reaches the parent):
//   {t:'start', pid}                     at once
//   {t:'recv', n}                        each non-empty receive (consume)
//   {t:'got', id, b, rc}                 a message handed to the handler (consume)
//   {t:'ack', id}                        SQS confirmed its delete (consume)
//   {t:'sent', i} / {t:'fail', i, e}     a write's callback (send)
//   {t:'retry', e, a}                    a retried transient error (name/code only)
//   {t:'sigterm'}                        SIGTERM received: stop() called (consume)
//   {t:'done', stats}                    finished cleanly (exit code 0)
//   {t:'error', e, m}                    the stream failed (exit code 1)
// Bounded: exits with code 3 after `maxRunMs`.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { setTimeout } from 'node:timers';

const config = JSON.parse(process.argv[2] ?? '{}');
const require = createRequire(import.meta.url);
const { SQSClient } = require('@aws-sdk/client-sqs');
const { SqsReadable, SqsAckWritable, SqsWritable } = require(join(config.dist, 'index.js'));

const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const nameOf = (error) =>
  `${error?.name ?? 'Error'}${error?.code && error.code !== error.name ? `/${error.code}` : ''}`;

setTimeout(() => {
  say({ t: 'timeout' });
  process.exit(3);
}, config.maxRunMs ?? 120_000).unref();

const client = new SQSClient({
  endpoint: config.endpoint,
  region: config.region ?? 'us-east-1',
  // Local endpoints (fauxqs, LocalStack) take any key; real AWS gets the SDK's default chain.
  ...(config.staticCredentials === false
    ? {}
    : { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  // 1: every injected fault reaches the stream's own retry instead of the SDK's.
  ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
});

async function consume() {
  const source = new SqsReadable({
    queueUrl: config.queueUrl,
    client,
    ...(config.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: config.idleTimeoutMs }),
    ...(config.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: config.waitTimeSeconds }),
    ...(config.visibilityTimeout === undefined
      ? {}
      : { visibilityTimeout: config.visibilityTimeout }),
    retry: { maxDelay: 2_000 },
  });
  source.on('receive', (n) => say({ t: 'recv', n }));
  source.on('ack', (m) => say({ t: 'ack', id: m.messageId }));
  source.on('retry', (error, attempt) => say({ t: 'retry', e: nameOf(error), a: attempt }));
  source.on('heartbeatError', (error) =>
    say({ t: 'heartbeatError', e: nameOf(error), m: error.message }),
  );
  process.once('SIGTERM', () => {
    say({ t: 'sigterm' });
    void source.stop();
  });
  const processMs = config.processMs ?? 0;
  const handler = new Transform({
    objectMode: true,
    highWaterMark: 1,
    transform(message, _encoding, callback) {
      say({ t: 'got', id: message.messageId, b: message.body, rc: message.receiveCount });
      if (processMs > 0) setTimeout(() => callback(null, message), processMs);
      else callback(null, message);
    },
  });
  await pipeline(source, handler, new SqsAckWritable());
  return { ...source.stats };
}

async function send() {
  const sink = new SqsWritable({ queueUrl: config.queueUrl, client, retry: { maxDelay: 2_000 } });
  sink.on('retry', (error, attempt) => say({ t: 'retry', e: nameOf(error), a: attempt }));
  let failed = 0;
  const settled = [];
  for (let i = 0; i < config.count; i++) {
    const body = `${config.bodyPrefix}-${i}`;
    const chunk = config.fifo ? { body, groupId: `g-${i % 8}`, deduplicationId: body } : body;
    settled.push(
      new Promise((resolve) => {
        sink.write(chunk, (error) => {
          if (error) {
            failed++;
            say({ t: 'fail', i, e: nameOf(error) });
          } else {
            say({ t: 'sent', i });
          }
          resolve();
        });
      }),
    );
    if (sink.destroyed) break;
    if (sink.writableNeedDrain) {
      await new Promise((resolve) => {
        sink.once('drain', resolve);
        sink.once('close', resolve);
      });
    }
  }
  await new Promise((resolve, reject) => sink.end((error) => (error ? reject(error) : resolve())));
  await Promise.all(settled);
  return { ...sink.stats, failed };
}

try {
  say({ t: 'start', pid: process.pid });
  if (config.delayStartMs) await sleep(config.delayStartMs);
  const stats = config.role === 'send' ? await send() : await consume();
  say({ t: 'done', stats });
  client.destroy();
  process.exitCode = 0;
} catch (error) {
  say({ t: 'error', e: nameOf(error), m: String(error?.message ?? error) });
  client.destroy();
  process.exitCode = 1;
}
