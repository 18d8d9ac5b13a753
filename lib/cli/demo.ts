import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, SqsWritable, type SqsMessage } from '../index.js';
import { CliError, createCliClient, retryOption, type ConnectionFlags } from './common.js';
import { Progress, fixed, retryReporter } from './output.js';
import { onStopSignals } from './signals.js';
import { Gate, quiesceAndStop, whenClosed } from './stop.js';
import {
  assertEmpty,
  type EmbeddedServer,
  countRequests,
  diff,
  list,
  resolveUserQueue,
  startEmbedded,
  sum,
} from './demo-support.js';

export interface DemoFlags extends ConnectionFlags {
  count: number;
  queue?: string;
  concurrency?: number;
}

/** `demo`: send N messages, drain them through SqsReadable -> a Transform -> SqsAckWritable, report. */
export async function demoCommand(flags: DemoFlags): Promise<number> {
  const count = flags.count;
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const external = flags.endpoint !== undefined || flags.queue !== undefined;
  let server: EmbeddedServer | undefined;
  let client: SQSClient | undefined;
  let ownQueueUrl: string | undefined;
  let stopping = false;
  let stopActive: (() => void) | undefined;
  let destroyActive: (() => void) | undefined;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };

  const cleanup = async (): Promise<void> => {
    if (client !== undefined && ownQueueUrl !== undefined) {
      const url = ownQueueUrl;
      ownQueueUrl = undefined;
      await client.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
        log(
          `demo: could not delete the demo queue ${url} (${(error as Error).name}); delete it by hand`,
        );
      });
    }
    client?.destroy();
    await server?.stop().catch(() => undefined);
    server = undefined;
  };

  const signals = onStopSignals(
    'demo',
    {
      graceful: () => {
        stopping = true;
        stopActive?.();
      },
      immediate: async () => {
        destroyActive?.();
        await cleanup();
      },
    },
    log,
  );

  try {
    let endpointLabel: string;
    if (external) {
      client = createCliClient(flags);
      endpointLabel = flags.endpoint ?? `AWS (${await client.config.region()})`;
    } else {
      server = await startEmbedded();
      const endpoint = `http://127.0.0.1:${server.port}`;
      client = createCliClient({ endpoint, region: 'us-east-1' }, true);
      endpointLabel = `embedded emulator (fauxqs) at ${endpoint}`;
    }
    const requests = countRequests(client);
    const retry = retryOption(flags);

    let queueUrl: string;
    if (flags.queue !== undefined) {
      queueUrl = await resolveUserQueue(client, flags.queue);
      await assertEmpty(client, queueUrl, flags.queue);
    } else {
      const name = `sqs-streams-demo-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const created = await client.send(new CreateQueueCommand({ QueueName: name }));
      if (created.QueueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
      queueUrl = created.QueueUrl;
      ownQueueUrl = queueUrl;
    }
    out(`demo: ${endpointLabel}, queue ${queueUrl}`);

    // 1. Send N messages through SqsWritable.
    const run = randomBytes(4).toString('hex');
    const sendProgress = new Progress('send   ', count);
    const sink = new SqsWritable({ queueUrl, client, retry });
    sink.on('retry', retryReporter(sendProgress, 'demo'));
    let generated = 0;
    // A FIFO queue (a user's, through --queue) needs groups: ten, so receives can fill batches.
    const fifo = queueUrl.endsWith('.fifo');
    const bodies = Readable.from(
      (function* () {
        for (let n = 0; n < count && !stopping; n++) {
          generated++;
          const body = JSON.stringify({ run, n, at: Date.now() });
          yield fifo ? { body, groupId: `demo-${n % 10}`, deduplicationId: `${run}-${n}` } : body;
        }
      })(),
    );
    stopActive = () => undefined;
    destroyActive = () => sink.destroy();
    const sendTicker = setInterval(() => sendProgress.update(sink.stats.sent), 250);
    const before = { ...requests };
    const sendStart = performance.now();
    try {
      await pipeline(bodies, sink);
    } finally {
      clearInterval(sendTicker);
      sendProgress.update(sink.stats.sent);
      sendProgress.stop();
    }
    const sendSeconds = (performance.now() - sendStart) / 1000;
    const sent = sink.stats.sent;
    const sendRequests = diff(requests, before);
    out(
      `demo: sent ${sent} messages in ${fixed(sendSeconds, 2)} s (${fixed(sent / sendSeconds, 0)} msgs/s): ${list(sendRequests)}`,
    );
    if (generated !== sent) throw new Error(`sent ${sent} of ${generated} messages`);

    // 2. Drain them: SqsReadable -> a processing Transform -> SqsAckWritable.
    const drainProgress = new Progress('drain  ', sent);
    const source = new SqsReadable({
      queueUrl,
      client,
      maxMessages: Math.max(sent, 1),
      // A safety net only: the drain ends at `sent` messages, unless some never arrive.
      idleTimeoutMs: 10_000,
      concurrency: flags.concurrency ?? 1,
      retry,
    });
    source.on('retry', retryReporter(drainProgress, 'demo'));
    let peakBuffer = 0;
    let peakHeld = 0;
    const sample = (): void => {
      peakBuffer = Math.max(peakBuffer, source.stats.buffered);
      peakHeld = Math.max(peakHeld, source.stats.held);
    };
    // Right after a receive's messages were pushed (the highest the buffer gets)...
    source.on('receive', () => process.nextTick(sample));
    const seen = new Uint8Array(count);
    let duplicates = 0;
    let foreign = 0;
    let checksum = 0;
    const processing = new Transform({
      objectMode: true,
      transform(message: SqsMessage, _encoding, callback) {
        sample(); // ...and on each read.
        let n = -1;
        try {
          const body = JSON.parse(message.body) as { run?: unknown; n?: unknown };
          if (body.run === run && typeof body.n === 'number') n = body.n;
        } catch {
          // not one of ours
        }
        if (n < 0 || n >= count) foreign++;
        else if (seen[n] === 1) duplicates++;
        else seen[n] = 1;
        for (let i = 0; i < message.body.length; i++)
          checksum = (checksum * 31 + message.body.charCodeAt(i)) | 0;
        callback(null, message);
      },
    });
    const gate = new Gate();
    stopActive = () => {
      void quiesceAndStop(source, gate);
    };
    destroyActive = () => source.destroy();
    if (stopping) stopActive();
    const drainTicker = setInterval(() => drainProgress.update(source.stats.acked), 250);
    const beforeDrain = { ...requests };
    const drainStart = performance.now();
    try {
      await pipeline(source, gate, processing, new SqsAckWritable());
    } finally {
      // On a failure, the source's release of what it held needs the client.
      await whenClosed(source);
      clearInterval(drainTicker);
      drainProgress.update(source.stats.acked);
      drainProgress.stop();
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    stopActive = undefined;
    destroyActive = undefined;
    const drainRequests = diff(requests, beforeDrain);
    const received = source.stats.received;
    const acked = source.stats.acked;
    const unique = seen.reduce((a, b) => a + b, 0);
    const perMessage = sum(drainRequests) / Math.max(received, 1);
    const rate = acked / drainSeconds;
    out(
      `demo: drained ${acked} messages in ${fixed(drainSeconds, 2)} s (${fixed(rate, 0)} msgs/s) through SqsReadable -> Transform -> SqsAckWritable (checksum ${(checksum >>> 0).toString(16)})`,
    );
    out(
      `demo: requests while draining: ${list(drainRequests)} = ${fixed(perMessage, 3)} per message (SQS bills per request; each one moves up to 10)`,
    );
    out(
      `demo: peak buffer ${peakBuffer} messages (highWaterMark ${source.readableHighWaterMark}), peak held ${peakHeld} (received, not yet acked)`,
    );
    if (foreign > 0) out(`demo: ${foreign} messages were not the demo's (deleted too)`);
    if (stopping) out(`demo: stopped by ${signals.signal() ?? 'a signal'} before the end`);
    if (flags.queue !== undefined && acked < sent) {
      out(
        `demo: ${sent - acked} of the demo's messages are still in ${flags.queue}; remove them with: sqs-streams receive ${flags.queue} --delete --idle-timeout 2000 > /dev/null`,
      );
    }
    out(
      `demo: sent=${sent} received=${received} acked=${acked} duplicates=${duplicates} missing=${sent - unique} requests/msg=${fixed(perMessage, 3)} peak-buffer=${peakBuffer} msgs/s=${fixed(rate, 0)}`,
    );
    if (!stopping && (unique !== sent || acked !== received)) {
      throw new CliError(
        `The demo lost track of messages: sent ${sent}, received ${unique} distinct, acked ${acked}. Run it again with NODE_DEBUG=sqs-streams to see why.`,
      );
    }
    return 0;
  } finally {
    signals.dispose();
    await cleanup();
  }
}
