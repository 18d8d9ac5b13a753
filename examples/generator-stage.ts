/**
 * A pipeline stage written as an async generator, ending in SqsAckWritable.
 *
 * `pipeline()` accepts an async generator function as a stage: it reads the messages, does the
 * work, and yields each message whose work succeeded, which SqsAckWritable then deletes (in
 * batches of 10, each write confirmed before the next round). A message the generator does not
 * yield is not deleted; if the work throws, the pipeline rejects and the source releases every
 * message it still holds (visible again at once).
 *
 * Run it (after `npm run build`):
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/events npx ts-node examples/generator-stage.ts
 */
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, type SqsMessage, type SqsReadableStats } from 'sqs-streams';

export interface GeneratorStageOptions {
  client: SQSClient;
  queueUrl: string;
  /** The work to do for one message. */
  handle?: (message: SqsMessage) => Promise<void>;
  /** End once the queue has been empty this long, in ms (drain mode). Default: run until stopped. */
  idleTimeoutMs?: number;
}

async function logMessage(message: SqsMessage): Promise<void> {
  console.log('got %s (%d bytes)', message.messageId, message.body.length);
}

export async function main({
  client,
  queueUrl,
  handle = logMessage,
  idleTimeoutMs,
}: GeneratorStageOptions): Promise<SqsReadableStats> {
  const source = new SqsReadable({ queueUrl, client, idleTimeoutMs });
  await pipeline(
    source,
    async function* (messages: AsyncIterable<SqsMessage>) {
      for await (const message of messages) {
        await handle(message);
        yield message; // only messages that made it through are acked
      }
    },
    new SqsAckWritable(),
  );
  return source.stats;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  if (queueUrl === undefined) throw new Error('Set QUEUE_URL to the URL of your queue');
  main({ client: new SQSClient({}), queueUrl, idleTimeoutMs: 5_000 }).then(
    (stats) => console.log(`done: ${stats.acked} messages acked`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
