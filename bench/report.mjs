// Turns a results JSON (bench/run.mjs) into docs/benchmarks.md and the SVG charts in
// docs/charts/, with vega-lite compiled to vega and rendered headless (`View.toSVG()`: no
// browser, no canvas). The analysis that is not a number (what bounds each miss, profiles) lives
// in bench/notes.md and is copied in as written.
//
//   node bench/report.mjs [bench/results/full.json]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { checkTargets, headline } from './analyze.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const chartsDir = path.join(root, 'docs/charts');

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 11, grid: true, gridColor: '#eee', labelLimit: 320 },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
  view: { stroke: null },
};
const ORDER = [
  'sqs-streams',
  'raw SDK loop (ceiling)',
  'sqs-consumer handleMessage',
  'sqs-consumer handleMessageBatch',
  'squiss-ts',
  'naive loop',
];
const SUBJECT_COLORS = {
  domain: ORDER,
  range: ['#d6604d', '#878787', '#4393c3', '#92c5de', '#5aae61', '#bababa'],
};

async function renderChart(name, spec) {
  const compiled = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    ...spec,
  }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(chartsDir, { recursive: true });
  writeFileSync(path.join(chartsDir, `${name}.svg`), `${svg}\n`);
  return `charts/${name}.svg`;
}

const fmt = (n, digits = 3) => {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return String(Math.round(n));
  return String(Number(n.toPrecision(digits)));
};

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

const scenario = (s) => `${s.rttMs} ms RTT, ${s.delayMs} ms processing`;

