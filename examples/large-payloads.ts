/**
 * Large payloads: bodies bigger than the queue takes go through S3, in the format of the AWS
 * extended clients (Java amazon-sqs-java-extended-client-lib 2.x, Python
 * amazon-sqs-python-extended-client), so either side may be Java, Python or this package.
 *
 * The sender stores a body over the threshold (the queue's MaximumMessageSize by default) in S3
 * and sends a pointer; the receiver reads the object before delivering the message, and deletes
 * it once the message is acked. An unreadable pointer is reported, not fatal.
 *
 * Run it (after `npm run build`), with a bucket that exists:
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/reports BUCKET=my-payloads \
 *     npx ts-node examples/large-payloads.ts
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsAckWritable, SqsReadable, SqsWritable, type SqsStreamError } from 'sqs-streams';

export interface LargePayloadsOptions {
  client: SQSClient;
  s3Client: S3Client;
  queueUrl: string;
  bucket: string;
  /** The reports to send; any size. */
  reports: string[];
  /** Called for a message whose payload could not be read (it was not delivered). */
  onPayloadError?: (error: SqsStreamError) => void;
}

/** Sends the reports, then receives them back (bodies from S3) and acks each one. */
export async function roundTrip(options: LargePayloadsOptions): Promise<string[]> {
  const { client, s3Client, queueUrl, bucket, reports } = options;

  const sink = new SqsWritable({
    queueUrl,
    client,
    largePayloads: { s3Client, bucket, keyPrefix: 'reports/' },
  });
  await pipeline(Readable.from(reports), sink);

  const source = new SqsReadable({
    queueUrl,
    client,
    largePayloads: { s3Client }, // deleteFromS3: true by default
    idleTimeoutMs: 2_000,
  });
  source.on('payloadError', (error: SqsStreamError) => {
    // Not delivered, not deleted: it comes back after its visibility timeout, then goes to the
    // dead-letter queue by the queue's redrive policy. The error names bucket, key and message.
    options.onPayloadError?.(error);
  });
  const received: string[] = [];
  await pipeline(
    source,
    async function* (messages) {
      for await (const message of messages) {
        received.push(message.body); // the S3 object's content; message.payload says where
        yield message;
      }
    },
    new SqsAckWritable(), // each ack resolves once the SQS delete and the S3 delete are done
  );
  return received;
}

if (require.main === module) {
  const queueUrl = process.env.QUEUE_URL;
  const bucket = process.env.BUCKET;
  if (queueUrl === undefined || bucket === undefined) {
    throw new Error('Set QUEUE_URL to your queue and BUCKET to an S3 bucket');
  }
  const reports = ['a short report', 'x'.repeat(2_000_000)]; // the second goes through S3
  roundTrip({
    client: new SQSClient({}),
    s3Client: new S3Client({}),
    queueUrl,
    bucket,
    reports,
  }).then(
    (bodies) => console.log(`received ${bodies.length} reports`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
