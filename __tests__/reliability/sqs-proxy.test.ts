/**
 * The fault proxy itself, against a tiny fake SQS (node:http answering the JSON protocol), so
 * that what it injects is known to reach the SDK as the errors the streams classify.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isTransientError } from '../../lib/core/classify';
import { startSqsProxy, type FaultKind, type SqsProxy } from '../support/sqs-proxy';

let upstream: http.Server;
let target: string;
const seen: string[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(String(req.headers['x-amz-target']));
      const md5 = createHash('md5').update('b').digest('hex');
      const body = `{"Messages":[{"MessageId":"m-1","ReceiptHandle":"rh-1","Body":"b","MD5OfBody":"${md5}"}],"QueueUrl":"http://q"}`;
      res.writeHead(200, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

const proxies: SqsProxy[] = [];
const clients: SQSClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  seen.length = 0;
});

async function proxied(options: Omit<Parameters<typeof startSqsProxy>[0], 'target'>) {
  const proxy = await startSqsProxy({ target, ...options });
  proxies.push(proxy);
  // One attempt: the SDK's own retries would hide what the proxy did.
  const client = new SQSClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDPROXYTEST', secretAccessKey: 'proxy-test-secret' },
    maxAttempts: 1,
  });
  clients.push(client);
  return { proxy, client };
}

const receive = (client: SQSClient) =>
  client.send(
    new ReceiveMessageCommand({ QueueUrl: `${target}/000000000000/q`, WaitTimeSeconds: 0 }),
  );

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
  });
});
