/**
 * For work on this repository: a plain Node script (not a Jest test) on the SQS endpoint the
 * test suite would use: `SQS_ENDPOINT` if set, else LocalStack when a Docker engine answers, else
 * the fauxqs emulator, here in a child process of its own. See docs/testing.md.
 *
 * It creates a queue, sends a message with SqsWritable, receives and acks it with SqsReadable,
 * and stops what the harness started.
 *
 * Run it from the repository root:
 *   npx ts-node examples/contributing/endpoint-script.ts
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, SqsWritable, type SqsMessage } from 'sqs-streams';
import { sqsClientConfig, startSqsEndpoint } from '../../__tests__/support/sqs-endpoint';

export interface EndpointScriptResult {
  /** Which endpoint the harness picked: `env`, `localstack` or `fauxqs`. */
  kind: string;
  /** The body that made the round trip. */
  body: string | undefined;
}

/** `env` is where `SQS_ENDPOINT`, `SQS_TEST_DOCKER`, ... are read (default: `process.env`). */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<EndpointScriptResult> {
  const endpoint = await startSqsEndpoint({ env, fauxqs: 'child-process' });
  const client = new SQSClient(sqsClientConfig(endpoint)); // explicit endpoint, region, credentials
  try {
    const { QueueUrl: queueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: `endpoint-script-${Date.now()}` }),
    );
    if (queueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
    await pipeline(Readable.from(['hello']), new SqsWritable({ queueUrl, client }));
    const source = new SqsReadable({ queueUrl, client, maxMessages: 1 });
    let body: string | undefined;
    for await (const message of source as AsyncIterable<SqsMessage>) {
      body = message.body;
      await message.ack();
    }
    await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    return { kind: endpoint.kind, body };
  } finally {
    client.destroy(); // stop consumers first: see "stop consumers before the server"
    await endpoint.stop();
  }
}

if (require.main === module) {
  main().then(
    (result) => console.log(`${result.kind}: received ${JSON.stringify(result.body)}`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
