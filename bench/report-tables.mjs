// The measured sections of docs/benchmarks.md: throughput, ratios, requests, the idle queue,
// memory and CPU, the stream layer's overhead, then the notes and how to reproduce.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STREAM_OVERHEAD_GOAL, cpuVsRaw, find } from './analyze.mjs';
import { fmt, scenario, table } from './report-format.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Pushes the sections onto `md`. */
export function measuredSections(md, { results, jsonPath, charts, sorted, notes }) {
  const { summary, ratios, idle, overhead } = results;
  const times = (ratio) => (ratio === undefined ? '' : `${fmt(ratio)}×`);
  const s1 = (subject, c, rtt, delay) =>
    summary.find(
      (s) => s.subject === subject && s.concurrency === c && s.rttMs === rtt && s.delayMs === delay,
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
        'CPU vs raw',
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
        s.subject === 'raw' ? '' : times(cpuVsRaw(summary, s)),
        fmt(s.peakRssMB),
        s.peakHeld,
        s.peakBuffered === undefined || s.peakBuffered === null
          ? ''
          : `${s.peakBuffered} / ${s.highWaterMark}`,
      ]),
    ),
  );

  md.push('### sqs-streams relative to each peer');
  md.push(
    "Throughput of sqs-streams (and of its SqsProcessor) divided by the peer's, same RTT, processing " +
      "and concurrency; CPU vs raw: its CPU per message divided by the raw loop's. Each ratio is the " +
      'median of the ratios within one repetition (a repetition runs every configuration once, in a ' +
      "few minutes; the machine's speed drifts over a whole run), where the file has repetitions.",
  );
  const peers = ['raw', 'sqs-consumer', 'sqs-consumer-batch', 'squiss', 'naive'];
  md.push(
    table(
      ['scenario', 'subject', 'c', 'msgs/s', 'CPU vs raw', ...peers.map((p) => `vs ${p}`)],
      ratios.map((r) => [
        scenario(r),
        r.subject ?? 'sqs-streams',
        r.concurrency,
        fmt(r.msgsPerSec),
        times(
          cpuVsRaw(
            summary,
            find(summary, r.subject ?? 'sqs-streams', r.concurrency, r.rttMs, r.delayMs),
          ),
        ),
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
  if (charts.cpuVsRaw) md.push(`![CPU per message relative to the raw loop](${charts.cpuVsRaw})`);
  md.push(
    [
      '- **peak held**: the most messages received from SQS and not yet processed, at any moment (counted by',
      "  an SDK middleware on the messages each ReceiveMessage returned, minus the processing stage's",
      '  completions). It is what sits in memory with its visibility timeout running.',
      "- **buffered / hwm** (sqs-streams only): the most messages in SqsReadable's own buffer (received, not",
      '  yet read by the pipeline), sampled after every push, against its `highWaterMark`. The invariant is',
      '  buffered ≤ highWaterMark.',
      "- **CPU ms/10k**: user + system CPU time of the subject's process over the measured window (after the",
      '  warm-up, to the last confirmed delete), per 10,000 messages. Most of it is the AWS SDK (signing,',
      "  serialising, HTTP); the stream layer's own share is measured below.",
      "- **CPU vs raw**: that CPU per message divided by the raw SDK loop's in the same scenario (same RTT,",
      '  processing and concurrency). The goal is at most 1.10: the streams may cost 10% over a hand-written',
      '  loop, no more.',
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
        `CPU-second** (wall clock: ${fmt(overhead.streams.msgsPerSec)} msgs/s); ` +
        (overhead.processor
          ? `to \`SqsProcessor\` instead (a handler that resolves at once, concurrency 10): ` +
            `${fmt(overhead.processor.msgsPerCpuSecond)} (${fmt(overhead.processor.msgsPerSec)} msgs/s); `
          : '') +
        `bare loop: ` +
        `${fmt(overhead.loop.msgsPerCpuSecond)} (${fmt(overhead.loop.msgsPerSec)} msgs/s). The dashed line is the ${fmt(STREAM_OVERHEAD_GOAL / 1000)}k ` +
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
}
