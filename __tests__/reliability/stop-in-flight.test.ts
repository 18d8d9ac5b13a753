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
  // The second receive is stopped right after SQS answered it (so SQS handed its batch out),
  // while the proxy still holds the answer back (half of the 400 ms round trip).
  let stopSource = (): void => undefined;
  proxy = await startSqsProxy({
    target: endpoint.endpoint,
    latencyMs: 400,
    maxDurationMs: 60_000,
    onEvent: (event) => {
      if (
        event.phase === 'forwarded' &&
        event.action === 'ReceiveMessage' &&
        event.ofAction === 2
      ) {
        stopSource();
      }
    },
  });
  const client = new SQSClient({ ...sqsClientConfig(endpoint), endpoint: proxy.endpoint });
  const source = new SqsReadable({ queueUrl, client, highWaterMark: 10, visibilityTimeout: 30 });
  stopSource = () => void source.stop();
  const received: string[] = [];
  source.on('data', (m: { body: string; ack(): Promise<void> }) => {
    received.push(m.body);
    void m.ack();
  });
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
