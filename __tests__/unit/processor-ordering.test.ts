import { pipeline } from 'node:stream/promises';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { SqsProcessor } from '../../lib/settle/processor.js';
import type { ProcessOrdering } from '../../lib/settle/processor-options.js';
import { SqsModel } from '../support/fifo-model.js';
import { advance, mockedSqs, useStreamFakeTimers } from '../support/mock-sqs.js';

// Ordering on a model of SQS (__tests__/support/fifo-model.ts): real FIFO receives return several
// messages of a group at once and lock the group while any of them is in flight, which fauxqs
// (one message per group per receive) cannot show; and fair queues keep MessageGroupId on a
// standard queue, which fauxqs drops. Fake timers drive handlers, windows and visibility.

const FIFO_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-queue.fifo';
const STANDARD_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-queue';

afterEach(() => jest.useRealTimers());

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Recorder {
  /** `<id>#<receiveCount>` as each handler started. */
  starts: string[];
  /** Ids whose handler succeeded, per group, in order. */
  done: Map<string, string[]>;
  peak: number;
  peakPerGroup: number;
}

/** A handler taking `ms` of (fake) time, failing the messages `fails` says, recording it all. */
function recordingHandler(ms: number, fails: (message: SqsMessage) => boolean) {
  const record: Recorder = { starts: [], done: new Map(), peak: 0, peakPerGroup: 0 };
  let active = 0;
  const perGroup = new Map<string, number>();
  const handler = async (message: SqsMessage): Promise<void> => {
    const group = message.attributes.MessageGroupId ?? '';
    record.starts.push(`${message.messageId}#${message.receiveCount}`);
    active++;
    perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
    record.peak = Math.max(record.peak, active);
    record.peakPerGroup = Math.max(record.peakPerGroup, perGroup.get(group) ?? 0);
    try {
      await sleep(ms);
      if (fails(message)) throw new Error(`failing ${message.messageId}`);
      const list = record.done.get(group) ?? [];
      list.push(message.messageId);
      record.done.set(group, list);
    } finally {
      active--;
      perGroup.set(group, (perGroup.get(group) ?? 1) - 1);
    }
  };
  return { handler, record };
}

function setup(fifo: boolean) {
  useStreamFakeTimers();
  const { client, mock } = mockedSqs();
  const model = new SqsModel(mock, { fifo, visibilityTimeout: 30 });
  return { client, model };
}

function source(client: ReturnType<typeof mockedSqs>['client'], queueUrl: string): SqsReadable {
  return new SqsReadable({
    queueUrl,
    client,
    waitTimeSeconds: 0,
    emptyBackoff: { startingDelay: 50, maxDelay: 100 },
  });
}

/** Advances fake time until `done()` holds, at most `maxMs`; then stops the source. */
async function runUntil(
  readable: SqsReadable,
  running: Promise<void>,
  done: () => boolean,
  maxMs = 60_000,
): Promise<void> {
  for (let elapsed = 0; elapsed < maxMs && !done(); elapsed += 100) await advance(100);
  const stopped = readable.stop();
  await advance(2_000);
  await stopped;
  await running;
}

