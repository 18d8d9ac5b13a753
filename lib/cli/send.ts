import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { isPlainObject } from '../core/validate.js';
import { BatchEntryError, MessageTooLargeError, SqsWritable, type SendInput } from '../index.js';
import {
  CliError,
  createCliClient,
  createCliS3Client,
  queueRef,
  retryOption,
  type ConnectionFlags,
  type S3Flags,
} from './common.js';
import { Progress, drained, fixed, retryReporter } from './output.js';
import { onStopSignals } from './signals.js';

export interface SendCommandFlags extends ConnectionFlags, S3Flags {
  raw?: boolean;
}

/** Keys of an input line: SqsWritable's shape, plus what `receive` prints (so its output can be sent again). */
const SEND_KEYS = new Set([
  'body',
  'delaySeconds',
  'messageAttributes',
  'groupId',
  'deduplicationId',
]);
const RECEIVE_KEYS = new Set(['messageId', 'attributes', 'receiveCount', 'payload']);

/** A line that is not a message; its text never goes into the error (it may be a body). */
export class BadLineError extends Error {
  override name = 'BadLineError';
}

/** Binary attribute values arrive base64-encoded in JSON (as `receive` prints them). */
function decodeAttributes(value: unknown): Record<string, MessageAttributeValue> {
  if (!isPlainObject(value)) {
    throw new BadLineError(
      '`messageAttributes` must be an object of name -> { DataType, StringValue | BinaryValue }',
    );
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, attribute] of Object.entries(value)) {
    if (!isPlainObject(attribute)) {
      throw new BadLineError(
        `message attribute \`${name}\` must be an object with DataType and StringValue or BinaryValue`,
      );
    }
    const { BinaryValue, BinaryListValues, ...rest } = attribute;
    out[name] = {
      ...(rest as unknown as MessageAttributeValue),
      ...(typeof BinaryValue === 'string'
        ? { BinaryValue: Buffer.from(BinaryValue, 'base64') }
        : {}),
      ...(Array.isArray(BinaryListValues)
        ? { BinaryListValues: BinaryListValues.map((b) => Buffer.from(String(b), 'base64')) }
        : {}),
    };
  }
  return out;
}

/**
 * One NDJSON line as a message: a JSON object in SqsWritable's shape (`body`, `delaySeconds`,
 * `messageAttributes`, `groupId`, `deduplicationId`), or a JSON string (the body). A line that
 * `receive` printed works too: `messageId`, `attributes` and `receiveCount` are ignored, except
 * that on a FIFO queue the group and deduplication ids come from `attributes` when not given.
 */
export function parseLine(text: string, fifo: boolean): SendInput | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new BadLineError(
      `not valid JSON${position === undefined ? '' : ` (at character ${Number(position) + 1})`}; each line must be one JSON object such as {"body":"..."}, or use --raw to send lines as they are`,
    );
  }
  if (typeof value === 'string') return value;
  if (!isPlainObject(value)) {
    throw new BadLineError(
      'expected a JSON object with a `body` (or a JSON string, the body itself)',
    );
  }
  for (const key of Object.keys(value)) {
    if (!SEND_KEYS.has(key) && !RECEIVE_KEYS.has(key)) {
      throw new BadLineError(
        `unknown key \`${key}\`; a line may have body, delaySeconds, messageAttributes, groupId, deduplicationId`,
      );
    }
  }
  if (value.body === undefined || value.body === null) {
    throw new BadLineError('the object has no `body`');
  }
  const input: SendInput = { body: value.body };
  if (value.delaySeconds !== undefined) input.delaySeconds = value.delaySeconds as number;
  if (value.messageAttributes !== undefined) {
    const attributes = decodeAttributes(value.messageAttributes);
    if (Object.keys(attributes).length > 0) input.messageAttributes = attributes;
  }
  const system = isPlainObject(value.attributes) ? value.attributes : {};
  const groupId = value.groupId ?? (fifo ? system.MessageGroupId : undefined);
  const deduplicationId =
    value.deduplicationId ?? (fifo ? system.MessageDeduplicationId : undefined);
  if (groupId !== undefined) input.groupId = groupId as string;
  if (deduplicationId !== undefined) input.deduplicationId = deduplicationId as string;
  return input;
}

