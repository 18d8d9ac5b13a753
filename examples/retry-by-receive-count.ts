/**
 * Retry with backoff by receive count: a webhook sender that nacks a failed POST with a delay
 * that grows with each delivery of the message.
 *
 * `message.receiveCount` is SQS's ApproximateReceiveCount: 1 on the first delivery, 2 on the
 * second, and so on. The delay is applied by SQS (the message stays invisible), so nothing waits
 * in this process and other messages keep flowing. Give the queue a redrive policy
 * (`maxReceiveCount`) so that a message that keeps failing ends in a dead-letter queue.
 *
 * Each message body is a job such as `{"url":"https://example.com/hooks/orders"}`.
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks npx ts-node examples/retry-by-receive-count.ts
 */
import type { EventEmitter } from 'node:events';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsMessage } from 'sqs-streams';

export interface WebhookOptions {
  client: SQSClient;
  queueUrl: string;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until SIGTERM. */
  idleTimeoutMs?: number;
  /** Where failures are reported, `console.warn`-style. */
  log?: (format: string, ...args: unknown[]) => void;
  /** Where SIGTERM comes from. */
  signals?: EventEmitter;
}

export interface WebhookResult {
  delivered: number;
  retrying: number;
}

/** 30 s, 60 s, 120 s, ... capped at 15 minutes, each spread over its upper half. */
export function retryDelaySeconds(receiveCount: number): number {
  const ceiling = Math.min(900, 30 * 2 ** Math.max(0, receiveCount - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

async function handle(message: SqsMessage): Promise<void> {
  const job = JSON.parse(message.body) as { url: string };
  const response = await fetch(job.url, { method: 'POST' });
  if (!response.ok) throw new Error(`POST ${job.url} answered ${response.status}`);
}

export async function main({
  client,
  queueUrl,
  idleTimeoutMs,
  log = console.warn,
  signals = process,
}: WebhookOptions): Promise<WebhookResult> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs });
  const stop = (): void => void source.stop();
  signals.once('SIGTERM', stop);
  const result: WebhookResult = { delivered: 0, retrying: 0 };
  try {
    for await (const message of source as AsyncIterable<SqsMessage>) {
      try {
        await handle(message);
      } catch (error) {
        const delay = retryDelaySeconds(message.receiveCount);
        log(
          'message %s failed on delivery %d (%s); retrying in %d s',
          message.messageId,
          message.receiveCount,
          error instanceof Error ? error.message : String(error),
          delay,
        );
        await message.nack(delay);
        result.retrying += 1;
        continue;
      }
      await message.ack();
      result.delivered += 1;
    }
  } finally {
    signals.off('SIGTERM', stop);
  }
  return result;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({ client: new SQSClient({}), queueUrl }).then(
    ({ delivered, retrying }) =>
      console.log(`stopped: ${delivered} delivered, ${retrying} to retry`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
