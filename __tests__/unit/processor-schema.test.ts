import { once } from 'node:events';
import { inspect } from 'node:util';
import { z } from 'zod';
import { SqsMessage } from '../../lib/settle/message.js';
import { SqsProcessor } from '../../lib/settle/processor.js';
import { SchemaValidationError, type StandardSchemaV1 } from '../../lib/settle/schema.js';
import { mockedTracker } from '../support/mock-tracker.js';

const SECRET = 'card-4111-1111-1111-1111';

function messageWith(body: string, tracker: ReturnType<typeof mockedTracker>): SqsMessage {
  const [template] = tracker.receive(1);
  const message = new SqsMessage(
    { ...template!.raw, Body: body },
    template!.queueUrl,
    tracker.tracker,
  );
  tracker.tracker.track(message);
  void template!.ack();
  return message;
}

/** Every string reachable from `value` (own properties, cause, issues), for leak checks. */
function everything(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  const parts = Object.getOwnPropertyNames(value).map((key) =>
    everything((value as Record<string, unknown>)[key], seen),
  );
  if (value instanceof Error) parts.push(value.message, everything(value.cause, seen));
  return parts.join('\n');
}

async function run<Data>(schema: StandardSchemaV1<unknown, Data>, body: string) {
  const tracker = mockedTracker({ heartbeat: false });
  const seen: Data[] = [];
  const processor = new SqsProcessor(
    async (_message, { data }) => {
      seen.push(data);
    },
    { schema },
  );
  const failures: unknown[] = [];
  processor.on('failed', (error: unknown) => failures.push(error));
  processor.end(messageWith(body, tracker));
  await once(processor, 'finish');
  return { seen, failures, processor, visibility: tracker.visibility };
}

const Order = z.object({ id: z.string(), total: z.number(), card: z.string() });

describe('SqsProcessor schema', () => {
  it('hands the validated output of a zod schema to the handler as `data`', async () => {
    const body = JSON.stringify({ id: 'o-1', total: 12, card: SECRET, extra: true });
    const { seen, failures } = await run(Order, body);
    expect(failures).toEqual([]);
    expect(seen).toEqual([{ id: 'o-1', total: 12, card: SECRET }]); // zod strips `extra`
    // Typed from the schema: this line compiles only if `data` is the schema's output.
    const total: number | undefined = seen[0]?.total;
    expect(total).toBe(12);
  });

  it('fails a body with issues, listing paths and messages and never the body', async () => {
    const body = JSON.stringify({ id: 7, total: 'twelve', card: SECRET });
    const { seen, failures, processor, visibility } = await run(Order, body);
    expect(seen).toEqual([]); // never reached the handler
    expect(failures).toHaveLength(1);
    const error = failures[0] as SchemaValidationError;
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect(error.issues.map((issue) => issue.path)).toEqual([['id'], ['total']]);
    expect(error.message).toMatch(/`id`: .*; `total`: /);
    expect(error.messageId).toBeDefined();
    expect(error.message).toContain(error.messageId);
    for (const text of [everything(error), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('twelve');
    }
    expect(processor.stats.failed).toBe(1);
    expect(visibility()).toHaveLength(1); // nacked
  });

  it('fails a body that is not JSON without quoting it (nor the parse error, which does)', async () => {
    const { seen, failures } = await run(Order, `not json ${SECRET}`);
    expect(seen).toEqual([]);
    const error = failures[0] as SchemaValidationError;
    expect(error.issues).toEqual([{ path: [], message: 'the body is not valid JSON' }]);
    expect(error.cause).toBeUndefined();
    expect(everything(error)).not.toContain(SECRET);
  });

  it('takes an async validator, and a hand-written Standard Schema object', async () => {
    const positive: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1,
        vendor: 'hand-written',
        validate: async (value) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return typeof value === 'number' && value > 0
            ? { value }
            : { issues: [{ message: 'must be a positive number', path: [{ key: 'amount' }] }] };
        },
      },
    };
    const good = await run(positive, '42');
    expect(good.seen).toEqual([42]);
    const bad = await run(positive, '-1');
    expect(bad.seen).toEqual([]);
    expect((bad.failures[0] as SchemaValidationError).issues).toEqual([
      { path: ['amount'], message: 'must be a positive number' },
    ]);
    const asyncZod = await run(
      z.object({ n: z.number() }).refine(async (v) => v.n % 2 === 0, 'n must be even'),
      '{"n":3}',
    );
    expect((asyncZod.failures[0] as SchemaValidationError).issues[0]?.message).toBe(
      'n must be even',
    );
  });

  it('treats a validator that throws as a failure, without its error (it may quote the value)', async () => {
    const throwing: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'buggy',
        validate: (value) => {
          throw new RangeError(`cannot handle ${JSON.stringify(value)}`);
        },
      },
    };
    const { failures } = await run(throwing, JSON.stringify({ card: SECRET }));
    const error = failures[0] as SchemaValidationError;
    expect(error.issues[0]?.message).toBe('the validator threw (RangeError)');
    expect(everything(error)).not.toContain(SECRET);
  });

  it('copies only path and message from the issues: a validator may put the value in an issue', async () => {
    const leaky: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'leaky',
        validate: (value) => ({
          issues: [{ message: 'bad', path: ['card'], input: value } as StandardSchemaV1.Issue],
        }),
      },
    };
    const { failures } = await run(leaky, JSON.stringify({ card: SECRET }));
    expect(everything(failures[0])).not.toContain(SECRET);
  });
});
