// Soak profile (not in CI): a long run of the demo pipeline, SqsWritable -> queue ->
// SqsReadable -> Transform -> SqsAckWritable, with the memory of this process sampled, to show
// it stays flat (or to explain what grows).
//
//   npm run build && node --expose-gc bench/soak.mjs                  1,000,000 messages
//   node --expose-gc bench/soak.mjs --messages=200000 --out=soak.json  a shorter run
//
// Options: --messages=N (default 1e6)  --backlog=N (most messages sent but not yet acked,
//          default 5000)  --max-minutes=M (default 30; the run stops there, reporting what it
//          did)  --sample-ms=MS (default 2000)  --package=DIR (a built dist/, default <repo>/dist,
//          or SQS_STREAMS_DIST)  --out=FILE (the samples and summary as JSON)
//
// fauxqs 1.9.2 runs in a process of its own (its memory holds the queue, not ours), or
// SQS_ENDPOINT names an endpoint. Producer and consumer run together in this process, the
// producer kept at most `backlog` messages ahead of the acks, so the queue stays small and any
// growth is this process's. With --expose-gc each sample is taken after a full GC, so heapUsed
// is live data, not garbage waiting for collection.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const { CreateQueueCommand, DeleteQueueCommand, SQSClient } = require('@aws-sdk/client-sqs');

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key, value ?? 'true'];
  }),
);
const MESSAGES = Number(args.messages ?? 1_000_000);
const BACKLOG = Number(args.backlog ?? 5_000);
const MAX_MS = Number(args['max-minutes'] ?? 30) * 60_000;
const SAMPLE_MS = Number(args['sample-ms'] ?? 2_000);
const DIST = path.resolve(args.package ?? process.env.SQS_STREAMS_DIST ?? path.join(root, 'dist'));
const { SqsReadable, SqsAckWritable, SqsWritable } = require(path.join(DIST, 'index.js'));
const gc = globalThis.gc;
const MB = 1024 * 1024;
const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;

/** fauxqs in its own process (the harness's script), or the endpoint SQS_ENDPOINT names. */
async function startEndpoint() {
  if (process.env.SQS_ENDPOINT)
    return { endpoint: process.env.SQS_ENDPOINT, pid: undefined, stop: async () => {} };
  const child = fork(path.join(root, '__tests__', 'support', 'fauxqs-server.mjs'), ['0'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = await Promise.race([
    once(child, 'message'),
    sleep(15_000).then(() => {
      throw new Error('fauxqs did not start within 15 s');
    }),
  ]);
  return {
    endpoint: ready.endpoint,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(5_000)]);
    },
  };
}