export async function writeReport(jsonPath = path.join(root, 'bench/results/full.json')) {
  const results = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const { summary, ratios, idle, overhead, machine, versions, settings } = results;
  // Judged by today's rules, whatever the file says.
  const targets = checkTargets(summary, ratios, idle, overhead);
  results.headline = headline(summary, ratios, idle, overhead);
  const sorted = [...summary].sort(
    (a, b) =>
      a.rttMs - b.rttMs ||
      a.delayMs - b.delayMs ||
      ORDER.indexOf(a.label) - ORDER.indexOf(b.label) ||
      a.concurrency - b.concurrency,
  );
  const charts = {};
  const builtElsewhere =
    settings.package && !settings.package.startsWith('dist/')
      ? settings.package.replace(/\/index\.mjs$/, '')
      : undefined;

  // Throughput: one panel per RTT x processing, bars per subject and concurrency.
  charts.throughput = await renderChart('throughput', {
    title: 'Messages per second (median of runs; higher is better)',
    data: {
      values: sorted.map((s) => ({
        subject: s.label,
        concurrency: `concurrency ${s.concurrency}`,
        rtt: `${s.rttMs} ms RTT`,
        processing: `${s.delayMs} ms processing/message`,
        msgsPerSec: s.msgsPerSec,
      })),
    },
    facet: {
      row: { field: 'rtt', type: 'nominal', title: null },
      column: { field: 'processing', type: 'nominal', title: null },
    },
    spec: {
      width: 260,
      height: 170,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'subject', type: 'nominal', sort: ORDER, title: null },
        yOffset: { field: 'concurrency' },
        x: { field: 'msgsPerSec', type: 'quantitative', title: 'messages/s' },
        color: {
          field: 'concurrency',
          type: 'nominal',
          scale: { range: ['#f4a582', '#b2182b'] },
          title: null,
        },
      },
    },
    resolve: { scale: { x: 'independent' } },
  });

  // Billable requests per message, by action, at concurrency 1.
  const reqRows = [];
  for (const s of sorted.filter((x) => x.concurrency === 1 && x.delayMs === 0)) {
    for (const [action, perMessage] of Object.entries(s.requestsPerMessageByAction)) {
      reqRows.push({ subject: s.label, rtt: `${s.rttMs} ms RTT`, action, perMessage });
    }
  }
  charts.requests = await renderChart('requests-per-message', {
    title: 'Billable requests per message, by action (concurrency 1; lower is better)',
    data: { values: reqRows },
    facet: { column: { field: 'rtt', type: 'nominal', title: null } },
    spec: {
      width: 300,
      height: 170,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'subject', type: 'nominal', sort: ORDER, title: null },
        x: {
          field: 'perMessage',
          type: 'quantitative',
          aggregate: 'sum',
          title: 'requests per message',
        },
        color: {
          field: 'action',
          type: 'nominal',
          title: 'action',
          scale: { scheme: 'tableau10' },
        },
      },
    },
  });

  // Idle cost.
  if (idle) {
    charts.idle = await renderChart('idle-receives', {
      title: 'ReceiveMessage calls per minute on an empty queue (log scale; lower is better)',
      width: 420,
      height: 180,
      data: {
        values: idle.map((r) => ({
          subject: `${r.label}${r.concurrency > 1 ? ` (concurrency ${r.concurrency})` : ''}`,
          base: r.label,
          perMinute: Math.max(r.receivesPerMinute, 0.1),
          text: fmt(r.receivesPerMinute),
        })),
      },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            y: { field: 'subject', type: 'nominal', sort: null, title: null },
            x2: { datum: 1 },
            x: {
              field: 'perMinute',
              type: 'quantitative',
              scale: { type: 'log', domain: [1, 1000] },
              title: 'receives per minute',
            },
            color: { field: 'base', type: 'nominal', scale: SUBJECT_COLORS, legend: null },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4 },
          encoding: {
            y: { field: 'subject', type: 'nominal', sort: null },
            x: { field: 'perMinute', type: 'quantitative' },
            text: { field: 'text' },
          },
        },
      ],
    });
  }

  // CPU per 10k messages (client process only).
  charts.cpu = await renderChart('cpu-per-10k', {
    title: 'Consumer CPU per 10,000 messages, 0 ms RTT, 0 ms processing (lower is better)',
    width: 420,
    height: 200,
    data: {
      values: sorted
        .filter((s) => s.rttMs === 0 && s.delayMs === 0)
        .map((s) => ({
          subject: s.label,
          concurrency: `concurrency ${s.concurrency}`,
          cpuMs: s.cpuMsPer10k,
        })),
    },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'subject', type: 'nominal', sort: ORDER, title: null },
      yOffset: { field: 'concurrency' },
      x: { field: 'cpuMs', type: 'quantitative', title: 'CPU ms per 10k messages' },
      color: {
        field: 'concurrency',
        type: 'nominal',
        scale: { range: ['#f4a582', '#b2182b'] },
        title: null,
      },
    },
  });

  if (overhead) {
    charts.overhead = await renderChart('stream-overhead', {
      title: 'Stub client (no HTTP), one core: messages per CPU-second (log scale)',
      width: 420,
      height: 90,
      data: {
        values: [
          { what: 'SqsReadable -> SqsAckWritable', rate: overhead.streams.msgsPerCpuSecond },
          { what: 'bare receive/delete loop', rate: overhead.loop.msgsPerCpuSecond },
        ].map((v) => ({ ...v, text: `${fmt(v.rate / 1000)}k` })),
      },
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'what', type: 'nominal', title: null, sort: null },
            x: {
              field: 'rate',
              type: 'quantitative',
              title: 'messages per CPU-second',
              scale: { type: 'log', domain: [10_000, 10_000_000] },
            },
            x2: { datum: 10_000 },
            color: {
              field: 'what',
              type: 'nominal',
              scale: { range: ['#d6604d', '#878787'] },
              legend: null,
            },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4 },
          encoding: {
            y: { field: 'what', type: 'nominal', sort: null },
            x: { field: 'rate', type: 'quantitative' },
            text: { field: 'text' },
          },
        },
        {
          mark: { type: 'rule', color: 'black', strokeDash: [4, 3] },
          encoding: { x: { datum: 250_000 } },
        },
      ],
    });
  }

  const notesPath = path.join(here, 'notes.md');
  const notes = existsSync(notesPath) ? readFileSync(notesPath, 'utf8').trim() : '';
  const s1 = (subject, c, rtt, delay) =>
    summary.find(
      (s) => s.subject === subject && s.concurrency === c && s.rttMs === rtt && s.delayMs === delay,
    );

  const md = [];
  md.push('# Benchmarks');
  md.push(
    `<!-- Generated by \`node bench/report.mjs\` from ${path.relative(root, jsonPath)}; edit bench/report.mjs or bench/notes.md, not this file. -->`,
  );
  md.push(
    `**Headline** (${results.profile} run, ${results.date.slice(0, 10)}): ${results.headline}`,
  );
  md.push(
    [
      'sqs-streams is measured against the raw AWS SDK, [sqs-consumer](https://github.com/bbc/sqs-consumer),',
      '[squiss-ts](https://github.com/PruvoNet/squiss-ts) and the naive polling loop, all consuming the same',
      'pre-filled queue, with the same processing stage and the same number of receives in flight.',
      'Timing lives only here, never in the pass/fail tests.',
    ].join(' '),
  );

  md.push('## Targets');
  md.push(
    table(
      ['goal', 'measured', ''],
      targets.map((t) => [t.goal, t.measured, t.met ? 'met' : '**missed**']),
    ),
  );
  md.push('Where a goal is missed, [what bounds it](#what-bounds-the-numbers) says why.');

  md.push('## How it was run');
  md.push(
    [
      `- **Command:** \`npm run bench${results.profile === 'full' ? ' -- --full' : ''}${builtElsewhere ? ` --package=${builtElsewhere}` : ''}\` (${results.durationS} s).`,
      `- **Machine:** ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGB} GiB, ${machine.os}, Node ${machine.node}. `,
      `  Load average ${machine.loadAverageAtStart.join(' / ')} at the start and ${machine.loadAverageAtEnd.join(' / ')} at the end: the`,
      '  two cores were shared with other work, so absolute numbers are noisy; the ratios between subjects run',
      '  back to back are the useful part.',
      `- **Build:** ${builtElsewhere ? `a private snapshot (\`tsc -p tsconfig.build.json --outDir ${builtElsewhere}\`), so that rebuilds of dist/ by work going on at the same time could not change the code in the middle of the run` : 'dist/ (`npm run build`)'}, ` +
        `compiled from commit ${settings.source?.commit ?? '?'}` +
        `${settings.source?.libFilesChanged ? ` with ${settings.source.libFilesChanged} files under lib/ changed since` : ''}.`,
      `- **Versions:** ${Object.entries(versions)
        .filter(([, v]) => v)
        .map(([n, v]) => `${n} ${v}`)
        .join(', ')}.`,
      `- **Endpoint:** ${settings.endpoint}, reached through the loopback proxy of the reliability suite`,
      '  (`__tests__/support/sqs-proxy.ts`), which adds the round-trip time (half before forwarding, half after)',
      '  and counts every request by action (`X-Amz-Target`). The proxy runs in the runner process; each subject',
      '  runs in a child process of its own, so its CPU time and RSS are its own.',
      `- **Queue contents:** a fresh queue per run (visibility timeout ${settings.queueVisibilityTimeoutS} s), filled with`,
      `  ${Object.entries(settings.messages)
        .map(([rtt, n]) => `${n.toLocaleString('en-US')} messages at ${rtt} ms RTT`)
        .join(' and ')} of ${settings.messageBytes} bytes each, sent straight to fauxqs`,
      '  before the subject starts. A run ends when SQS has confirmed the delete of every message.',
      `- **Repetitions:** ${settings.reps} per configuration, interleaved; tables show the median (throughput min-max in`,
      '  the full table), peaks are the maximum over runs.',
      '- **Processing stage:** every message goes through the same async function: `await` a resolved promise',
      '  (0 ms) or `setTimeout` 2 ms.',
    ].join('\n'),
  );

  md.push('### The subjects');
  md.push(
    [
      '- **sqs-streams**: `pipeline(source.map(process, { concurrency: 10 × c }), new SqsAckWritable())` with',
      '  `new SqsReadable({ queueUrl, client, concurrency: c })`, otherwise defaults (long polling 20 s, batches',
      "  of 10, `highWaterMark` 10 × (c + 1), heartbeat on, all attributes). `Readable.prototype.map` is Node's",
      '  own concurrent stage; 10 × c is what the raw loop processes at once.',
      '- **raw SDK loop (ceiling)**: c loops of `ReceiveMessage` (10, 20 s long poll, the same attributes as',
      '  sqs-streams asks for) → process the batch → `DeleteMessageBatch`, the delete not awaited before the next',
      '  receive. The best a hand-written loop does with c receives in flight.',
      '- **sqs-consumer handleMessage**: `Consumer.create({ batchSize: 10, handleMessage })`, otherwise defaults; it',
      '  processes the batch concurrently and deletes each message with its own `DeleteMessage`. sqs-consumer has',
      '  one receive in flight per consumer, so concurrency c is c consumers on the queue. Version 15 declares',
      '  Node >= 22 (npm warns `EBADENGINE` on Node 20) but runs unchanged on Node 20: its 15.0.0 release only',
      '  changed the `engines` field, and it uses nothing newer than Node 20 has.',
      '- **sqs-consumer handleMessageBatch**: the same with `handleMessageBatch` (one `DeleteMessageBatch` per',
      '  receive).',
      '- **squiss-ts**: `new Squiss({ queueUrl, receiveBatchSize: 10 })`, otherwise defaults (maxInFlight 100,',
      '  deletes batched by 10 or after 2 s); c instances for concurrency c.',
      '- **naive loop**: the loop this project replaces: short polling (`WaitTimeSeconds: 0`), a fixed 200 ms',
      '  sleep after an empty receive, one receive in flight, the batch processed, then one',
      '  `DeleteMessageBatch`. Concurrency 1 only.',
    ].join('\n'),
  );

  md.push('## Throughput');
  md.push(`![Messages per second](${charts.throughput})`);
  md.push(
    'At 0 ms RTT every subject shares two cores with fauxqs and the proxy, so the number is mostly what each ' +
      'subject costs the server per message (request count, response size); at 20 ms RTT it is mostly how ' +
      'well a subject overlaps its round trips.',
  );
  md.push(
    table(
      [
        'scenario',
        'subject',
        'c',
        'msgs/s (min-max)',
        'requests/msg',
        'CPU ms/10k',
        'peak RSS MB',
        'peak held',
        'buffered / hwm',
      ],
      sorted.map((s) => [
        scenario(s),
        s.label,
        s.concurrency,
        `${fmt(s.msgsPerSec)} (${fmt(s.msgsPerSecMin)}-${fmt(s.msgsPerSecMax)})`,
        fmt(s.requestsPerMessage),
        fmt(s.cpuMsPer10k),
        fmt(s.peakRssMB),
        s.peakHeld,
        s.peakBuffered === undefined || s.peakBuffered === null
          ? ''
          : `${s.peakBuffered} / ${s.highWaterMark}`,
      ]),
    ),
  );

  md.push('### sqs-streams relative to each peer');
  md.push("Throughput of sqs-streams divided by the peer's, same RTT, processing and concurrency.");
  const peers = ['raw', 'sqs-consumer', 'sqs-consumer-batch', 'squiss', 'naive'];
  md.push(
    table(
      ['scenario', 'c', 'sqs-streams msgs/s', ...peers.map((p) => `vs ${p}`)],
      ratios.map((r) => [
        scenario(r),
        r.concurrency,
        fmt(r.msgsPerSec),
        ...peers.map((p) => (r.vs[p] === undefined ? '' : `${r.vs[p]}×`)),
      ]),
    ),
  );

  md.push('## Billable requests per message');
  md.push(`![Requests per message](${charts.requests})`);
  md.push(
    'Every SQS API call is a billable request (a batch of 10 is one request). Counted by the proxy from the ' +
      'first request of a run to the moment the last delete was confirmed, one-off calls included ' +
      "(sqs-streams reads the queue's visibility timeout once, for its heartbeat). The floor for batches of 10 " +
      'is 0.2: one receive and one delete per 10 messages.',
  );
  md.push(
    table(
      ['scenario', 'subject', 'c', 'total', 'by action'],
      sorted.map((s) => [
        scenario(s),
        s.label,
        s.concurrency,
        fmt(s.requestsPerMessage, 4),
        Object.entries(s.requestsPerMessageByAction)
          .map(([a, v]) => `${a} ${fmt(v, 3)}`)
          .join(', '),
      ]),
    ),
  );

  if (idle) {
    md.push('## An idle queue');
    md.push(`![Receives per minute on an empty queue](${charts.idle})`);
    md.push(
      `Every subject on an empty queue of its own at the same time, for ${idle[0]?.windowS} s. The rate is the ` +
        'steady state: the time between successive ReceiveMessage calls (from the first call to the last, ' +
        'with c calls in flight: (calls - c) intervals), so the window need not be a whole number of polls. ' +
        "A 20 s long poll is 3 a minute per receive in flight, whatever the window; the naive loop's 200 ms " +
        'sleep plus the round trip is about 290. Requests per month: that rate for 43,200 minutes.',
    );
    md.push(
      table(
        ['subject', 'c', 'receives/min', 'per receive slot', 'requests per 30-day month'],
        idle.map((r) => [
          r.label,
          r.concurrency,
          fmt(r.receivesPerMinute),
          fmt(r.receivesPerMinutePerSlot),
          r.requestsPerMonth.toLocaleString('en-US'),
        ]),
      ),
    );
  }

  md.push('## Memory held and CPU');
  md.push(`![CPU per 10k messages](${charts.cpu})`);
  md.push(
    [
      '- **peak held**: the most messages received from SQS and not yet processed, at any moment (counted by',
      "  an SDK middleware on the messages each ReceiveMessage returned, minus the processing stage's",
      '  completions). It is what sits in memory with its visibility timeout running.',
      "- **buffered / hwm** (sqs-streams only): the most messages in SqsReadable's own buffer (received, not",
      '  yet read by the pipeline), sampled after every push, against its `highWaterMark`. The invariant is',
      '  buffered ≤ highWaterMark.',
      "- **CPU ms/10k**: user + system CPU time of the subject's process from start to the last confirmed",
      "  delete, per 10,000 messages. Most of it is the AWS SDK (signing, serialising, HTTP); the stream layer's",
      '  own share is measured below.',
      "- **peak RSS**: the process's maximum resident set size over the run, modules included (a bare Node",
      '  process with the AWS SDK loaded is about 60 MB).',
    ].join('\n'),
  );

  if (overhead) {
    md.push('## Stream-layer overhead');
    md.push(`![Stub client throughput](${charts.overhead})`);
    md.push(
      `An in-memory stub client (\`send()\` resolves ReceiveMessage with 10 messages and the batch calls with ` +
        `every entry successful; no HTTP, no SDK middleware) driven by \`pipeline(new SqsReadable(...), new ` +
        `SqsAckWritable())\` with default options (heartbeat on), against the same stub driven by a bare ` +
        `receive/delete loop. ${overhead.streams.messages.toLocaleString('en-US')} messages per pass, the median of three ` +
        `passes after a warm-up, in a process ${overhead.streams.pinned ? 'pinned to one core with `taskset`' : 'of its own'}; ` +
        `the rate is messages per CPU-second of that process (GC threads included), which on a shared machine ` +
        `moves much less than wall-clock time. sqs-streams: **${fmt(overhead.streams.msgsPerCpuSecond)} messages per ` +
        `CPU-second** (wall clock: ${fmt(overhead.streams.msgsPerSec)} msgs/s); bare loop: ` +
        `${fmt(overhead.loop.msgsPerCpuSecond)} (${fmt(overhead.loop.msgsPerSec)} msgs/s). The dashed line is the 250k ` +
        `goal. For scale: with the real SDK and HTTP, the raw loop above costs ` +
        `${fmt(s1('raw', 1, 0, 0)?.cpuMsPer10k)} CPU ms per 10k messages, the stream layer ` +
        `${fmt(overhead.streams.cpuMsPer10k)}.`,
    );
  }

  md.push('## What bounds the numbers');
  if (notes) md.push(notes);

  md.push('## Reproducing');
  md.push(
    [
      '```sh',
      'npm run bench                       # quick profile, a few minutes: bench/.tmp/quick.json',
      'npm run bench -- --full             # this page: bench/results/full.json, docs/benchmarks.md, docs/charts/',
      'npm run bench -- --only=sqs-streams,raw --rtt=20 --delay=0 --messages=2000 --no-idle --no-overhead',
      'npm run bench -- --profile          # CPU profiles of each subject in bench/.tmp/profiles',
      'npm run bench -- --full --package=DIR   # another build (tsc --outDir DIR), e.g. a patched one',
      'node --cpu-prof bench/overhead.mjs streams 1000000   # the stream layer alone',
      'SQS_ENDPOINT=http://127.0.0.1:4566 npm run bench    # another endpoint (LocalStack)',
      'node bench/report.mjs bench/results/full.json       # regenerate this page from a results file',
      '```',
    ].join('\n'),
  );
  md.push(
    "The raw results (every run, with its request counts by action, fauxqs's and the proxy's CPU per 10k " +
      `messages, and the stream's own counters) are in \`${path.relative(root, jsonPath)}\`.`,
  );

  const text = `${md.join('\n\n')}\n`;
  const docPath = path.join(root, 'docs/benchmarks.md');
  const options = (await prettier.resolveConfig(docPath)) ?? {};
  writeFileSync(docPath, await prettier.format(text, { ...options, filepath: docPath }));
  process.stderr.write(
    `wrote docs/benchmarks.md and ${Object.keys(charts).length} charts in docs/charts/\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeReport(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
}
