// The stream layer's own cost: an instant in-memory stub client (no HTTP, no SDK serialisation),
// so what is measured is SqsReadable -> SqsAckWritable and nothing else, on one core.
//
//   node bench/overhead.mjs streams 1000000     SqsReadable -> SqsAckWritable (stream.pipeline)
//   node bench/overhead.mjs loop 1000000        the same stub driven by a bare receive/delete loop
//   node bench/overhead.mjs processor 1000000   SqsReadable -> SqsProcessor (a handler that resolves
//       at once, concurrency 10)
//   node bench/overhead.mjs streams 1000000 file:///.../dist/index.mjs   another build
//   node bench/overhead.mjs traced 1000000      one traced request (a DeleteMessageBatch of 10
//       that resolves at once) per "message": the cost of a channel publish, and with --otel
//       of one span
//   node bench/overhead.mjs streams 1000000 --otel   with sqs-streams/otel installed: an SDK
//       (BasicTracerProvider, BatchSpanProcessor, AsyncLocalStorage context, W3C propagator)
//       whose exporter drops the spans, so what is measured is making them
//
// Prints one JSON line: { mode, messages, elapsedMs, cpuMs, msgsPerSec, msgsPerCpuSecond, ... }
// (medians of three passes).
// Add `--cpu-prof` before the script name to see where the time goes.
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { BODY } from './common.mjs';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/bench-stub';

/**
 * An object with `send()`, like SQSClient's: ReceiveMessage resolves at once with as many
 * messages as asked for (fresh ids and handles, the system attributes `All` would bring),
 * DeleteMessageBatch and ChangeMessageVisibilityBatch with every entry Successful.
 */
function createStubClient() {
  let sequence = 0;
  const requests = {};
  const sentTimestamp = String(Date.now());
  const send = (command) => {
    const action = command.constructor.name.replace(/Command$/, '');
    requests[action] = (requests[action] ?? 0) + 1;
    const input = command.input;
    switch (action) {
      case 'ReceiveMessage': {
        const count = input.MaxNumberOfMessages ?? 1;
        const Messages = new Array(count);
        for (let i = 0; i < count; i++) {
          const id = `m-${++sequence}`;
          Messages[i] = {
            MessageId: id,
            ReceiptHandle: `rh-${id}`,
            MD5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
            Body: BODY,
            Attributes: {
              SenderId: 'AIDASTUB',
              SentTimestamp: sentTimestamp,
              ApproximateReceiveCount: '1',
              ApproximateFirstReceiveTimestamp: sentTimestamp,
            },
          };
        }
        return Promise.resolve({ Messages });
      }
      case 'DeleteMessageBatch':
      case 'ChangeMessageVisibilityBatch':
        return Promise.resolve({
          Successful: input.Entries.map((e) => ({ Id: e.Id })),
          Failed: [],
        });
      case 'GetQueueAttributes':
        return Promise.resolve({ Attributes: { VisibilityTimeout: '30' } });
      case 'GetQueueUrl':
        return Promise.resolve({ QueueUrl: QUEUE_URL });
      default:
        return Promise.reject(new Error(`stub client: ${action} not supported`));
    }
  };
  return { send, destroy() {}, config: {}, requests };
}

async function runStreams(messages) {
  const { SqsReadable, SqsAckWritable } = await import(pkg ?? 'sqs-streams');
  const client = createStubClient();
  // Defaults, as a user gets them (heartbeat on); the queue's visibility comes from the stub.
  const source = new SqsReadable({ queueUrl: QUEUE_URL, client, maxMessages: messages });
  await pipeline(source, new SqsAckWritable());
  if (source.stats.acked !== messages) {
    throw new Error(`acked ${source.stats.acked} of ${messages}`);
  }
  return client.requests;
}

/** SqsReadable -> SqsProcessor (a handler that resolves at once, 10 at a time), on the stub. */
async function runProcessor(messages) {
  const { SqsReadable, SqsProcessor } = await import(pkg ?? 'sqs-streams');
  const client = createStubClient();
  const source = new SqsReadable({ queueUrl: QUEUE_URL, client, maxMessages: messages });
  const processor = new SqsProcessor(() => Promise.resolve(), { concurrency: 10 });
  await pipeline(source, processor);
  if (processor.stats.processed !== messages) {
    throw new Error(`processed ${processor.stats.processed} of ${messages}`);
  }
  return client.requests;
}

async function runLoop(messages) {
  const client = createStubClient();
  let done = 0;
  while (done < messages) {
    const out = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: QUEUE_URL,
        MaxNumberOfMessages: Math.min(10, messages - done),
        WaitTimeSeconds: 20,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const batch = out.Messages ?? [];
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: QUEUE_URL,
        Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    done += batch.length;
  }
  return client.requests;
}

/**
 * Installs sqs-streams/otel (of the build `pkg` names, else this package's) with a real SDK whose
 * exporter drops what it is given; returns a function that counts the spans exported so far.
 */
async function installOtel() {
  const { context } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { instrumentSqsStreams } = await import(
    pkg === undefined ? 'sqs-streams/otel' : pkg.replace(/index\.mjs$/, 'otel.mjs')
  );
  let exported = 0;
  const exporter = {
    export(spans, done) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  instrumentSqsStreams({ tracerProvider: provider, propagator: new W3CTraceContextPropagator() });
  return async () => {
    await provider.forceFlush();
    return exported;
  };
}

async function runTraced(calls) {
  const url =
    pkg === undefined ? '../dist/core/diagnostics.js' : new URL('core/diagnostics.js', pkg);
  const { traced } = await import(url);
  const queueUrl = QUEUE_URL;
  for (let i = 0; i < calls; i++) {
    const context = { queueUrl, operation: 'DeleteMessageBatch', messageCount: 10 };
    await traced('delete', context, () => Promise.resolve(undefined));
  }
  return { DeleteMessageBatch: calls };
}

// An optional third argument: the URL of another build's index.mjs (bench/run.mjs --package).
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const [mode = 'streams', count = '200000', pkg] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'));
const spansExported = flags.includes('--otel') ? await installOtel() : undefined;
const messages = Number(count);
const run = { loop: runLoop, traced: runTraced, processor: runProcessor }[mode] ?? runStreams;
// Warm up (JIT, module loading) on a tenth of the work, then measure three passes. The machine
// may be shared: wall-clock speed then depends on what else runs, CPU time much less, so both
// are reported; "per core" is messages per CPU-second of this process (GC threads included).
await run(Math.max(10, Math.round(messages / 10)));
const passes = [];
let requests;
for (let i = 0; i < 3; i++) {
  const cpuAtStart = process.cpuUsage();
  const t0 = performance.now();
  requests = await run(messages);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuAtStart);
  passes.push({ elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 });
}
const median = (values) => [...values].sort((a, b) => a - b)[1];
const elapsedMs = median(passes.map((p) => p.elapsedMs));
const cpuMs = median(passes.map((p) => p.cpuMs));
process.stdout.write(
  `${JSON.stringify({
    mode,
    messages,
    elapsedMs,
    cpuMs,
    msgsPerSec: (messages / elapsedMs) * 1000,
    msgsPerCpuSecond: (messages / cpuMs) * 1000,
    passes,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    requests,
    ...(spansExported === undefined ? {} : { otel: true, spans: await spansExported() }),
  })}\n`,
);
