// One benchmark subject in a process of its own, so CPU time and RSS are its own.
//
//   node bench/subject.mjs '<json config>'   (spawned by bench/run.mjs with an IPC channel)
//
// Config: { subject, concurrency, delayMs, messages, warmup?, settle?, queueUrl, endpoint, mode, pkg? }
//   subject:  'sqs-streams' | 'sqs-streams-wide' | 'sqs-processor' | 'raw' | 'raw-ahead' | 'sqs-consumer' | 'sqs-consumer-batch' | 'squiss' | 'naive'
//   mode:     'throughput' (report 'done' once `warmup + settle + messages` deletes are confirmed,
//             with the time and CPU of the window after the first `warmup + settle`, and of the
//             whole run; { type: 'warm' } once `warmup` are) | 'idle'
//   pkg:      where to import sqs-streams from (default: the package itself, i.e. dist/)
//
// Protocol: child -> { type: 'ready' }; parent -> { type: 'start' }; child -> { type: 'done', ... }
// (throughput); parent -> { type: 'stop' }; child -> { type: 'stopped', ... } and exits.
//
// Every subject gets the same SDK client setup, and the same meter: a middleware on the client
// counts the messages each ReceiveMessage returned and each delete SQS confirmed, whatever the
// library does with them, and the processing stage counts what it started and finished.
/* global AbortController */
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createClient, mainThreadSwitches, procCpuMs } from './common.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const { subject, concurrency, delayMs, messages, queueUrl, endpoint, mode } = config;
const warmup = config.warmup ?? 0;
/** Consumed after the warm-up (once the runner set the scenario's RTT), before the window opens. */
const settle = config.settle ?? 0;
const target = warmup + settle + messages;

const meter = {
  received: 0,
  started: 0,
  processed: 0,
  deleted: 0,
  duplicates: 0,
  /** Most messages received and not yet processed (waiting or being processed), at any time. */
  peakHeld: 0,
  /** Most messages received and not yet handed to the processing stage, at any time. */
  peakWaiting: 0,
  /** sqs-streams only: most messages in SqsReadable's own buffer (received, not yet read). */
  peakBuffered: 0,
  highWaterMark: undefined,
  receivesEmpty: 0,
  receiveRequests: 0,
};
const seen = new Set();
let startedAt = 0;
let cpuAtStart;
/** When the measured window opened: the warm-up's last delete confirmed (the start without one). */
let windowAt = 0;
let cpuAtWindow;
let mainCpuAtWindow;
let switchesAtWindow;
let doneSent = false;

function send(message, callback) {
  if (process.send) process.send(message, callback);
  else callback?.();
}

function onReceived(count) {
  meter.receiveRequests++;
  if (count === 0) meter.receivesEmpty++;
  meter.received += count;
  meter.peakHeld = Math.max(meter.peakHeld, meter.received - meter.processed);
  meter.peakWaiting = Math.max(meter.peakWaiting, meter.received - meter.started);
}

const cpuMsSince = (start) => {
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / 1000;
};

/** The kernel's share, and the main thread's (`undefined` without /proc). */
const cpuSplitSince = (start, mainStart) => {
  const mainNow = procCpuMs(process.pid, process.pid);
  return {
    systemMs: process.cpuUsage(start).system / 1000,
    mainThreadMs:
      mainStart === undefined || mainNow === undefined ? undefined : mainNow - mainStart,
  };
};

const switchesSince = (start) => {
  const now = mainThreadSwitches();
  if (start === undefined || now === undefined) return undefined;
  return {
    voluntary: now.voluntary - start.voluntary,
    involuntary: now.involuntary - start.involuntary,
  };
};

function onDeleted(count) {
  const before = meter.deleted;
  meter.deleted += count;
  if (mode !== 'throughput') return;
  // The runner switches the proxy to the scenario's RTT; what is in flight then drains first.
  if (before < warmup && meter.deleted >= warmup) send({ type: 'warm' });
  if (before < warmup + settle && meter.deleted >= warmup + settle) {
    windowAt = performance.now();
    cpuAtWindow = process.cpuUsage();
    mainCpuAtWindow = procCpuMs(process.pid, process.pid);
    switchesAtWindow = mainThreadSwitches();
  }
  if (!doneSent && meter.deleted >= target) {
    doneSent = true;
    const now = performance.now();
    send({
      type: 'done',
      elapsedMs: now - windowAt,
      cpuMs: cpuMsSince(cpuAtWindow),
      cpuSplit: cpuSplitSince(cpuAtWindow, mainCpuAtWindow),
      switches: switchesSince(switchesAtWindow),
      wholeElapsedMs: now - startedAt,
      wholeCpuMs: cpuMsSince(cpuAtStart),
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      meter: { ...meter },
      extra: extraStats(),
    });
  }
}

/** When each ReceiveMessage call started (ms after 'start'); kept in idle mode only. */
const receiveStarts = [];

