import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import * as diagnostics from '../../lib/core/diagnostics.js';
import { SqsAckWritable, SqsReadable, SqsWritable } from '../../lib/index.js';
import { QUEUE_URL, mockedSqs, receiveFills } from '../support/mock-sqs.js';

// The no-subscriber path: nothing is traced (no context is built, `traced` is never called) and
// the main entry never loads @opentelemetry/api.

const KINDS = Object.keys(diagnostics.channels) as diagnostics.TraceKind[];
const ROOT = path.resolve(__dirname, '..', '..');

/** Receives and acks 20 messages, and sends 20, on a mocked client. */
async function exercise(): Promise<void> {
  const { client, mock } = mockedSqs();
  receiveFills(mock);
  mock.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => ({
    Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `s-${e.Id}` })),
    Failed: [],
  }));
  const source = new SqsReadable({ queueUrl: QUEUE_URL, client, maxMessages: 20 });
  await pipeline(source, new SqsAckWritable());
  const bodies = Array.from({ length: 20 }, (_, i) => `body-${i}`);
  await pipeline(Readable.from(bodies), new SqsWritable({ queueUrl: QUEUE_URL, client }));
  client.destroy();
}

describe('with nobody subscribed', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('no channel reports a subscriber', () => {
    for (const kind of KINDS) expect(diagnostics.isTraced(kind)).toBe(false);
    expect(diagnostics.isTraced(undefined)).toBe(false);
    expect(diagnostics.injectChannel.hasSubscribers).toBe(false);
  });

  it('the streams never call traced()', async () => {
    const traced = jest.spyOn(diagnostics, 'traced');
    await exercise();
    expect(traced).not.toHaveBeenCalled();
  });

  it('but call it for each request once someone listens (so the test above can fail)', async () => {
    const traced = jest.spyOn(diagnostics, 'traced');
    const listener = (): void => undefined;
    for (const kind of KINDS) diagnostics.channels[kind].start.subscribe(listener);
    try {
      await exercise();
    } finally {
      for (const kind of KINDS) diagnostics.channels[kind].start.unsubscribe(listener);
    }
    const kinds = new Set(traced.mock.calls.map(([kind]) => kind));
    expect([...kinds].sort()).toEqual(['delete', 'receive', 'send']);
  });

  it('the main entry does not load @opentelemetry/api; sqs-streams/otel does', () => {
    const loaded = (entry: string): string[] => {
      const register = `require('ts-node').register({ transpileOnly: true, experimentalResolver: true, project: ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))} });`;
      const script = `${register} require(${JSON.stringify(path.join(ROOT, entry))}); process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((p) => p.includes('@opentelemetry'))));`;
      const child = spawnSync(process.execPath, ['-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.status).toBe(0);
      return JSON.parse(child.stdout) as string[];
    };
    expect(loaded('lib/index.ts')).toEqual([]);
    expect(loaded('lib/otel.ts').length).toBeGreaterThan(0);
  });
});
