// The queue helpers of `sqs-streams/testing`: create, send, drain, and their argument checks.
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Options of {@link TestSqs.drain}. */
export interface DrainOptions {
  /**
   * Long-poll wait of each receive, 0-20 seconds; the drain ends at the first empty one. (A short
   * poll, 0, on real SQS samples some servers: it can come back empty while messages remain.)
   * @default 1
   */
  waitTimeSeconds?: number;
  /** Receive no more than this many messages (a bound of the loop). @default 10_000 */
  maxMessages?: number;
  /** Start no receive after this many milliseconds (the other bound). @default 30_000 */
  timeoutMs?: number;
}

const MAX_BATCH_BYTES = 256 * 1024;
const FIFO_GROUP = 'sqs-streams-testing';

export async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  check(typeof name === 'string' && name !== '', 'name', 'a non-empty string', name);
  check(isObject(attributes), 'attributes', 'an object', attributes);
  const fifo = name.endsWith('.fifo') ? { FifoQueue: 'true' } : {};
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { ...fifo, ...attributes } }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  return QueueUrl;
}

export async function send(
  client: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<void> {
  checkQueueUrl(queueUrl);
  check(Array.isArray(bodies), 'bodies', 'an array of strings', bodies);
  bodies.forEach((body: unknown, i) =>
    check(typeof body === 'string', `bodies[${i}]`, 'a string', body),
  );
  const fifo = queueUrl.endsWith('.fifo');
  for (const batch of batches(bodies)) {
    const { Failed = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map(({ body, index }) => ({
          Id: String(index),
          MessageBody: body,
          ...(fifo ? { MessageGroupId: FIFO_GROUP, MessageDeduplicationId: randomUUID() } : {}),
        })),
      }),
    );
    if (Failed.length > 0) {
      const codes = Failed.map((entry) => `bodies[${entry.Id ?? '?'}]: ${entry.Code ?? '?'}`);
      throw new Error(`SendMessageBatch to ${queueUrl} refused ${codes.join(', ')}`);
    }
  }
}

/** Runs of at most 10 bodies and {@link MAX_BATCH_BYTES}, with their indexes in `bodies`. */
export function batches(bodies: readonly string[]): Array<Array<{ body: string; index: number }>> {
  const out: Array<Array<{ body: string; index: number }>> = [];
  let bytes = 0;
  bodies.forEach((body, index) => {
    const size = Buffer.byteLength(body);
    const last = out.at(-1);
    const fits = last !== undefined && last.length < 10 && bytes + size <= MAX_BATCH_BYTES;
    if (fits) last.push({ body, index });
    else out.push([{ body, index }]);
    bytes = fits ? bytes + size : size;
  });
  return out;
}

export async function drain(
  client: SQSClient,
  queueUrl: string,
  options: DrainOptions = {},
): Promise<string[]> {
  checkQueueUrl(queueUrl);
  check(isObject(options), 'options', 'an object', options);
  const { waitTimeSeconds = 1, maxMessages = 10_000, timeoutMs = 30_000 } = options;
  checkInteger('waitTimeSeconds', waitTimeSeconds, 0, 20);
  checkInteger('maxMessages', maxMessages, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('timeoutMs', timeoutMs, 0, Number.MAX_SAFE_INTEGER);
  const deadline = Date.now() + timeoutMs;
  const bodies: string[] = [];
  // One receive per message at worst (a FIFO receive may return one), plus the empty one.
  for (let receives = 0; receives <= maxMessages && Date.now() <= deadline; receives++) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, maxMessages - bodies.length),
        WaitTimeSeconds: waitTimeSeconds,
      }),
    );
    if (Messages.length === 0) break;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
    const { Failed = [] } = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    if (Failed.length > 0) {
      const codes = Failed.map((entry) => entry.Code ?? '?').join(', ');
      throw new Error(`DeleteMessageBatch on ${queueUrl} failed for ${Failed.length} (${codes})`);
    }
    if (bodies.length >= maxMessages) break;
  }
  return bodies;
}

export function checkQueueUrl(value: unknown): void {
  check(typeof value === 'string' && value !== '', 'queueUrl', 'a queue URL (a string)', value);
}

export function checkInteger(name: string, value: unknown, min: number, max: number): void {
  const ok = Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
  check(ok, name, `an integer ${range}`, value);
}

export function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Throws "Expected `name` to be <expected>, got <value>" unless `ok`. */
export function check(ok: boolean, name: string, expected: string, value: unknown): void {
  if (!ok) throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${quote(value)}`);
}

/** A value as an error message shows it: strings and numbers verbatim, else its kind. */
export function quote(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return `\`${String(value).slice(0, 100)}\``;
  }
  if (value === null || value === undefined) return `\`${String(value)}\``;
  const kind = Array.isArray(value) ? 'array' : typeof value;
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}
