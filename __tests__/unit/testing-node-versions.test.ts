import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

// What differs between the Node versions CI runs on (20, 22, 24; .ci/run), tested on each.
const major = Number(process.versions.node.split('.')[0]);
const LIB = join(__dirname, '..', '..', 'lib');

/** Lets the event loop turn `turns` times (a bound by count, not by time). */
async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

const ciNode = process.env['SQS_STREAMS_CI_NODE'];
(ciNode ? it : it.skip)('runs on the Node version CI asked for', () => {
  // .ci/run puts that version's bin first on PATH: a PATH that did not take would test Node 20
  // three times and report three versions.
  expect(major).toBe(Number(ciNode));
});

describe('Readable.prototype.map, as examples/concurrent-worker.ts and fifo-groups.ts use it', () => {
  // Experimental in Node 20's documentation (stable in none of 20, 22, 24): the examples rely
  // on its concurrency bound, its order and its bounded read-ahead, on every version.
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  beforeAll(() => process.on('warning', onWarning));
  afterAll(() => process.off('warning', onWarning));

  it('runs at most `concurrency` handlers, and reads only a little ahead of them', async () => {
    let pulled = 0;
    let running = 0;
    let peak = 0;
    const source = new Readable({
      objectMode: true,
      highWaterMark: 1,
      read() {
        if (pulled < 100) this.push((pulled += 1));
      },
    });
    const mapped = source.map(
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise(() => {}); // never finishes: what does map read meanwhile?
      },
      { concurrency: 4 },
    );
    mapped.resume();
    await settle();

    expect(peak).toBe(4);
    expect(pulled).toBeGreaterThanOrEqual(4);
    expect(pulled).toBeLessThanOrEqual(4 + 2); // the running four, one queued, one in the source
    mapped.destroy();
  });

  it('yields results in input order, whatever order the handlers finish in', async () => {
    const delays = [3, 0, 2, 1, 0, 3, 1, 2];
    const mapped = Readable.from(delays).map(
      async (turns: number) => {
        await settle(turns);
        return turns;
      },
      { concurrency: 4 },
    );
    expect(await mapped.toArray()).toEqual(delays);
  });

  it('prints no warning, experimental or not', () => {
    expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
  });
});

describe('lib/ on Node 20.0 (engines: >=20)', () => {
  // CI runs Node 20's latest release: what lib/ uses must also exist in 20.0. These came later.
  const later: Array<[RegExp, string]> = [
    [/AbortSignal\.any\(/, 'AbortSignal.any (20.3)'],
    [/Promise\.withResolvers\(/, 'Promise.withResolvers (22.0)'],
    [/process\.getBuiltinModule\(/, 'process.getBuiltinModule (22.3)'],
    [/\bstyleText\b/, 'util.styleText (20.12)'],
    [/\baddAbortListener\b/, 'events.addAbortListener (20.5)'],
    [/\bimport\.meta\.(dirname|filename)\b/, 'import.meta.dirname (20.11)'],
    [/\bObject\.groupBy\(|\bMap\.groupBy\(/, 'Object.groupBy (21.0)'],
    [/\.(union|intersection|symmetricDifference|isSubsetOf)\(new Set/, 'Set methods (22.0)'],
    [/\bduplexPair\b/, 'stream.duplexPair (22.6)'],
    [/\bloadEnvFile\b/, 'process.loadEnvFile (20.12)'],
  ];
  const files = (readdirSync(LIB, { recursive: true }) as string[]).filter((f) =>
    /\.m?ts$/.test(f),
  );

  it('uses none of the APIs Node added after 20.0', () => {
    const found = files.flatMap((file) => {
      const text = readFileSync(join(LIB, file), 'utf8');
      return later.filter(([pattern]) => pattern.test(text)).map(([, name]) => `${file}: ${name}`);
    });
    expect(files.length).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });
});
