import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// Every TypeScript or JavaScript code block in README.md and docs/*.md is a copy of code that
// runs in CI: the programs in examples/, each run and checked by
// __tests__/integration/examples.test.ts. The rule, checked here:
//
// - A ```ts / ```typescript / ```js / ```javascript (also mjs, cjs, mts, cts, tsx, jsx) block
//   must appear in a file under examples/ as a contiguous run of lines, compared after removing
//   trailing whitespace, leading and trailing blank lines, and the block's common indentation
//   (an example's lines may sit deeper, by the same amount for the whole block).
// - A line that is only `// ...` (at any indentation) stands for any number of lines left out,
//   so a block can show the imports and the heart of an example without the middle. The lines
//   after it may sit at another depth in the example (what was left out may open a block).
// - `<!-- snippet: examples/path.ts -->` right above the opening fence (blank lines and other
//   HTML comments such as `<!-- prettier-ignore -->` may come between) names the file the block
//   comes from; the block must then match in that file.
// - Other blocks (sh, text, json, yaml, output, none) are not code to run and are not checked.
//
// A block that fails is reported with its file and line: copy it from an example (or extend an
// example, with a test for what it shows), or, if it is not code to run (a signature, a log),
// mark the fence as `text`.

const ROOT = join(__dirname, '..', '..');
const CODE_LANGUAGES = new Set([
  'ts',
  'typescript',
  'js',
  'javascript',
  'mjs',
  'cjs',
  'mts',
  'cts',
  'tsx',
  'jsx',
]);
const ELLIPSIS = /^\/\/ \.\.\.$/;
const MARKER = /^<!--\s*snippet:\s*(\S+)\s*-->$/;

export interface CodeBlock {
  /** The page, relative to the repository root. */
  file: string;
  /** Line of the opening fence, from 1. */
  line: number;
  language: string;
  lines: string[];
  /** The example named by a `<!-- snippet: ... -->` marker, if any. */
  source: string | undefined;
}

/** The fenced code blocks of a Markdown page (``` or ~~~ fences, any indentation). */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[2] as string;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? '').trim().startsWith(fence)) {
      body.push(lines[j] ?? '');
      j++;
    }
    // The marker sits among the HTML comments right above the fence (blank lines allowed:
    // Prettier puts one after a comment; `<!-- prettier-ignore -->` may be there too).
    let source: string | undefined;
    for (let k = i - 1; k >= 0; k--) {
      const above = (lines[k] ?? '').trim();
      if (above !== '' && !/^<!--.*-->$/.test(above)) break;
      source ??= MARKER.exec(above)?.[1];
    }
    blocks.push({
      file,
      line: i + 1,
      language: (open[3] ?? '').toLowerCase(),
      lines: body,
      source,
    });
    i = j;
  }
  return blocks;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Trailing whitespace off, leading/trailing blank lines off, common indentation off. */
export function normalise(lines: string[]): string[] {
  const trimmed = lines.map((line) => line.replace(/\s+$/, ''));
  while (trimmed.length > 0 && trimmed[0] === '') trimmed.shift();
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === '') trimmed.pop();
  const indents = trimmed.filter((line) => line !== '').map(indentOf);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return trimmed.map((line) => line.slice(common));
}

/**
 * Whether `block` (normalised) appears in `source` as a run of lines, each source line being the
 * block line indented by the same `depth`; `// ...` lines in the block match any run of lines.
 */
export function appearsIn(block: string[], source: string[]): boolean {
  const lines = source.map((line) => line.replace(/\s+$/, ''));
  const matchFrom = (k: number, at: number, depth: number | undefined): boolean => {
    if (k === block.length) return true;
    const want = block[k] as string;
    if (ELLIPSIS.test(want.trim())) {
      // What was left out may open or close blocks: the lines after it find their own depth.
      for (let next = at; next <= lines.length; next++) {
        if (matchFrom(k + 1, next, undefined)) return true;
      }
      return false;
    }
    const have = lines[at];
    if (have === undefined) return false;
    if (want === '') return have === '' ? matchFrom(k + 1, at + 1, depth) : false;
    const d = depth ?? indentOf(have) - indentOf(want);
    if (d < 0 || have !== ' '.repeat(d) + want) return false;
    return matchFrom(k + 1, at + 1, d);
  };
  for (let start = 0; start < lines.length; start++) {
    if (matchFrom(0, start, undefined)) return true;
  }
  return false;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs.sort()];
}