/** An error about the message itself, found before any request was made for it. */
function isInvalidMessage(error: Error): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof MessageTooLargeError
  );
}

/** The stream's message for a write, with its "message #n" (write order) left out: we name the line. */
function describeWriteError(error: Error): string {
  return error.message.replace(/ of message #\d+/g, '').replace(/message #\d+/g, 'the message');
}

/** `send <queue>`: one message per stdin line. */
export async function sendCommand(queue: string, flags: SendCommandFlags): Promise<number> {
  const ref = queueRef(queue);
  const client = createCliClient(flags);
  const progress = new Progress('send', undefined);
  const s3Client = flags.s3Bucket === undefined ? undefined : createCliS3Client(flags, client);
  const sink = new SqsWritable({
    ...ref,
    client,
    retry: retryOption(flags),
    ...(s3Client && flags.s3Bucket ? { largePayloads: { s3Client, bucket: flags.s3Bucket } } : {}),
  });
  sink.on('retry', retryReporter(progress, 'send'));
  // Failures arrive through the write callbacks and `finished()`; this keeps an 'error' event
  // between two reads of stdin from being an uncaught exception.
  sink.on('error', () => undefined);
  const fifo = sink.fifo;
  if (process.stdin.isTTY) {
    progress.log('send: reading messages from the terminal, one per line; end with Ctrl-D');
  }

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  let stopping = false;
  const signals = onStopSignals(
    'send',
    {
      graceful: () => {
        stopping = true;
        lines.close();
      },
      immediate: async () => {
        sink.destroy();
      },
    },
    (line) => progress.log(line),
  );
  const ticker = setInterval(() => progress.update(sink.stats.sent), 250);

  const startedAt = Date.now();
  let lineNo = 0;
  let bad: { line: number; reason: string } | undefined;
  let failed: { line: number; error: Error } | undefined;
  let streamError: unknown;
  try {
    for await (const text of lines) {
      lineNo++;
      if (stopping || sink.destroyed) break;
      if (text === '') continue;
      let input: SendInput | string;
      try {
        input = flags.raw ? text : parseLine(text, fifo);
      } catch (error) {
        bad = { line: lineNo, reason: (error as Error).message };
        break;
      }
      const line = lineNo;
      const ok = sink.write(input, (error) => {
        if (error && failed === undefined) failed = { line, error };
      });
      if (!ok && !sink.destroyed) {
        await drained(sink);
      }
    }
  } catch (error) {
    streamError = error;
  } finally {
    lines.close();
  }
  try {
    if (!sink.destroyed) sink.end();
    await finished(sink);
  } catch (error) {
    streamError ??= error;
  } finally {
    clearInterval(ticker);
    signals.dispose();
  }
  progress.update(sink.stats.sent);
  progress.stop();
  const seconds = (Date.now() - startedAt) / 1000;
  process.stdout.write(
    `send: sent=${sink.stats.sent} requests=${sink.stats.sendRequests} seconds=${fixed(seconds, 1)} msgs/s=${fixed(sink.stats.sent / Math.max(seconds, 0.001), 0)}${signals.signal() ? ` stopped-by=${signals.signal()}` : ''}\n`,
  );
  client.destroy();
  s3Client?.destroy();
  const sent = sink.stats.sent;
  const before =
    sent === 0
      ? 'nothing was sent'
      : `the ${sent === 1 ? 'message' : `${sent} messages`} from the lines before it ${sent === 1 ? 'was' : 'were'} sent and confirmed`;
  if (failed !== undefined && isInvalidMessage(failed.error)) {
    throw new CliError(
      `line ${failed.line}: ${describeWriteError(failed.error)}. Stopped there: ${before}; nothing from line ${failed.line} on was sent.`,
    );
  }
  if (failed !== undefined && failed.error instanceof BatchEntryError) {
    throw new CliError(
      `line ${failed.line}: SQS refused the message: ${describeWriteError(failed.error)}. Stopped there: ${sent} messages were sent and confirmed, line ${failed.line} was not.`,
    );
  }
  const error = streamError ?? failed?.error;
  if (error !== undefined) throw error;
  if (bad !== undefined) {
    throw new CliError(
      `line ${bad.line}: ${bad.reason}. Stopped there: ${before}; nothing from line ${bad.line} on was sent.`,
    );
  }
  return 0;
}
