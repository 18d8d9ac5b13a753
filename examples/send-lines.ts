/**
 * Sending without a pipeline: `write()` each message, wait for `'drain'` when it returns
 * `false`, then `end()` and wait until SQS accepted everything.
 *
 * `write()` returns `false` once `highWaterMark` messages (80 by default) are written and not
 * yet accepted by SQS, so the loop goes at SQS's pace and memory stays bounded. The queue is
 * given by name here and looked up once, with GetQueueUrl.
 *
 * Run it (after `npm run build`); each argument is sent as one message:
 *   QUEUE_NAME=orders npx ts-node examples/send-lines.ts first second third
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsWritable, type SqsWritableStats } from 'sqs-streams';

export interface SendLinesOptions {
  client: SQSClient;
  queueName: string;
  lines: Iterable<string>;
}

/** Sends one message per line; resolves once SQS accepted them all, with the stream's counters. */
export async function sendLines({
  client,
  queueName,
  lines,
}: SendLinesOptions): Promise<SqsWritableStats> {
  const sink = new SqsWritable({ queueName, client }); // the name is resolved once
  for (const line of lines) {
    if (!sink.write(line)) await once(sink, 'drain'); // backpressure: SQS sets the pace
  }
  sink.end();
  await finished(sink); // every message accepted, or the stream's error
  return sink.stats; // { sent, sendRequests, errorsRetried, inFlight }
}

if (require.main === module) {
  const queueName = process.env.QUEUE_NAME;
  if (queueName === undefined) throw new Error('Set QUEUE_NAME to the name of your queue');
  sendLines({ client: new SQSClient({}), queueName, lines: process.argv.slice(2) }).then(
    (stats) => console.log(`sent ${stats.sent} messages in ${stats.sendRequests} requests`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
