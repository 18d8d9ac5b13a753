/**
 * Outage and pressure scenarios, run in a plain Node child process on the library's source (so
 * Node's socket errors, ECONNREFUSED and ECONNRESET, keep their codes as in an application;
 * inside Jest's sandbox the SDK strips them). The child starts its own fault proxy in front of
 * the test endpoint, runs one scenario, and prints one JSON line `{ t: 'result', ... }` (counts
 * and timings only: never a body, a receipt handle or a credential). Bounded by `maxRunMs`.
 *
 *   node -e "require('ts-node').register({ transpileOnly: true, experimentalResolver: true });
 *            require('./__tests__/support/reliability-scenarios.ts').run()" '<json config>'
 *
 * Started by reliability-scenario-runner.ts; the tests check the queue afterwards.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, SqsWritable, type SqsMessage } from '../../lib/index';
import { pressure } from './reliability-pressure';
import { startSqsProxy, type FaultOptions, type SqsProxy } from './sqs-proxy';

export interface ScenarioConfig {
  scenario: 'destroy-in-outage' | 'stop-in-outage' | 'end-in-outage' | 'pressure';
  /** The test endpoint the proxy forwards to. */
  target: string;
  region: string;
  queueUrl: string;
  /** Options given to every stream (requestTimeoutMs, shutdownTimeoutMs). */
  streamOptions: Record<string, unknown>;
  /** Messages in the queue (receive scenarios) or to send. */
  count: number;
  /** destroy/stop: messages read before the outage. stop: acks confirmed before it, asked during it. */
  read?: number;
  ackedBefore?: number;
  ackedDuring?: number;
  /** end: messages sent before the outage. */
  sentBefore?: number;
  /** end: `end(callback)` (default) or `end()` alone, the outcome from the events. */
  endWithCallback?: boolean;
  visibilityTimeout?: number;
  faults?: FaultOptions;
  bodyPrefix?: string;
  maxRunMs: number;
}

export interface Context {
  config: ScenarioConfig;
  proxy: SqsProxy;
  client: SQSClient;
  /** Names the live stats the child prints if it runs out of time. */
  watch(stats: object): void;
}

type Result = Record<string, unknown>;

/** What the child prints if it runs out of time: the live stats of the stream under test. */
let watched: object | undefined;

const nameOf = (error: unknown): string => (error as Error | undefined)?.name ?? String(error);
const since = (start: number): number => Date.now() - start;