/** Resident memory of another process, from /proc (Linux), in bytes. */
async function rssOf(pid) {
  if (pid === undefined) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main() {
  const started = Date.now();
  const server = await startEndpoint();
  const client = new SQSClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const { QueueUrl: queueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: `sqs-streams-soak-${Date.now().toString(36)}` }),
  );
  process.stderr.write(
    `soak: ${MESSAGES} messages, backlog <= ${BACKLOG}, endpoint ${server.endpoint}\n`,
  );

  const deadline = started + MAX_MS;
  let stopping = false;
  let timedOut = false;
  const source = new SqsReadable({
    queueUrl,
    client,
    maxMessages: MESSAGES,
    idleTimeoutMs: 30_000,
  });
  const sink = new SqsWritable({ queueUrl, client });
  const body = JSON.stringify({ kind: 'soak', pad: 'x'.repeat(200) });

  // Producer: paced by the acks, so the queue holds at most BACKLOG messages.
  let produced = 0;
  const producer = Readable.from(
    (async function* () {
      while (produced < MESSAGES && !stopping) {
        // Hysteresis: once the backlog is full, wait until half of it was acked, then send a
        // burst (full batches), instead of trickling one message per ack.
        if (produced - source.stats.acked >= BACKLOG) {
          while (produced - source.stats.acked > BACKLOG / 2 && !stopping) await sleep(10);
        }
        produced++;
        yield body;
      }
    })(),
  );
  const sending = pipeline(producer, sink);

  let processed = 0;
  let padChars = 0;
  const processing = new Transform({
    objectMode: true,
    transform(message, _encoding, callback) {
      processed++;
      padChars += JSON.parse(message.body).pad.length; // parse each body, as a real handler would
      callback(null, message);
    },
  });

  const samples = [];
  const takeSample = async () => {
    if (gc) gc();
    const m = process.memoryUsage();
    samples.push({
      t: Math.round((Date.now() - started) / 1000),
      acked: source.stats.acked,
      sent: sink.stats.sent,
      rss: mb(m.rss),
      heapUsed: mb(m.heapUsed),
      heapTotal: mb(m.heapTotal),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
      buffered: source.stats.buffered,
      held: source.stats.held,
      serverRss: mb((await rssOf(server.pid)) ?? 0),
    });
    const s = samples[samples.length - 1];
    process.stderr.write(
      `soak: t=${s.t}s acked=${s.acked} rss=${s.rss}MB heapUsed=${s.heapUsed}MB external=${s.external}MB server=${s.serverRss}MB\n`,
    );
    if (Date.now() > deadline && !stopping) {
      stopping = true;
      timedOut = true;
      process.stderr.write('soak: --max-minutes reached, stopping\n');
      void source.stop();
    }
  };
  await takeSample();
  const sampler = setInterval(() => void takeSample(), SAMPLE_MS);
  const consumeStart = Date.now();
  try {
    await pipeline(source, processing, new SqsAckWritable());
    stopping = true;
    await sending.catch(() => undefined);
  } finally {
    clearInterval(sampler);
  }
  await takeSample();
  const seconds = (Date.now() - consumeStart) / 1000;

  // Flatness: after a warm-up (the first 10% of the messages), how fast does memory grow, per
  // 100,000 messages processed, and how far apart are the first and last thirds?
  const warm = samples.filter((s) => s.acked >= MESSAGES * 0.1);
  const per100k = (key) =>
    Math.round(slope(warm.map((s) => ({ x: s.acked / 100_000, y: s[key] }))) * 100) / 100;
  const third = Math.max(1, Math.floor(warm.length / 3));
  const avg = (list, key) =>
    Math.round((list.reduce((a, s) => a + s[key], 0) / Math.max(1, list.length)) * 10) / 10;
  const summary = {
    messages: MESSAGES,
    acked: source.stats.acked,
    processed,
    parsedPadChars: padChars,
    sent: sink.stats.sent,
    seconds: Math.round(seconds),
    msgsPerSecond: Math.round(source.stats.acked / seconds),
    requests: {
      receive: source.stats.receiveRequests,
      delete: source.stats.deleteRequests,
      visibility: source.stats.visibilityRequests,
      send: sink.stats.sendRequests,
    },
    gcBeforeSamples: Boolean(gc),
    samples: samples.length,
    rss: {
      first: samples[0]?.rss,
      min: Math.min(...samples.map((s) => s.rss)),
      max: Math.max(...samples.map((s) => s.rss)),
      last: samples.at(-1)?.rss,
    },
    heapUsed: {
      min: Math.min(...samples.map((s) => s.heapUsed)),
      max: Math.max(...samples.map((s) => s.heapUsed)),
      last: samples.at(-1)?.heapUsed,
    },
    afterWarmUp: {
      rssFirstThird: avg(warm.slice(0, third), 'rss'),
      rssLastThird: avg(warm.slice(-third), 'rss'),
      heapUsedFirstThird: avg(warm.slice(0, third), 'heapUsed'),
      heapUsedLastThird: avg(warm.slice(-third), 'heapUsed'),
      rssMbPer100k: per100k('rss'),
      heapUsedMbPer100k: per100k('heapUsed'),
      externalMbPer100k: per100k('external'),
    },
    serverRssMb: { first: samples[0]?.serverRss, last: samples.at(-1)?.serverRss },
    timedOut,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (args.out) writeFileSync(args.out, JSON.stringify({ summary, samples }, null, 2));

  await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
  client.destroy();
  await server.stop();
  if (source.stats.acked !== MESSAGES && !timedOut) process.exitCode = 1;
}

// Bounded: whatever happens, the process ends a minute after --max-minutes.
setTimeout(() => {
  process.stderr.write('soak: hard time limit reached\n');
  process.exit(3);
}, MAX_MS + 60_000).unref();

main().catch((error) => {
  process.stderr.write(`soak failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
