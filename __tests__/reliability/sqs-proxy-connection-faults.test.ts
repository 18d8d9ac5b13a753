/**
 * The fault proxy's connection-level faults (`'hang'`, `'stall'`, `'slow'`, `'refuse'`, and the
 * `outage()` window), against the tiny fake SQS of reliability-proxy-harness.ts. A client-side
 * abort stands in for the streams' deadline here.
 */
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxyHarness, type ProxyHarness } from '../support/reliability-proxy-harness';

let harness: ProxyHarness;
beforeAll(async () => {
  harness = await startProxyHarness();
});
afterAll(() => harness.close());
afterEach(() => harness.reset());

const failure = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => new Error('resolved'),
    (error: unknown) => error as Error,
  );

/** What a raw TCP connection to `endpoint` gets: 'connected' or the error code. */
const connect = (endpoint: string): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect(Number(new URL(endpoint).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

describe('sqs-proxy connection faults', () => {
  it("'hang' reads the request, never answers nor forwards, and holds until the client gives up", async () => {
    const { proxy, client } = await harness.proxied({ faults: { rate: 1, kinds: ['hang'] } });
    const started = Date.now();
    const error = await failure(harness.receive(client, AbortSignal.timeout(300)));
    expect(error.name).toMatch(/AbortError|TimeoutError/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await sleep(50); // the proxy sees the socket close
    expect(proxy.holding).toBe(0);
    expect(proxy.abandoned).toEqual([
      { action: 'ReceiveMessage', fault: 'hang', heldMs: expect.any(Number) },
    ]);
    // Held from the whole request's arrival: the client's clock started earlier (signing, connecting).
    expect(proxy.abandoned[0]?.heldMs).toBeGreaterThan(100);
    expect(proxy.injectedByAction).toEqual({ ReceiveMessage: { hang: 1 } });
    expect(harness.seen).toEqual([]);
  });

  it("'hang' without a client deadline stays open until the proxy closes, which cuts it", async () => {
    const { proxy, client } = await harness.proxied({ faults: { rate: 1, kinds: ['hang'] } });
    const pending = failure(harness.receive(client));
    await sleep(300);
    expect(proxy.holding).toBe(1);
    const closing = Date.now();
    await proxy.close();
    const error = await pending;
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    await sleep(50);
    expect(proxy.holding).toBe(0);
  });

  it("'stall' sends a 200's status line and headers, then nothing; not forwarded", async () => {
    const { proxy } = await harness.proxied({ faults: { rate: 1, kinds: ['stall'] } });
    const outcome = await new Promise<{ status?: number; bodyBytes: number; ended: boolean }>(
      (resolve) => {
        const req = http.request(`${proxy.endpoint}/`, {
          method: 'POST',
          headers: { 'x-amz-target': 'AmazonSQS.DeleteMessageBatch' },
        });
        req.on('response', (res) => {
          let bodyBytes = 0;
          let ended = false;
          res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
          res.on('end', () => (ended = true));
          res.on('error', () => undefined);
          setTimeout(() => {
            req.destroy();
            resolve({ status: res.statusCode, bodyBytes, ended });
          }, 400);
        });
        req.end('{}');
      },
    );
    expect(outcome).toEqual({ status: 200, bodyBytes: 0, ended: false });
    await sleep(50);
    expect(proxy.injectedByAction).toEqual({ DeleteMessageBatch: { stall: 1 } });
    expect(proxy.abandoned.map((a) => a.fault)).toEqual(['stall']);
    expect(proxy.holding).toBe(0);
    expect(harness.seen).toEqual([]);
  });

  it("'stall' keeps an SDK call waiting on the body until its deadline", async () => {
    const { client } = await harness.proxied({ faults: { rate: 1, kinds: ['stall'] } });
    const started = Date.now();
    const error = await failure(harness.receive(client, AbortSignal.timeout(300)));
    expect(error.message).not.toBe('resolved');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("'slow' forwards at once and answers after slowMs; a client that leaves first loses an answer SQS gave", async () => {
    const events: string[] = [];
    const { proxy, client } = await harness.proxied({
      faults: { rate: 1, kinds: ['slow'], slowMs: 400 },
      onEvent: (e) => events.push(`${e.phase} ${e.action}${e.fault ? ` ${e.fault}` : ''}`),
    });
    let started = Date.now();
    const out = await harness.receive(client);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(out.Messages?.[0]?.MessageId).toBe('m-1');
    expect(events).toEqual([
      'arrived ReceiveMessage',
      'faulted ReceiveMessage slow',
      'forwarded ReceiveMessage',
    ]);

    started = Date.now();
    const error = await failure(harness.receive(client, AbortSignal.timeout(150)));
    expect(error.message).not.toBe('resolved');
    expect(Date.now() - started).toBeLessThan(390);
    await sleep(50);
    // The target answered both: the second answer was lost on the way back.
    expect(harness.seen).toHaveLength(2);
    expect(proxy.injected.slow).toBe(2);
    expect(proxy.abandoned).toEqual([
      { action: 'ReceiveMessage', fault: 'slow', heldMs: expect.any(Number) },
    ]);
  });

  it("'refuse' cuts the request and closes the port for refuseMs (ECONNREFUSED), then listens again", async () => {
    const { proxy, client } = await harness.proxied({
      faults: { rate: 1, kinds: ['refuse'], refuseMs: 400, limit: 1 },
    });
    const first = await failure(harness.receive(client));
    expect(first.message).toMatch(/socket hang up|ECONNRESET/);
    expect(proxy.refusing).toBe(true);
    expect(await connect(proxy.endpoint)).toBe('ECONNREFUSED');
    const refused = await failure(harness.receive(client));
    expect(refused.message).toMatch(/ECONNREFUSED/);
    await sleep(500);
    expect(proxy.refusing).toBe(false);
    const out = await harness.receive(client);
    expect(out.Messages).toHaveLength(1);
    // Refused connection attempts never reach the proxy: only the one that drew the fault counts.
    expect(proxy.counts).toEqual({ ReceiveMessage: 2 });
    expect(proxy.injectedByAction).toEqual({ ReceiveMessage: { refuse: 1 } });
    expect(proxy.outages).toBe(1);
    expect(harness.seen).toHaveLength(1);
  });

  it('outage() refuses connections and cuts hung ones until restore(), on the same port', async () => {
    const { proxy, client } = await harness.proxied({
      faults: { rate: 1, kinds: ['hang'], limit: 1 },
    });
    const hung = failure(harness.receive(client));
    await sleep(100);
    expect(proxy.holding).toBe(1);
    await proxy.outage();
    expect((await hung).message).toMatch(/socket hang up|ECONNRESET/);
    for (let i = 0; i < 3; i++) {
      expect(await connect(proxy.endpoint)).toBe('ECONNREFUSED');
      expect((await failure(harness.receive(client))).message).toMatch(/ECONNREFUSED/);
    }
    await proxy.restore();
    expect(await connect(proxy.endpoint)).toBe('connected');
    expect((await harness.receive(client)).Messages).toHaveLength(1);
    expect(proxy.outages).toBe(1);
    expect(proxy.injected.hang).toBe(1);
  });

  it('outage(forMs) is a timed window; close() during an outage resolves', async () => {
    const { proxy, client } = await harness.proxied({});
    await proxy.outage(300);
    expect(await connect(proxy.endpoint)).toBe('ECONNREFUSED');
    await sleep(400);
    expect((await harness.receive(client)).Messages).toHaveLength(1);
    await proxy.outage(60_000);
    const closing = Date.now();
    await proxy.close();
    expect(Date.now() - closing).toBeLessThan(500);
    expect(proxy.closedReason).toBe('close()');
    await proxy.restore(); // after close: stays closed
    expect(await connect(proxy.endpoint)).toBe('ECONNREFUSED');
  });

  it('counts each injected kind per action, and limit caps the faults', async () => {
    const { proxy, client } = await harness.proxied({
      faults: { rate: 1, kinds: ['hang', 'stall'], limit: 4, seed: 3 },
    });
    for (let i = 0; i < 6; i++) {
      await harness.receive(client, AbortSignal.timeout(100)).catch(() => undefined);
    }
    await sleep(50);
    const receive = proxy.injectedByAction['ReceiveMessage'] ?? {};
    expect((receive.hang ?? 0) + (receive.stall ?? 0)).toBe(4);
    expect(proxy.injected.hang + proxy.injected.stall).toBe(4);
    expect(proxy.abandoned).toHaveLength(4);
    expect(harness.seen).toHaveLength(2);
    expect(proxy.counts).toEqual({ ReceiveMessage: 6 });
  });
});
