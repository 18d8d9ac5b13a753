import { randomBytes } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import {
  readPublishedEndpoint,
  sqsClientConfig,
  type PublishedSqsEndpoint,
} from './sqs-endpoint.js';

export { countRequests, type RequestCounter } from './request-counter.js';

/**
 * The endpoint the integration project's globalSetup started (or `SQS_ENDPOINT`), with its
 * `kind` (`env` | `localstack` | `fauxqs`) and `detectMs`. Throws, saying how to run the
 * suite, when there is none.
 */
export function testEndpoint(): PublishedSqsEndpoint {
  return readPublishedEndpoint();
}

/**
 * A new SQSClient for the test endpoint: explicit `endpoint`, its region, static test
 * credentials for a local endpoint (else the SDK's default chain). A new client per call, so
 * {@link countRequests} on it sees only the caller's requests. `overrides` win.
 */
export function testClient(overrides: Partial<SQSClientConfig> = {}): SQSClient {
  return new SQSClient({ ...testClientConfig(), ...overrides });
}

/** The configuration {@link testClient} uses, for code under test that builds its own client. */
export function testClientConfig(): SQSClientConfig {
  return sqsClientConfig(testEndpoint());
}

let adminClient: SQSClient | undefined;
// Queue administration goes through its own client so it never shows up in a test's counts.
function admin(): SQSClient {
  return (adminClient ??= testClient());
}

const createdQueues = new Set<string>();

/** Options of {@link createTestQueue}. */
export interface CreateTestQueueOptions {
  /** A FIFO queue (name ends in `.fifo`; `ContentBasedDeduplication` on unless `attributes` say otherwise). */
  fifo?: boolean;
  /** The queue's default visibility timeout, seconds (SQS default: 30). */
  visibilityTimeout?: number;
  /** Further CreateQueue attributes; they override the ones above. */
  attributes?: Record<string, string>;
  /** Start of the queue name. Default `sqs-streams-test`. */
  prefix?: string;
}

/**
 * Creates a queue with a unique name (prefix + time + random: names are never reused, which
 * real SQS refuses for 60 s after a delete) and returns the URL SQS returned. Always use that
 * URL: fauxqs knows a queue by its exact URL and answers "does not exist" to other spellings.
 * Beware with `fifo`: content-based deduplication drops a repeated body within 5 minutes.
 */
export async function createTestQueue(options: CreateTestQueueOptions = {}): Promise<string> {
  const suffix = options.fifo ? '.fifo' : '';
  const name = `${options.prefix ?? 'sqs-streams-test'}-${uniqueToken()}${suffix}`;
  if (name.length > 80) throw new Error(`queue name "${name}" is longer than 80 characters`);
  const attributes: Record<string, string> = {
    ...(options.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {}),
    ...(options.visibilityTimeout !== undefined
      ? { VisibilityTimeout: String(options.visibilityTimeout) }
      : {}),
    ...options.attributes,
  };
  const { QueueUrl } = await admin().send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  createdQueues.add(QueueUrl);
  return QueueUrl;
}

/** Deletes a queue; a queue already gone is fine. */
export async function deleteTestQueue(queueUrl: string): Promise<void> {
  createdQueues.delete(queueUrl);
  try {
    await admin().send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  } catch (error) {
    const gone =
      error instanceof QueueDoesNotExist || (error as Error).name === 'QueueDoesNotExist';
    if (!gone) throw error;
  }
}

/** Deletes every queue {@link createTestQueue} made in this test file (for `afterAll`). */
export async function deleteCreatedTestQueues(): Promise<void> {
  await Promise.all([...createdQueues].map((url) => deleteTestQueue(url)));
  // Its keep-alive sockets would outlive the file; a later call makes a new one.
  adminClient?.destroy();
  adminClient = undefined;
}

/** The queue name, the last path segment of its URL. */
export function queueNameOf(queueUrl: string): string {
  const name = new URL(queueUrl).pathname.split('/').pop();
  if (!name) throw new Error(`no queue name in URL ${queueUrl}`);
  return name;
}

/** Options of {@link sendTestMessages}. */
export interface SendTestMessagesOptions {
  /** FIFO only: the message group of message `i`. Default: one group, `group-0`. */
  groupId?: (index: number) => string;
}

/**
 * Sends `count` messages with SendMessageBatch, 10 a request, in order, one request at a time,
 * and returns the bodies sent (`message-<i>` unless `makeBody` says otherwise). On a FIFO queue
 * each message gets a group (see `options.groupId`) and a unique deduplication id, so equal
 * bodies are not deduplicated. Throws if any entry failed.
 */