/** Counts what each request did, at the SDK's outermost step (once per call, retries inside). */
function instrument(client) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (mode === 'idle' && context.commandName === 'ReceiveMessageCommand') {
        receiveStarts.push(performance.now() - startedAt);
      }
      const result = await next(args);
      switch (context.commandName) {
        case 'ReceiveMessageCommand':
          onReceived(result.output.Messages?.length ?? 0);
          break;
        case 'DeleteMessageBatchCommand':
          onDeleted(result.output.Successful?.length ?? 0);
          break;
        case 'DeleteMessageCommand':
          onDeleted(1);
          break;
        default:
          break;
      }
      return result;
    },
    { step: 'initialize', name: 'benchMeter' },
  );
  return client;
}

/** The processing stage, the same for every subject: an async per-message delay. */
const work = delayMs > 0 ? () => sleep(delayMs) : () => Promise.resolve();

async function handle(messageId) {
  meter.started++;
  await work();
  if (seen.has(messageId)) meter.duplicates++;
  else seen.add(messageId);
  meter.processed++;
}

let extraStats = () => undefined;

/** An SqsReadable on the instrumented client, its buffer's peak and its stats in the meter. */
async function meteredSource(highWaterMark) {
  const { SqsReadable } = await import(config.pkg ?? 'sqs-streams');
  const client = instrument(createClient(endpoint));
  const source = new SqsReadable({ queueUrl, client, concurrency, highWaterMark });
  meter.highWaterMark = source.readableHighWaterMark;
  // Exact peak of the readable's buffer: sampled right after every push.
  const push = source.push.bind(source);
  source.push = (chunk) => {
    const more = push(chunk);
    if (source.readableLength > meter.peakBuffered) meter.peakBuffered = source.readableLength;
    return more;
  };
  extraStats = () => ({ ...source.stats });
  return source;
}

/** A metered SqsReadable -> `map()` at `mapConcurrency` -> SqsAckWritable; returns its stop(). */
async function mapPipeline(highWaterMark, mapConcurrency) {
  const { SqsAckWritable } = await import(config.pkg ?? 'sqs-streams');
  const source = await meteredSource(highWaterMark);
  const processing = source.map(
    async (message) => {
      await handle(message.messageId);
      return message;
    },
    { concurrency: mapConcurrency },
  );
  const done = pipeline(processing, new SqsAckWritable());
  return async () => {
    await source.stop();
    await done;
  };
}