const examples = new Map(
  filesUnder(join(ROOT, 'examples')).map((path) => [
    relative(ROOT, path).split('\\').join('/'),
    readFileSync(path, 'utf8').split('\n'),
  ]),
);

/** Why the block is not a copy of an example, or `undefined` when it is. */
function problem(block: CodeBlock): string | undefined {
  const lines = normalise(block.lines);
  if (lines.length === 0) return 'the block is empty';
  if (block.source !== undefined) {
    const source = examples.get(block.source);
    if (source === undefined)
      return `its snippet marker names ${block.source}, not a file in examples/`;
    return appearsIn(lines, source) ? undefined : `it does not appear in ${block.source}`;
  }
  for (const source of examples.values()) if (appearsIn(lines, source)) return undefined;
  return 'it does not appear in any file under examples/';
}

describe('code blocks in the docs are copies of the examples that run in CI', () => {
  it('finds the examples', () => {
    expect(examples.size).toBeGreaterThanOrEqual(5);
  });

  // Every page, README.md and docs/*.md: a page added later is checked without being listed.
  for (const page of pages()) {
    it(`${page}`, () => {
      const text = readFileSync(join(ROOT, page), 'utf8');
      const failures = codeBlocks(page, text)
        .filter((block) => CODE_LANGUAGES.has(block.language))
        .flatMap((block) => {
          const why = problem(block);
          return why === undefined ? [] : [`${page}:${block.line} (${block.language}): ${why}`];
        });
      expect(failures).toEqual([]);
    });
  }
});

describe('the snippet matcher', () => {
  const source = [
    'export async function main(): Promise<void> {',
    '  const source = new SqsReadable({ queueUrl, client });',
    '  const work = makeWork();',
    '',
    '  await pipeline(source, work, new SqsAckWritable());',
    '}',
  ];

  it('finds a run of lines at any depth, after normalising the block', () => {
    const block = normalise([
      '    const source = new SqsReadable({ queueUrl, client });   ',
      '    const work = makeWork();',
    ]);
    expect(appearsIn(block, source)).toBe(true);
  });

  it('lets `// ...` stand for lines left out, and nothing else', () => {
    expect(
      appearsIn(
        [
          'const source = new SqsReadable({ queueUrl, client });',
          '// ...',
          'await pipeline(source, work, new SqsAckWritable());',
        ],
        source,
      ),
    ).toBe(true);
    expect(
      appearsIn(
        [
          'const source = new SqsReadable({ queueUrl, client });',
          'await pipeline(source, work, new SqsAckWritable());',
        ],
        source,
      ),
    ).toBe(false);
  });

  it('lets the lines after `// ...` sit at another depth, consistently', () => {
    expect(
      appearsIn(
        [
          'export async function main(): Promise<void> {',
          '// ...',
          'await pipeline(source, work, new SqsAckWritable());',
          '}',
        ],
        source,
      ),
    ).toBe(false);
    expect(
      appearsIn(
        [
          'export async function main(): Promise<void> {',
          '// ...',
          '  await pipeline(source, work, new SqsAckWritable());',
          '}',
        ],
        source,
      ),
    ).toBe(true);
  });

  it('rejects a changed line, and lines indented unlike the source', () => {
    expect(appearsIn(['const source = new SqsReadable({ queueUrl });'], source)).toBe(false);
    expect(
      appearsIn(
        ['const work = makeWork();', '  await pipeline(source, work, new SqsAckWritable());'],
        source,
      ),
    ).toBe(false);
  });

  it('reads fences, languages and snippet markers', () => {
    const page = [
      '<!-- snippet: examples/a.ts -->',
      '```ts',
      '  x();',
      '```',
      '',
      '```sh',
      'ls',
      '```',
      'Text.',
      '<!-- snippet: examples/b.mjs -->',
      '',
      '<!-- prettier-ignore -->',
      '~~~js',
      'y();',
      '~~~',
    ].join('\n');
    expect(codeBlocks('p.md', page)).toEqual([
      { file: 'p.md', line: 2, language: 'ts', lines: ['  x();'], source: 'examples/a.ts' },
      { file: 'p.md', line: 6, language: 'sh', lines: ['ls'], source: undefined },
      { file: 'p.md', line: 13, language: 'js', lines: ['y();'], source: 'examples/b.mjs' },
    ]);
  });
});