export async function sendTestMessages(
  client: SQSClient,
  queueUrl: string,
  count: number,
  makeBody: (index: number) => string = (index) => `message-${index}`,
  options: SendTestMessagesOptions = {},
): Promise<string[]> {
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be >= 0, not ${count}`);
  const fifo = queueUrl.endsWith('.fifo');
  const run = uniqueToken();
  const bodies = Array.from({ length: count }, (_, index) => makeBody(index));
  for (let start = 0; start < count; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, offset) => {
      const index = start + offset;
      return {
        Id: `m${index}`,
        MessageBody: body,
        ...(fifo
          ? {
              MessageGroupId: options.groupId?.(index) ?? 'group-0',
              MessageDeduplicationId: `${run}-${index}`,
            }
          : {}),
      };
    });
    const { Failed } = await client.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed && Failed.length > 0) {
      const codes = Failed.map((entry) => `${entry.Id ?? '?'}: ${entry.Code ?? '?'}`).join(', ');
      throw new Error(`SendMessageBatch failed for ${Failed.length} entries (${codes})`);
    }
  }
  return bodies;
}

/** Options of {@link drainQueue}. */
export interface DrainQueueOptions {
  /** Stop after this many empty receives in a row. Default 1 (a long poll that comes back empty). */
  maxEmptyReceives?: number;
  /** Delete what was received (default true). Without it, messages stay invisible for the
   * visibility timeout, and a FIFO group stays locked, so a FIFO drain then stops early. */
  deleteMessages?: boolean;
  /** Stop after this many messages. Default 10 000. */
  maxMessages?: number;
  /** Stop starting receives after this long. Default 30 s. */
  timeoutMs?: number;
  /** Long-poll wait per receive, 0-20 s. Default 1: a short poll (0) on real SQS samples only
   * some servers and can come back empty while messages remain. */
  waitTimeSeconds?: number;
  /** Visibility timeout of the received messages, seconds. Default: the queue's. */
  visibilityTimeout?: number;
}

/**
 * Receives with a raw ReceiveMessage loop (10 a request, all attributes) until the queue looks
 * empty, and returns what was left, in receive order. Bounded by receive count, message count
 * and time. Deletes what it received unless told not to.
 */
export async function drainQueue(
  client: SQSClient,
  queueUrl: string,
  options: DrainQueueOptions = {},
): Promise<Message[]> {
  const maxEmptyReceives = options.maxEmptyReceives ?? 1;
  const maxMessages = options.maxMessages ?? 10_000;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const drained: Message[] = [];
  let emptiesInARow = 0;
  // A FIFO receive may return a single message, so the count bound allows one receive a message.
  const maxReceives = maxMessages + maxEmptyReceives;
  for (let receives = 0; receives < maxReceives; receives += 1) {
    if (emptiesInARow >= maxEmptyReceives || drained.length >= maxMessages) break;
    if (Date.now() >= deadline) break;
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, maxMessages - drained.length),
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        ...(options.visibilityTimeout !== undefined
          ? { VisibilityTimeout: options.visibilityTimeout }
          : {}),
      }),
    );
    emptiesInARow = Messages.length === 0 ? emptiesInARow + 1 : 0;
    drained.push(...Messages);
    if (Messages.length > 0 && options.deleteMessages !== false) {
      await deleteBatch(client, queueUrl, Messages);
    }
  }
  return drained;
}

async function deleteBatch(
  client: SQSClient,
  queueUrl: string,
  messages: Message[],
): Promise<void> {
  const { Failed } = await client.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((message, index) => ({
        Id: `d${index}`,
        ReceiptHandle: message.ReceiptHandle,
      })),
    }),
  );
  if (Failed && Failed.length > 0) {
    throw new Error(`DeleteMessageBatch failed for ${Failed.length} entries while draining`);
  }
}

/** Approximate message counts from GetQueueAttributes. */
export interface ApproximateCounts {
  /** ApproximateNumberOfMessages. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible (received, not deleted, not yet expired). */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed. */
  delayed: number;
}

/**
 * The queue's approximate counts. Approximate indeed: real SQS is eventually consistent (about
 * a minute), and fauxqs counts a message whose visibility timeout expired as in flight until
 * the next receive. Assert with receives ({@link drainQueue}), and use these for diagnostics.
 */
export async function approximateCounts(
  client: SQSClient,
  queueUrl: string,
): Promise<ApproximateCounts> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

function uniqueToken(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
