// What the demo needs around the streams: the embedded emulator, request counts, queue checks.
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CliError, queueRef } from './common.js';

export interface EmbeddedServer {
  readonly port: number;
  stop(): Promise<void>;
}

// fauxqs is ESM-only and this is CommonJS: TypeScript would turn `import()` into `require()`,
// which cannot load it. A Function body is left alone, so this stays a native dynamic import
// (resolved from this file, so from the package's own node_modules).
const nativeImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

/** Starts the embedded emulator, or explains how to get it. */
export async function startEmbedded(): Promise<EmbeddedServer> {
  let mod: { startFauxqs(options: { port: number; logger: boolean }): Promise<EmbeddedServer> };
  try {
    mod = (await nativeImport('fauxqs')) as typeof mod;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      /'fauxqs'/.test((error as Error).message);
    if (missing) {
      throw new CliError(
        'The demo runs on the embedded SQS emulator fauxqs, a devDependency that is not installed. ' +
          'In a clone of the repository run `npm ci` first (then `npm start`); or run the demo against ' +
          'LocalStack or AWS: `sqs-streams demo --endpoint http://localhost:4566` or `sqs-streams demo --queue <url>`.',
      );
    }
    throw error;
  }
  return mod.startFauxqs({ port: 0, logger: false });
}

/** Counts every request the client makes, by command, each attempt included (SQS bills each). */
export function countRequests(client: SQSClient): Record<string, number> {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'sqsStreamsDemoRequestCounter' },
  );
  return counts;
}

export function diff(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

export const sum = (counts: Record<string, number>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);
export const list = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name}=${n}`)
    .join(' ');

export async function resolveUserQueue(client: SQSClient, queue: string): Promise<string> {
  const ref = queueRef(queue);
  if (ref.queueUrl !== undefined) return ref.queueUrl;
  try {
    const out = await client.send(new GetQueueUrlCommand({ QueueName: ref.queueName }));
    if (out.QueueUrl === undefined) throw new Error('GetQueueUrl returned no QueueUrl');
    return out.QueueUrl;
  } catch (error) {
    if ((error as Error).name === 'QueueDoesNotExist') {
      throw new CliError(
        `Queue \`${queue}\` does not exist. Create it first, or leave out --queue to let the demo create (and delete) a queue of its own.`,
      );
    }
    throw error;
  }
}

/** The demo deletes every message it receives: refuse a queue that has messages of others. */
export async function assertEmpty(
  client: SQSClient,
  queueUrl: string,
  queue: string,
): Promise<void> {
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
  const waiting =
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
  if (waiting > 0) {
    throw new CliError(
      `Queue \`${queue}\` holds about ${waiting} message${waiting === 1 ? '' : 's'}. The demo deletes every message it receives, so give it an empty queue, or leave out --queue to let it create one of its own.`,
    );
  }
}
