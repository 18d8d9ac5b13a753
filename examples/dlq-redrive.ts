/**
 * Dead-letter queue redrive: receive from one queue, send to another with SqsWritable, and delete
 * each message from the first queue only once the second one has accepted it.
 *
 * A write's callback fires when SQS accepted that message, so that is where the source message
 * is acked. If the target refuses a message, it is nacked (visible in the dead-letter queue again
 * at once) and the redrive stops with the target's error; the messages still held are released.
 * Nothing is deleted that was not delivered. (A response lost after SQS stored a message can mean
 * a duplicate in the target, as with any SQS send: consumers of standard queues must be
 * idempotent anyway.)
 *
 * SQS has a built-in redrive for standard queues (StartMessageMoveTask, "Start DLQ redrive" in
 * the console). This program is for what it does not do: FIFO queues, any target queue, a filter
 * or a fix on the way, a redrive you can test.
 *
 * Run it (after `npm run build`):
 *   FROM_QUEUE_URL=https://.../orders-dlq TO_QUEUE_URL=https://.../orders npx ts-node examples/dlq-redrive.ts
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, SqsWritable, type SendInput, type SqsMessage } from 'sqs-streams';

export interface RedriveOptions {
  client: SQSClient;
  /** The dead-letter queue. */
  fromQueueUrl: string;
  /** Where its messages go. */
  toQueueUrl: string;
  /** Stop once the dead-letter queue has been empty this long, in ms. */
  idleTimeoutMs?: number;
}

/** The message to send for a received one: same body and attributes (and group, on FIFO). */
function copyOf(message: SqsMessage, fifo: boolean): SendInput {
  const copy: SendInput = { body: message.body, messageAttributes: message.messageAttributes };
  if (fifo) {
    copy.groupId = message.attributes.MessageGroupId;
    copy.deduplicationId = message.attributes.MessageDeduplicationId ?? message.messageId;
  }
  return copy;
}

/** Moves every message; resolves with how many were moved. */
export async function redrive({
  client,
  fromQueueUrl,
  toQueueUrl,
  idleTimeoutMs = 5_000,
}: RedriveOptions): Promise<number> {
  const source = new SqsReadable({ queueUrl: fromQueueUrl, client, idleTimeoutMs });
  const target = new SqsWritable({ queueUrl: toQueueUrl, client });
  const targetFinished = finished(target);
  targetFinished.catch(() => {}); // awaited below; this only keeps an early failure "handled"

  let moved = 0;
  let ackFailure: unknown;
  const settling = new Set<Promise<void>>();
  const settle = (message: SqsMessage, error: Error | null | undefined): void => {
    // Accepted by the target: delete it from the dead-letter queue, not before.
    // Refused: back into the dead-letter queue at once.
    const settled = (error ? message.nack() : message.ack()).then(
      () => {
        if (!error) moved += 1;
      },
      (settleError: unknown) => {
        ackFailure ??= settleError;
      },
    );
    settling.add(settled);
    void settled.then(() => settling.delete(settled));
  };

  for await (const message of source as AsyncIterable<SqsMessage>) {
    // A failed target ends the loop, which destroys the source: what it holds is released.
    if (target.errored) break;
    const ok = target.write(copyOf(message, target.fifo), (error) => settle(message, error));
    if (!ok) await once(target, 'drain'); // backpressure; rejects if the target fails meanwhile
  }
  target.end();
  await targetFinished; // every message accepted, or the target's error
  await Promise.all(settling); // and deleted from the dead-letter queue
  if (ackFailure !== undefined) throw ackFailure;
  return moved;
}

if (require.main === module) {
  const fromQueueUrl = process.env.FROM_QUEUE_URL;
  const toQueueUrl = process.env.TO_QUEUE_URL;
  if (fromQueueUrl === undefined || toQueueUrl === undefined) {
    throw new Error('Set FROM_QUEUE_URL (the dead-letter queue) and TO_QUEUE_URL');
  }
  redrive({ client: new SQSClient({}), fromQueueUrl, toQueueUrl }).then(
    (moved) => console.log(`moved ${moved} messages`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
