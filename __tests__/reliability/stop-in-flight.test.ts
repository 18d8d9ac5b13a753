/**
 * stop() while a ReceiveMessage is in flight on a queue with messages: SQS hands the batch out
 * when the request arrives, so a receive cut short by the client leaves its messages invisible
 * for the whole visibility timeout. The proxy's latency keeps the receive in flight long enough
 * to stop in the middle of it, every time. (The SIGTERM test in processes.test.ts hits the same
 * window by chance.)
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable } from '../../lib/index';
import { startSqsProxy, type SqsProxy } from '../support/sqs-proxy';
import {
  createTestQueue,
  deleteCreatedTestQueues,
  drainQueue,
  sendTestMessages,
  testClient,
  testEndpoint,
} from '../support/sqs-helpers';
import { sqsClientConfig } from '../support/sqs-endpoint';
import { report } from '../support/reliability-report';
import { proxyable } from '../support/reliability-procs';

const endpoint = testEndpoint();
const admin = testClient();
let proxy: SqsProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await deleteCreatedTestQueues();
  admin.destroy();
});

// The proxy forwards to loopback only: against real AWS (SQS_ENDPOINT) this test is skipped.
const itProxied = proxyable(endpoint.endpoint) ? it : it.skip;

itProxied('stop() during a receive in flight leaves no message invisible', async () => {
  const queueUrl = await createTestQueue({ visibilityTimeout: 30 });
  const sent = await sendTestMessages(admin, queueUrl, 50, (i) => `stop-${Date.now()}-${i}`);
  // 400 ms round trip: 200 ms before the request reaches SQS, 200 ms before the answer returns.
  proxy = await startSqsProxy({ target: endpoint.endpoint, latencyMs: 400, maxDurationMs: 60_000 });
  const client = new SQSClient({ ...sqsClientConfig(endpoint), endpoint: proxy.endpoint });
  const source = new SqsReadable({ queueUrl, client, highWaterMark: 10, visibilityTimeout: 30 });
  const received: string[] = [];
  source.on('data', (m: { body: string; ack(): Promise<void> }) => {
    received.push(m.body);
    void m.ack();
  });
  // The first batch is in; the second receive starts at once: stop 300 ms into it, after SQS
  // handed its batch out (at ~200 ms) and before the answer is back (at ~400 ms).
  source.once('receive', () => setTimeout(() => void source.stop(), 300));
  await new Promise((resolve) => source.once('close', resolve));
  const receiveRequests = source.stats.receiveRequests;
  client.destroy();

  const visible = await drainQueue(admin, queueUrl, { waitTimeSeconds: 1, maxEmptyReceives: 1 });
  const leftInvisible = sent.length - received.length - visible.length;
  report('stop-during-receive', {
    messages: sent.length,
    received: received.length,
    receiveRequests,
    visibleRightAfterStop: visible.length,
    leftInvisible,
  });
  expect(leftInvisible).toBe(0);
});
