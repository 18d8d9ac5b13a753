/**
 * For the in-process deadline tests (hung-*.test.ts): the streams under test talk to the test
 * endpoint through the fault proxy; these helpers set that up, watch the streams' `'retry'`
 * events, and bound every wait by time with a message that says where the stream was stuck.
 *
 * In-process is fine for `'hang'`, `'stall'` and `'slow'`: what ends them is the streams' own
 * deadline, whose `TimeoutError` is made in this realm. Faults that surface as Node socket
 * errors (`'reset'`, `'refuse'`) run in plain Node child processes instead
 * (reliability-scenarios.ts), since Jest's sandbox strips their codes.
 */
import type { EventEmitter } from 'node:events';
import { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClientConfig } from './sqs-endpoint';
import { deleteCreatedTestQueues, testClient, testEndpoint } from './sqs-helpers';
import { proxyable } from './reliability-procs';
import { startSqsProxy, type FaultKind, type SqsProxy } from './sqs-proxy';

/**
 * The deadline options under test, given to every stream these tests build. (To see what the
 * code did before deadlines existed, empty this object: the hung tests then fail on their time
 * bound, the stream stuck with a request in flight and no `'retry'`.)
 */
export const DEADLINES = { requestTimeoutMs: 500, shutdownTimeoutMs: 2_000 };

/** The faults that hold a request until the client's deadline. */
export const HOLDING: FaultKind[] = ['hang', 'stall', 'slow'];

/** The proxy forwards to loopback only: against real AWS (SQS_ENDPOINT) these tests are skipped. */
export const describeProxied = proxyable(testEndpoint().endpoint) ? describe : describe.skip;

/** Longer than any fault here holds a request (`'slow'` holds for longer than the deadline). */
export const SLOW_MS = 3_000;

export interface Proxied {
  proxy: SqsProxy;
  client: SQSClient;
  close(): Promise<void>;
}

/** A proxy in front of the test endpoint and a client through it, the SDK's retries off. */
export async function proxiedClient(): Promise<Proxied> {
  const endpoint = testEndpoint();
  const proxy = await startSqsProxy({
    target: endpoint.endpoint,
    maxRequests: 10_000,
    maxDurationMs: 100_000,
  });
  const client = new SQSClient({
    ...sqsClientConfig(endpoint),
    endpoint: proxy.endpoint,
    maxAttempts: 1,
  });
  return {
    proxy,
    client,
    async close() {
      client.destroy();
      await proxy.close();
    },
  };
}

/** Faults the next `action` request (only that one) with `kind`. */
export function faultOnce(proxy: SqsProxy, action: string, kind: FaultKind): void {
  proxy.setFaults({ rate: 1, kinds: [kind], actions: [action], limit: 1, slowMs: SLOW_MS });
}

export interface RetrySeen {
  name: string;
  attempt: number;
  delayMs: number;
}

/** Records the `'retry'` events of a stream, by error name. */
export function watchRetries(stream: EventEmitter): RetrySeen[] {
  const seen: RetrySeen[] = [];
  stream.on('retry', (error: unknown, attempt: number, delayMs: number) => {
    seen.push({ name: (error as Error | undefined)?.name ?? String(error), attempt, delayMs });
  });
  return seen;
}

/**
 * Resolves with `promise`, or rejects after `ms` with `what` and `state()` (the stream's stats,
 * the proxy's counts): a "did not hang" bound, never a measurement.
 */
export async function within<T>(
  ms: number,
  what: string,
  promise: Promise<T>,
  state: () => unknown = () => undefined,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not within ${ms} ms; ${JSON.stringify(state())}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves on the stream's `'close'` (at once if it has closed). */
export function closed(stream: EventEmitter & { closed?: boolean }): Promise<void> {
  if (stream.closed === true) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** How long the requests a fault held were held before the client gave up, in ms. */
export function heldMs(proxy: SqsProxy): number[] {
  return proxy.abandoned.map((a) => a.heldMs);
}

export interface HungSuite {
  /** Queue administration and checks, straight to the endpoint (never through the proxy). */
  readonly admin: SQSClient;
  /** A proxied client for this test; closed after it. */
  proxied(): Promise<Proxied>;
  /** Destroys `stream` after the test, if the test did not. */
  track<T extends { destroy(): unknown }>(stream: T): T;
}

/** Registers the afterEach / afterAll clean-up of a deadline test file; call at its top level. */
export function hungSuite(): HungSuite {
  const admin = testClient();
  const streams: { destroy(): unknown }[] = [];
  const proxies: Proxied[] = [];
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.destroy();
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await deleteCreatedTestQueues();
    admin.destroy();
  });
  return {
    admin,
    async proxied() {
      const proxied = await proxiedClient();
      proxies.push(proxied);
      return proxied;
    },
    track(stream) {
      streams.push(stream);
      return stream;
    },
  };
}
