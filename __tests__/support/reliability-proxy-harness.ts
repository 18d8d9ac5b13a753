/**
 * For the tests of the fault proxy itself: a tiny fake SQS (node:http answering the JSON
 * protocol with one message), proxies in front of it, and SDK clients through them with the
 * SDK's own retries off.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ReceiveMessageCommand,
  SQSClient,
  type ReceiveMessageCommandOutput,
} from '@aws-sdk/client-sqs';
import { startSqsProxy, type SqsProxy, type SqsProxyOptions } from './sqs-proxy';

export interface ProxyHarness {
  /** The fake SQS's endpoint. */
  readonly target: string;
  /** X-Amz-Target of every request the fake SQS got, in order. */
  readonly seen: string[];
  /** A proxy in front of the fake SQS and a client through it (closed by `reset`). */
  proxied(
    options: Omit<SqsProxyOptions, 'target'>,
  ): Promise<{ proxy: SqsProxy; client: SQSClient }>;
  /** A short-poll ReceiveMessage through `client`. */
  receive(client: SQSClient, abortSignal?: AbortSignal): Promise<ReceiveMessageCommandOutput>;
  /** Closes the proxies and clients made since the last call (afterEach). */
  reset(): Promise<void>;
  /** Closes the fake SQS (afterAll). */
  close(): Promise<void>;
}

export async function startProxyHarness(): Promise<ProxyHarness> {
  const seen: string[] = [];
  const upstream = http.createServer((req, res) => {
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
  const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const proxies: SqsProxy[] = [];
  const clients: SQSClient[] = [];

  return {
    target,
    seen,
    async proxied(options) {
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
    },
    receive: (client, abortSignal) =>
      client.send(
        new ReceiveMessageCommand({ QueueUrl: `${target}/000000000000/q`, WaitTimeSeconds: 0 }),
        abortSignal === undefined ? {} : { abortSignal },
      ),
    async reset() {
      for (const client of clients.splice(0)) client.destroy();
      await Promise.all(proxies.splice(0).map((p) => p.close()));
      seen.length = 0;
    },
    async close() {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}
