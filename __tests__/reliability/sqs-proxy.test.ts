/**
 * The fault proxy itself, against a tiny fake SQS (node:http answering the JSON protocol), so
 * that what it injects is known to reach the SDK as the errors the streams classify.
 */
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { isTransientError } from '../../lib/core/classify';
import { startSqsProxy, type FaultKind } from '../support/sqs-proxy';
import { startProxyHarness, type ProxyHarness } from '../support/reliability-proxy-harness';

let harness: ProxyHarness;
let target: string;
let seen: string[];
beforeAll(async () => {
  harness = await startProxyHarness();
  ({ target, seen } = harness);
});
afterAll(() => harness.close());
afterEach(() => harness.reset());

const proxied = (options: Parameters<ProxyHarness['proxied']>[0]) => harness.proxied(options);
const receive = (client: Parameters<ProxyHarness['receive']>[0]) => harness.receive(client);

describe('sqs-proxy', () => {
  it('forwards requests and counts them by action', async () => {
    const { proxy, client } = await proxied({});
    const out = await receive(client);
    expect(out.Messages?.[0]?.MessageId).toBe('m-1');
    await client.send(new GetQueueUrlCommand({ QueueName: 'q' }));
    await receive(client);
    expect(proxy.counts).toEqual({ ReceiveMessage: 2, GetQueueUrl: 1 });
    expect(proxy.requests).toBe(3);
    expect(seen).toEqual([
      'AmazonSQS.ReceiveMessage',
      'AmazonSQS.GetQueueUrl',
      'AmazonSQS.ReceiveMessage',
    ]);
  });

  it.each<[FaultKind, string, number | undefined, boolean]>([
    // kind, error name the SDK surfaces, HTTP status, forwarded to the target
    ['500', 'InternalError', 500, false],
    ['503', 'ServiceUnavailable', 503, false],
    ['throttle', 'RequestThrottled', 400, false],
    ['reset', 'TimeoutError', undefined, false],
    ['drop', 'TimeoutError', undefined, true],
  ])(
    'injects %s: the SDK surfaces %s (status %s), a transient error',
    async (kind, name, status, forwarded) => {
      const { proxy, client } = await proxied({ faults: { rate: 1, kinds: [kind] } });
      const error = (await receive(client).catch((e: unknown) => e)) as {
        name: string;
        code?: string;
        $metadata?: { httpStatusCode?: number };
      };
      expect(error).toBeInstanceOf(Error);
      if (kind === 'reset' || kind === 'drop') {
        // In plain Node the SDK surfaces `TimeoutError` with `code: 'ECONNRESET'` (transient). Under
        // Jest the socket error comes from Node's own realm, fails the SDK's `instanceof Error`, and
        // is wrapped into a bare `Error('AWS SDK error wrapper for TimeoutError: socket hang up')`
        // without code: so the fault-injection consumers run as plain Node child processes.
        expect(`${error.name}: ${(error as Error).message} ${error.code ?? ''}`).toMatch(
          /socket hang up|ECONNRESET/,
        );
      } else {
        expect(error.name).toBe(name);
        expect(isTransientError(error)).toBe(true);
      }
      expect(error.$metadata?.httpStatusCode).toBe(status);
      expect(proxy.injected[kind]).toBe(1);
      expect(proxy.injectedByAction).toEqual({ ReceiveMessage: { [kind]: 1 } });
      expect(seen.length).toBe(forwarded ? 1 : 0);
    },
  );

  it('can throttle as ThrottlingException', async () => {
    const { client } = await proxied({
      faults: { rate: 1, kinds: ['throttle'], throttleCode: 'ThrottlingException' },
    });
    const error = (await receive(client).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('ThrottlingException');
    expect(isTransientError(error)).toBe(true);
  });

  it('adds latency and latency spikes', async () => {
    const { proxy, client } = await proxied({ latencyMs: 60 });
    let started = Date.now();
    await receive(client);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    proxy.setLatency(0);
    proxy.setFaults({ rate: 1, kinds: ['spike'], spikeMs: 150 });
    started = Date.now();
    await receive(client);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(proxy.injected.spike).toBe(1);
    proxy.setFaults(null);
    started = Date.now();
    await receive(client);
    expect(Date.now() - started).toBeLessThan(140);
  });

  it('draws the same faults from the same seed, at about the asked rate', async () => {
    const run = async (seed: number): Promise<string> => {
      const { proxy, client } = await proxied({
        faults: { rate: 0.3, kinds: ['500', '503', 'throttle'], seed },
      });
      const outcomes: string[] = [];
      for (let i = 0; i < 60; i++) {
        outcomes.push(
          await receive(client).then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
      }
      expect(proxy.injected['500'] + proxy.injected['503'] + proxy.injected.throttle).toBe(
        outcomes.filter((o) => o !== 'ok').length,
      );
      return outcomes.join(',');
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const faulted = a.split(',').filter((o) => o !== 'ok').length;
    expect(faulted).toBeGreaterThan(5);
    expect(faulted).toBeLessThan(35);
  });

  it('reports each request arriving, forwarded or faulted', async () => {
    const events: string[] = [];
    const { proxy, client } = await proxied({
      faults: { rate: 1, kinds: ['503'], actions: ['GetQueueUrl'] },
      onEvent: (e) =>
        events.push(
          `${e.phase} ${e.action} #${e.request}/${e.ofAction}${e.fault ? ` ${e.fault}` : ''}`,
        ),
    });
    await receive(client);
    await client.send(new GetQueueUrlCommand({ QueueName: 'q' })).catch(() => undefined);
    expect(events).toEqual([
      'arrived ReceiveMessage #1/1',
      'forwarded ReceiveMessage #1/1',
      'arrived GetQueueUrl #2/1',
      'faulted GetQueueUrl #2/1 503',
    ]);
    expect(proxy.requests).toBe(2);
  });

  it('faults only the actions named', async () => {
    const { proxy, client } = await proxied({
      faults: { rate: 1, kinds: ['500'], actions: ['GetQueueUrl'] },
    });
    await receive(client);
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'q' }))).rejects.toMatchObject({
      name: 'InternalError',
    });
    expect(proxy.injected['500']).toBe(1);
  });

  it('closes itself after maxRequests and after maxDurationMs', async () => {
    const { proxy, client } = await proxied({ maxRequests: 2 });
    await receive(client);
    await receive(client);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(proxy.closedReason).toBe('maxRequests');
    await expect(receive(client)).rejects.toBeDefined();

    const timed = await proxied({ maxDurationMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(timed.proxy.closedReason).toBe('maxDurationMs');
  });

  it('refuses targets that are not loopback, and bad fault options', async () => {
    await expect(startSqsProxy({ target: 'http://sqs.us-east-1.amazonaws.com' })).rejects.toThrow(
      /loopback/,
    );
    await expect(startSqsProxy({ target, faults: { rate: 2, kinds: ['500'] } })).rejects.toThrow(
      /faults.rate/,
    );
    await expect(
      startSqsProxy({ target, faults: { rate: 0.1, kinds: ['teapot' as FaultKind] } }),
    ).rejects.toThrow(/faults.kinds/);
    await expect(
      startSqsProxy({ target, faults: { rate: 0.1, kinds: ['slow'], slowMs: -1 } }),
    ).rejects.toThrow(/faults.slowMs/);
  });
});