/** `{ name: count }` of the settled promises' rejections; `ok` for the fulfilled. */
async function outcomes(promises: Promise<unknown>[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await Promise.allSettled(promises)) {
    const key = r.status === 'fulfilled' ? 'ok' : nameOf(r.reason);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function source(ctx: Context): { stream: SqsReadable; errors: string[]; retries: string[] } {
  const { config, client } = ctx;
  const stream = new SqsReadable({
    queueUrl: config.queueUrl,
    client,
    waitTimeSeconds: 1,
    highWaterMark: config.count,
    batchSize: Math.min(10, config.count),
    ...(config.visibilityTimeout === undefined
      ? {}
      : { visibilityTimeout: config.visibilityTimeout }),
    retry: { maxDelay: 200 },
    ...config.streamOptions,
  });
  const errors: string[] = [];
  const retries: string[] = [];
  watched = stream.stats;
  stream.on('error', (error) => errors.push(nameOf(error)));
  stream.on('retry', (error: unknown) => retries.push(nameOf(error)));
  return { stream, errors, retries };
}

/** Reads `n` messages with `read()` (the rest stay buffered, unsettled; the stream open). */
export function take(stream: SqsReadable, n: number): Promise<SqsMessage[]> {
  const messages: SqsMessage[] = [];
  return new Promise((resolve, reject) => {
    const pull = (): void => {
      for (let m: SqsMessage | null; messages.length < n && (m = stream.read()) !== null;) {
        messages.push(m);
      }
      if (messages.length < n) return;
      stream.off('readable', pull);
      resolve(messages);
    };
    stream.on('readable', pull);
    stream.once('error', reject);
  });
}

const closed = (stream: SqsReadable): Promise<void> =>
  stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', resolve));

/** destroy() with every message held, during an outage: closes anyway, the releases counted. */
async function destroyInOutage(ctx: Context): Promise<Result> {
  const { stream, errors, retries } = source(ctx);
  const messages = await take(stream, ctx.config.read ?? 1);
  await ctx.proxy.outage();
  const start = Date.now();
  stream.destroy();
  await closed(stream);
  const closeMs = since(start);
  return {
    closeMs,
    held: messages.length,
    errors,
    retries: retries.length,
    stats: { ...stream.stats },
  };
}

/** stop() with acks unconfirmed, during an outage: settles anyway, rejecting, counts in stats. */
async function stopInOutage(ctx: Context): Promise<Result> {
  const { config, proxy } = ctx;
  const { stream, errors, retries } = source(ctx);
  const messages = await take(stream, config.read ?? config.count);
  const before = config.ackedBefore ?? 0;
  await Promise.all(messages.slice(0, before).map((m) => m.ack()));
  const ackedIds = messages.slice(0, before).map((m) => m.messageId);
  await proxy.outage();
  const during = messages.slice(before, before + (config.ackedDuring ?? 0)).map((m) => m.ack());
  const start = Date.now();
  const stopping = stream.stop();
  stream.resume(); // every message was read: only the end is left to flow out
  const stopped = await stopping.then(
    () => ({ rejected: false, name: undefined, message: undefined }),
    (error: Error) => ({ rejected: true, name: nameOf(error), message: error.message }),
  );
  const stopMs = since(start);
  const acksDuring = await outcomes(during);
  await closed(stream);
  const stats = { ...stream.stats };
  return { stopMs, stopped, acksDuring, ackedIds, errors, retries: retries.length, stats };
}

/** end() with sends unconfirmed, during an outage: settles anyway, `stats.failed` counted. */
async function endInOutage(ctx: Context): Promise<Result> {
  const { config, client, proxy } = ctx;
  const sink = new SqsWritable({
    queueUrl: config.queueUrl,
    client,
    retry: { maxDelay: 200 },
    ...config.streamOptions,
  });
  watched = sink.stats;
  const retries: string[] = [];
  sink.on('retry', (error: unknown) => retries.push(nameOf(error)));
  sink.on('error', () => undefined); // the end() callback reports it
  const write = (i: number): Promise<void> =>
    new Promise((resolve, reject) =>
      sink.write(`${config.bodyPrefix ?? 'e'}-${i}`, (e) => (e ? reject(e) : resolve())),
    );
  const indices = Array.from({ length: config.count }, (_, i) => i);
  const before = config.sentBefore ?? 0;
  const first = await outcomes(indices.slice(0, before).map(write));
  await proxy.outage();
  const rest = indices.slice(before).map(write);
  const start = Date.now();
  const ended = await new Promise<{ error?: string }>((resolve) => {
    if (config.endWithCallback === false) {
      // end() alone; the outcome from the stream's events.
      sink.once('error', (error) => resolve({ error: nameOf(error) }));
      sink.once('finish', () => resolve({}));
      sink.end();
    } else {
      sink.end((error?: Error | null) => resolve(error ? { error: nameOf(error) } : {}));
    }
  });
  const endMs = since(start);
  const writesDuring = await outcomes(rest);
  return { endMs, ended, first, writesDuring, retries: retries.length, stats: { ...sink.stats } };
}

const SCENARIOS: Record<ScenarioConfig['scenario'], (ctx: Context) => Promise<Result>> = {
  'destroy-in-outage': destroyInOutage,
  'stop-in-outage': stopInOutage,
  'end-in-outage': endInOutage,
  pressure,
};

export async function run(): Promise<void> {
  const config = JSON.parse(process.argv[process.argv.length - 1] ?? '{}') as ScenarioConfig;
  const say = (event: Result): void => void process.stdout.write(`${JSON.stringify(event)}\n`);
  setTimeout(() => {
    say({
      t: 'timeout',
      stats: watched,
      proxy: { counts: proxy?.counts, refusing: proxy?.refusing },
    });
    process.exit(3);
  }, config.maxRunMs).unref();
  let proxy: SqsProxy | undefined = undefined;
  proxy = await startSqsProxy({
    target: config.target,
    faults: config.faults ?? null,
    maxRequests: 100_000,
    maxDurationMs: config.maxRunMs,
  });
  const client = new SQSClient({
    endpoint: proxy.endpoint,
    region: config.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  try {
    const watch = (stats: object): void => void (watched = stats);
    const result = await SCENARIOS[config.scenario]({ config, proxy, client, watch });
    say({ t: 'result', ...result, proxy: { counts: proxy.counts, outages: proxy.outages } });
  } catch (error) {
    say({ t: 'failed', e: nameOf(error), m: String((error as Error)?.message ?? error) });
    process.exitCode = 1;
  } finally {
    client.destroy();
    await proxy.close();
  }
}
