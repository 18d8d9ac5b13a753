/**
 * A long-running consumer service that shuts down cleanly on SIGTERM (what Kubernetes, ECS,
 * systemd and `docker stop` send) and SIGINT (Ctrl-C).
 *
 * On the signal, `source.stop()` stops receiving (a pending long poll is aborted), and the
 * messages already received flow on through the pipeline: finished and deleted. If that takes
 * longer than `graceMs`, the handlers still running are aborted and every message not finished is
 * nacked: visible again at once for another instance, instead of invisible until its visibility
 * timeout runs out. Keep `graceMs` below the platform's own deadline (Kubernetes:
 * `terminationGracePeriodSeconds`, 30 s by default), after which the process is killed.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/emails npx ts-node examples/graceful-shutdown.ts
 */
import type { EventEmitter } from 'node:events';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, type SqsMessage, type SqsReadableStats } from 'sqs-streams';

export interface ServiceOptions {
  client: SQSClient;
  queueUrl: string;
  /** The work for one message. It should give up when `signal` aborts. */
  handle?: (body: string, signal: AbortSignal) => Promise<void>;
  /** How long a shutdown may finish the messages in hand before giving them back, in ms. */
  graceMs?: number;
  /** Seconds before a message whose handler failed is delivered again. */
  retryDelaySeconds?: number;
  log?: (line: string) => void;
}

export interface Service {
  /** Settles when the service has stopped: rejects if it failed. */
  readonly done: Promise<void>;
  /** Stops gracefully (what SIGTERM does); resolves once stopped. Safe to call twice. */
  shutdown(): Promise<void>;
  /** Stops without the grace period: handlers are aborted, unfinished messages nacked at once. */
  shutdownNow(): void;
  readonly stats: SqsReadableStats;
}

async function sendEmail(body: string, signal: AbortSignal): Promise<void> {
  await sleep(100, undefined, { signal }); // stands for real work that honours the signal
  console.log(`sent email ${body}`);
}

export function startService({
  client,
  queueUrl,
  handle = sendEmail,
  graceMs = 25_000,
  retryDelaySeconds = 30,
  log = console.log,
}: ServiceOptions): Service {
  const source = new SqsReadable({ queueUrl, client });
  const giveUp = new AbortController(); // aborted when the grace period is over

  const work = new Transform({
    objectMode: true,
    transform(message: SqsMessage, _encoding, done) {
      handle(message.body, giveUp.signal).then(
        () => done(null, message), // on to SqsAckWritable: deleted
        (error: unknown) => {
          // Not done. Shutting down: give it back now. Failed: retry it after a while.
          const delay = giveUp.signal.aborted ? 0 : retryDelaySeconds;
          if (!giveUp.signal.aborted) log(`message ${message.messageId} failed: ${String(error)}`);
          message.nack(delay).then(() => done(), done);
        },
      );
    },
  });

  const done = pipeline(source, work, new SqsAckWritable());

  function shutdownNow(): void {
    void source.stop();
    giveUp.abort();
  }

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      const deadline = setTimeout(shutdownNow, graceMs);
      try {
        await source.stop(); // no more receives; what was received flows on
        await done; // ... and is finished and deleted
      } finally {
        clearTimeout(deadline);
      }
    })();
    return stopping;
  }

  return { done, shutdown, shutdownNow, stats: source.stats };
}

/** SIGTERM or SIGINT: shut down gracefully. A second one: without waiting for the handlers. */
export function onShutdownSignals(
  service: Service,
  signals: EventEmitter = process,
  log: (line: string) => void = console.log,
): void {
  let received = false;
  const onSignal = (signal: string): void => {
    if (received) {
      log(`${signal} again: giving the unfinished messages back now`);
      service.shutdownNow();
      return;
    }
    received = true;
    log(`${signal}: finishing the messages in hand, then exiting`);
    service.shutdown().catch(() => {}); // the failure, if any, is reported through `done`
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
  service.done
    .finally(() => {
      signals.off('SIGTERM', onSignal);
      signals.off('SIGINT', onSignal);
    })
    .catch(() => {});
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  const service = startService({ client: new SQSClient({}), queueUrl });
  onShutdownSignals(service);
  service.done.then(
    () => console.log(`stopped: ${service.stats.acked} messages processed`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
