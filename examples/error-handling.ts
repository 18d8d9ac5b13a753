/**
 * Errors: what to watch and what to branch on.
 *
 * Transient errors (throttling, 5xx, network, timeouts) never reach you as failures: the stream
 * retries them with exponential backoff and reports each retry as a `'retry'` event, worth a
 * warning in your logs and a metric. Permanent ones end the pipeline with an SqsStreamError that
 * names the operation and the queue and says what to do; the subclasses are the cases a program
 * handles differently.
 *
 * Run it (after `npm run build`):
 *   QUEUE_NAME=orders npx ts-node examples/error-handling.ts
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  AccessDeniedError,
  QueueDoesNotExistError,
  SqsAckWritable,
  SqsReadable,
  SqsStreamError,
  type SqsMessage,
} from 'sqs-streams';

export interface ErrorHandlingOptions {
  client: SQSClient;
  queueName: string;
  handle?: (body: string) => Promise<void>;
  /** End once the queue has been empty this long, in ms. */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What the program should exit with: 0 done, 2 misconfigured (do not restart), 1 anything else. */
export type ExitCode = 0 | 1 | 2;

export async function main({
  client,
  queueName,
  handle = async () => {},
  idleTimeoutMs,
  log = console.error,
}: ErrorHandlingOptions): Promise<ExitCode> {
  const source = new SqsReadable({ queueName, client, idleTimeoutMs });
  source.on('retry', (error: Error, attempt: number, delayMs: number) => {
    log(`SQS: ${error.name}, retry ${attempt} in ${delayMs} ms`); // transient: just watch it
  });
  source.on('heartbeatError', (error: SqsStreamError) => {
    log(`SQS: could not extend message ${error.messageId}: ${error.message}`); // never fatal
  });
  const work = new Transform({
    objectMode: true,
    transform(message: SqsMessage, _encoding, done) {
      handle(message.body).then(() => done(null, message), done);
    },
  });

  try {
    await pipeline(source, work, new SqsAckWritable());
    return 0;
  } catch (error) {
    if (error instanceof QueueDoesNotExistError || error instanceof AccessDeniedError) {
      log(error.message); // names the queue and the operation, and says what to check
      return 2; // configuration: restarting will not help
    }
    if (error instanceof SqsStreamError) {
      log(`${error.name} (${error.code ?? 'no code'}): ${error.message}`); // operation, queue, why
      return 1;
    }
    throw error; // not from SQS: your own code's error, as it was thrown
  }
}

if (require.main === module) {
  const queueName = process.env.QUEUE_NAME;
  if (queueName === undefined) throw new Error('Set QUEUE_NAME to the name of your queue');
  main({ client: new SQSClient({}), queueName }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
