/**
 * The pressure scenario of reliability-scenarios.ts (plain Node child): every message of a queue
 * drained through `SqsReadable → Transform → SqsAckWritable` while the proxy injects a mix of
 * faults, hangs and stalls among them; the child tallies deliveries per message (by index: no
 * body leaves the process) and what the proxy did.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SqsAckWritable, SqsReadable, type SqsMessage } from '../../lib/index';
import type { Context } from './reliability-scenarios';
import type { AbandonedRequest } from './sqs-proxy';

/** n, median and max of the held times, by fault kind: what a hung connection cost. */
export function heldSummary(abandoned: readonly AbandonedRequest[]) {
  const byKind: Record<string, number[]> = {};
  for (const a of abandoned) (byKind[a.fault] ??= []).push(a.heldMs);
  const out: Record<string, { n: number; medianMs: number; maxMs: number }> = {};
  for (const [kind, values] of Object.entries(byKind)) {
    values.sort((a, b) => a - b);
    out[kind] = {
      n: values.length,
      medianMs: values[Math.floor(values.length / 2)] ?? 0,
      maxMs: values[values.length - 1] ?? 0,
    };
  }
  return out;
}

export async function pressure(ctx: Context): Promise<Record<string, unknown>> {
  const { config, client, proxy } = ctx;
  const visibilityTimeout = config.visibilityTimeout ?? 3;
  const prefix = config.bodyPrefix ?? 'p';
  const source = new SqsReadable({
    queueUrl: config.queueUrl,
    client,
    // Short polls and 4 receives in flight (room for 4 full batches): a held receive costs one
    // `requestTimeoutMs` and blocks one slot of four, so 10,000 messages fit in about a minute.
    waitTimeSeconds: 0,
    visibilityTimeout,
    concurrency: 4,
    highWaterMark: 40,
    // The run stops once every message was delivered (below). The idle end is the backstop that
    // makes a lost message fail the test instead of hanging it: a lost answer hides its batch for
    // a visibility timeout, and the batch's next receive can lose its answer again, so an idle end
    // only a few timeouts long could end the run with a batch still hidden (in the queue, not lost).
    idleTimeoutMs: (visibilityTimeout * 4 + 3) * 1000,
    retry: { maxDelay: 1_000 },
    ...config.streamOptions,
  });
  ctx.watch(source.stats);
  const retriesByError: Record<string, number> = {};
  source.on('retry', (error: unknown) => {
    const e = error as { name?: string; code?: string } | undefined;
    const name = `${e?.name ?? 'unknown'}${e?.code && e.code !== e.name ? `/${e.code}` : ''}`;
    retriesByError[name] = (retriesByError[name] ?? 0) + 1;
  });
  const deliveries = new Uint16Array(config.count);
  let unexpected = 0;
  let redeliveries = 0;
  let distinct = 0;
  let stopError: string | undefined;
  let lastFirstDeliveryMs = 0;
  const started = Date.now();
  const handler = new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(message: SqsMessage, _encoding, callback) {
      const index = message.body.startsWith(`${prefix}-`)
        ? Number(message.body.slice(prefix.length + 1))
        : NaN;
      if (Number.isInteger(index) && index >= 0 && index < config.count) {
        deliveries[index] = (deliveries[index] ?? 0) + 1;
        if (deliveries[index] === 1) {
          distinct++;
          lastFirstDeliveryMs = Date.now() - started;
          // Every message seen: stop (receives in flight may still bring duplicates, counted).
          if (distinct === config.count) {
            source.stop().catch((error: Error) => (stopError = `${error.name}: ${error.message}`));
          }
        }
      } else {
        unexpected++;
      }
      if (message.receiveCount > 1) redeliveries++;
      callback(null, message);
    },
  });
  let streamError: string | undefined;
  await pipeline(source, handler, new SqsAckWritable()).catch((error: Error) => {
    streamError = `${error.name}: ${error.message}`;
  });
  const seconds = (Date.now() - started) / 1000;
  const lost: number[] = [];
  let duplicates = 0;
  deliveries.forEach((n, i) => {
    if (n === 0) lost.push(i);
    else duplicates += n - 1;
  });
  return {
    seconds,
    lastFirstDeliveryS: lastFirstDeliveryMs / 1000,
    streamError,
    stopError,
    messages: config.count,
    lost: lost.length,
    lostIndices: lost.slice(0, 20),
    duplicates,
    redeliveries,
    unexpected,
    retriesByError,
    injected: { ...proxy.injected },
    injectedByAction: proxy.injectedByAction,
    requests: proxy.requests,
    held: heldSummary(proxy.abandoned),
    stats: { ...source.stats },
  };
}