/** Each subject: start() begins consuming; the returned stop() ends it cleanly. */
const subjects = {
  /**
   * SqsReadable -> a concurrent processing stage -> SqsAckWritable, with stream.pipeline. Node's
   * own concurrent map: up to a full batch per receive slot processed at once, which is what the
   * raw loop does (10 messages per in-flight receive); the readable's default highWaterMark.
   */
  async 'sqs-streams'() {
    return mapPipeline(undefined, 10 * concurrency);
  },

  /**
   * Only with --only: the same pipeline holding and running as many messages as squiss-ts does
   * (its maxInFlight of 100 per instance, each handled at once): highWaterMark and the map
   * stage's concurrency at 100 per receive slot. It measures how much of squiss-ts' lead at 0 ms
   * RTT is that prefetch (bench/notes.md).
   */
  async 'sqs-streams-wide'() {
    return mapPipeline(100 * concurrency, 100 * concurrency);
  },

  /** SqsReadable -> SqsProcessor (runs the processing stage, acks when it resolves). */
  async 'sqs-processor'() {
    const { SqsProcessor } = await import(config.pkg ?? 'sqs-streams');
    const source = await meteredSource();
    // As many handlers at once as the map stage above and the raw loop run.
    const processor = new SqsProcessor((message) => handle(message.messageId), {
      concurrency: 10 * concurrency,
    });
    const done = pipeline(source, processor);
    return async () => {
      await source.stop();
      await done;
    };
  },

  /**
   * The raw-SDK ceiling: `concurrency` bare loops of ReceiveMessage(10, long poll) -> process
   * the batch -> DeleteMessageBatch, the delete not holding up the next receive.
   */
  async raw() {
    return rawLoop(false);
  },

  /**
   * The raw loop with one receive ahead: the next ReceiveMessage goes out before the batch is
   * processed, as a pipelined consumer's does. Only with `--only`: it measures what that overlap
   * alone costs on this machine (bench/notes.md).
   */
  async 'raw-ahead'() {
    return rawLoop(true);
  },

  /** sqs-consumer's handleMessage (batchSize 10): one DeleteMessage per message. */
  async 'sqs-consumer'() {
    return startConsumers((message) => handle(message.MessageId).then(() => message), false);
  },

  /** sqs-consumer's handleMessageBatch (batchSize 10): one DeleteMessageBatch per receive. */
  async 'sqs-consumer-batch'() {
    return startConsumers(async (batch) => {
      await Promise.all(batch.map((m) => handle(m.MessageId)));
      return batch;
    }, true);
  },

  /** squiss-ts 5 with its defaults (maxInFlight 100, deletes batched by 10 or after 2 s). */
  async squiss() {
    const { Squiss } = await import('squiss-ts');
    // squiss calls the aggregated client's methods (`sqs.receiveMessage(...)`).
    const client = instrument(createClient(endpoint, { aggregated: true }));
    const instances = Array.from({ length: concurrency }, () => {
      const squiss = new Squiss({ SQS: client, queueUrl, receiveBatchSize: 10 });
      squiss.on('message', (message) => {
        void handle(message.raw.MessageId).then(() => message.del());
      });
      squiss.on('error', (error) => console.error('squiss error', error));
      return squiss;
    });
    await Promise.all(instances.map((s) => s.start()));
    return async () => {
      await Promise.all(instances.map((s) => s.stop(false, 10_000)));
    };
  },

  /**
   * The naive loop, as the project's seed wrote it: short polling, a fixed 200 ms sleep after an
   * empty receive, one receive in flight, the batch processed, then one DeleteMessageBatch.
   */
  async naive() {
    const client = instrument(createClient(endpoint));
    let running = true;
    const loop = async () => {
      while (running) {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        const batch = out.Messages ?? [];
        if (batch.length === 0) {
          await sleep(200);
          continue;
        }
        await Promise.all(batch.map((m) => handle(m.MessageId)));
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    };
    const running$ = loop();
    return async () => {
      running = false;
      await running$;
    };
  },
};

/**
 * `concurrency` bare loops of receive -> process -> delete, the delete not holding up the next
 * receive; with `ahead`, the next receive goes out before the batch is processed.
 */
async function rawLoop(ahead) {
  const client = instrument(createClient(endpoint));
  const abort = new AbortController();
  const deletes = new Set();
  let running = true;
  const receive = () =>
    client.send(
      // The request sqs-streams makes by default, so the two do the same work.
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 20,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
  const worker = async () => {
    let next;
    while (running) {
      let out;
      try {
        const receiving = next ?? receive();
        next = ahead && running ? receive() : undefined;
        next?.catch(() => {}); // awaited next turn; aborted unawaited at stop
        out = await receiving;
      } catch (error) {
        if (!running) return;
        throw error;
      }
      const batch = out.Messages ?? [];
      if (batch.length === 0) continue;
      await Promise.all(batch.map((m) => handle(m.MessageId)));
      const entries = batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
      const deleting = client.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      deletes.add(deleting);
      void deleting.finally(() => deletes.delete(deleting));
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return async () => {
    running = false;
    abort.abort();
    await Promise.allSettled(workers);
    await Promise.allSettled(deletes);
  };
}

/** `concurrency` sqs-consumer instances: it has one receive in flight per consumer. */
async function startConsumers(handler, batch) {
  const { Consumer } = await import('sqs-consumer');
  const client = instrument(createClient(endpoint));
  let stopping = false;
  const consumers = Array.from({ length: concurrency }, () => {
    const consumer = Consumer.create({
      queueUrl,
      sqs: client,
      batchSize: 10,
      ...(batch ? { handleMessageBatch: handler } : { handleMessage: handler }),
    });
    // Its stop({ abort: true }) reports the aborted long poll as an error: expected then.
    consumer.on(
      'error',
      (error) => stopping || console.error('sqs-consumer error:', error.message),
    );
    consumer.on('processing_error', (error) =>
      console.error('sqs-consumer processing_error:', error.message),
    );
    return consumer;
  });
  for (const consumer of consumers) consumer.start();
  return async () => {
    stopping = true;
    await Promise.all(
      consumers.map(
        (consumer) =>
          new Promise((resolve) => {
            consumer.once('stopped', resolve);
            consumer.stop({ abort: true });
          }),
      ),
    );
  };
}

const start = subjects[subject];
if (start === undefined) throw new Error(`Unknown subject ${subject}`);
// Load the subject's modules before the clock starts.
if (subject === 'sqs-streams' || subject === 'sqs-processor')
  await import(config.pkg ?? 'sqs-streams');
if (subject.startsWith('sqs-consumer')) await import('sqs-consumer');
if (subject === 'squiss') await import('squiss-ts');

let stop;
process.on('message', async (message) => {
  if (message.type === 'start') {
    startedAt = performance.now();
    cpuAtStart = process.cpuUsage();
    windowAt = startedAt;
    cpuAtWindow = cpuAtStart;
    stop = await start();
  } else if (message.type === 'stop') {
    const timer = setTimeout(() => {
      console.error(`${subject}: stop() did not finish within 15 s`);
      process.exit(3);
    }, 15_000);
    await stop?.();
    clearTimeout(timer);
    send({ type: 'stopped', meter: { ...meter }, extra: extraStats(), receiveStarts }, () =>
      process.exit(0),
    );
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