describe('SqsProcessor ordering on a FIFO queue (model)', () => {
  it('runs each group strictly in order, one at a time, groups in parallel, through a failure', async () => {
    const { client, model } = setup(true);
    // One receive brings several messages of each group; b-2 (the head of its group) fails once,
    // while b-3 waits behind it in the processor and b-9 is still in its write buffer.
    const order = ['a', 'b', 'b', 'c', 'a', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c', 'b', 'c'];
    model.send(order.map((group, i) => ({ group, id: `${group}-${i}` })));
    const { handler, record } = recordingHandler(
      100,
      (m) => m.messageId === 'b-1' && m.receiveCount === 1,
    );
    const readable = source(client, FIFO_URL);
    const processor = new SqsProcessor(handler, { concurrency: 3 }); // ordering 'auto': 'group'
    const failed: string[] = [];
    let skippedAtFailure = 0;
    processor.on('failed', (_error: unknown, message: SqsMessage) => {
      failed.push(message.messageId);
      skippedAtFailure = processor.stats.skipped;
    });
    const running = pipeline(readable, processor);

    await runUntil(readable, running, () => model.remaining.length === 0);

    const byGroup = (g: string): string[] =>
      order.flatMap((group, i) => (group === g ? [`${group}-${i}`] : []));
    for (const group of ['a', 'b', 'c']) expect(record.done.get(group)).toEqual(byGroup(group));
    expect(record.peakPerGroup).toBe(1);
    expect(record.peak).toBe(3);
    expect(failed).toEqual(['b-1']);
    // The later messages of b received with the failed one were nacked without running: b-2
    // waiting behind it, b-9 in the write buffer. Nothing of b ran before b-1 succeeded.
    expect(skippedAtFailure).toBe(2);
    const bStarts = record.starts.filter((s) => s.startsWith('b-'));
    expect(bStarts.slice(0, 3)).toEqual(['b-1#1', 'b-1#2', 'b-2#2']);
    expect(bStarts).not.toContain('b-2#1');
    expect(bStarts).not.toContain('b-9#1');
    expect(model.log).toContain('visible b-1 +1'); // the default delay for a first delivery
    expect(model.log).toContain('visible b-2 +0');
    expect(model.log).toContain('visible b-9 +0');
    expect(processor.stats).toMatchObject({ processed: 15, failed: 1, skipped: 2, active: 0 });
  });

  it("keeps a group's next message waiting until the previous one's ack is confirmed", async () => {
    const { client, model } = setup(true);
    model.send([{ group: 'a' }, { group: 'a' }, { group: 'a' }]);
    const events: string[] = [];
    const readable = source(client, FIFO_URL);
    const processor = new SqsProcessor(async (message) => {
      events.push(`start ${message.messageId}`);
      await sleep(10);
    });
    processor.on('processed', (m: SqsMessage) => events.push(`acked ${m.messageId}`));
    const running = pipeline(readable, processor);
    await runUntil(readable, running, () => model.remaining.length === 0);
    expect(events).toEqual([
      'start a-0',
      'acked a-0',
      'start a-1',
      'acked a-1',
      'start a-2',
      'acked a-2',
    ]);
  });
});

describe('SqsProcessor ordering on a standard (fair) queue with group ids (model)', () => {
  async function run(ordering: ProcessOrdering, concurrency: number) {
    const { client, model } = setup(false);
    const groups = ['a', 'b', 'c'];
    model.send(
      Array.from({ length: 30 }, (_, i) => {
        const group = groups[i % 3] as string;
        return { group, id: `${group}-${Math.floor(i / 3)}` };
      }),
    );
    const { handler, record } = recordingHandler(
      100,
      (m) => m.messageId === 'b-1' && m.receiveCount === 1,
    );
    const readable = source(client, STANDARD_URL);
    const processor = new SqsProcessor(handler, { concurrency, ordering });
    // What had reached the processor when b-1 failed: the rest of what was received was still
    // in the source's buffer.
    const written = new Set<string>();
    const write = processor.write.bind(processor) as (chunk: SqsMessage) => boolean;
    processor.write = ((chunk: SqsMessage) => {
      written.add(chunk.messageId);
      return write(chunk);
    }) as typeof processor.write;
    let inSourceAtFailure: string[] = [];
    processor.on('failed', () => {
      const received = model.messages.filter((m) => m.receiveCount > 0).map((m) => m.id);
      inSourceAtFailure = received.filter((id) => id.startsWith('b-') && !written.has(id));
    });
    const running = pipeline(readable, processor);
    await runUntil(readable, running, () => model.remaining.length === 0);
    return { record, processor, inSourceAtFailure };
  }

  it("'group': a group runs one at a time; later messages received before a failure never overtake it", async () => {
    const { record, processor, inSourceAtFailure } = await run('group', 2);

    expect(record.peakPerGroup).toBe(1);
    expect(record.peak).toBe(2);
    // Some later messages of b were still in the source's buffer when b-1 failed.
    expect(inSourceAtFailure.length).toBeGreaterThan(0);
    // No later message of b ran in the delivery it was received in before the failure: each was
    // nacked (visibility 0) and ran only once delivered again.
    const firstTries = record.starts.filter((s) => s.startsWith('b-') && s.endsWith('#1'));
    expect(firstTries).toEqual(['b-0#1', 'b-1#1']);
    expect(processor.stats.skipped).toBe(8);
    expect(processor.stats.failed).toBe(1);
    for (const group of ['a', 'c']) {
      expect(record.done.get(group)).toEqual(Array.from({ length: 10 }, (_, i) => `${group}-${i}`));
    }
    expect([...(record.done.get('b') ?? [])].sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `b-${i}`).sort(),
    );
  });

  it("'none' (and 'auto' on a standard queue): messages of one group run side by side; a failure skips nothing", async () => {
    for (const ordering of ['none', 'auto'] as const) {
      const { record, processor } = await run(ordering, 4);
      expect(record.peakPerGroup).toBe(2);
      expect(processor.stats).toMatchObject({ processed: 30, failed: 1, skipped: 0 });
      jest.useRealTimers();
    }
  });
});
