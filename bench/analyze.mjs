// From a run's raw results to what is reported: medians per configuration, ratios against the
// peers, the targets and the headline. Shared by bench/run.mjs and bench/report.mjs, so a page
// regenerated from an older results file is judged by the same rules.
import { median, round } from './common.mjs';

// `ours`: built on SqsReadable (its buffer is metered; it gets ratios against the peers).
export const SUBJECTS = [
  { id: 'sqs-streams', label: 'sqs-streams', concurrencies: [1, 4], ours: true },
  { id: 'sqs-processor', label: 'sqs-streams SqsProcessor', concurrencies: [1, 4], ours: true },
  // Only with --only: highWaterMark and map() concurrency at 100 per slot, as squiss-ts holds.
  {
    id: 'sqs-streams-wide',
    label: 'sqs-streams, 100 held per slot',
    concurrencies: [1, 4],
    ours: true,
    optIn: true,
  },
  { id: 'raw', label: 'raw SDK loop (ceiling)', concurrencies: [1, 4] },
  // Only with --only: the raw loop with its next receive sent before it processes a batch.
  { id: 'raw-ahead', label: 'raw loop, one receive ahead', concurrencies: [1, 4], optIn: true },
  { id: 'sqs-consumer', label: 'sqs-consumer handleMessage', concurrencies: [1, 4] },
  { id: 'sqs-consumer-batch', label: 'sqs-consumer handleMessageBatch', concurrencies: [1, 4] },
  { id: 'squiss', label: 'squiss-ts', concurrencies: [1, 4] },
  { id: 'naive', label: 'naive loop', concurrencies: [1] },
];

export function summarize(runs) {
  const groups = new Map();
  for (const run of runs) {
    if (!run.ok) continue;
    const key = `${run.subject}|${run.concurrency}|${run.rttMs}|${run.delayMs}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(run);
  }
  return [...groups.values()].map((group) => {
    const first = group[0];
    const requests = {};
    for (const action of new Set(group.flatMap((r) => Object.keys(r.requests)))) {
      requests[action] = round(median(group.map((r) => (r.requests[action] ?? 0) / r.messages)), 4);
    }
    return {
      subject: first.subject,
      label: first.label,
      concurrency: first.concurrency,
      rttMs: first.rttMs,
      delayMs: first.delayMs,
      reps: group.length,
      msgsPerSec: round(median(group.map((r) => r.msgsPerSec)), 4),
      msgsPerSecMin: round(Math.min(...group.map((r) => r.msgsPerSec)), 4),
      msgsPerSecMax: round(Math.max(...group.map((r) => r.msgsPerSec)), 4),
      requestsPerMessage: round(median(group.map((r) => r.requestsPerMessage)), 4),
      requestsPerMessageByAction: requests,
      cpuMsPer10k: round(median(group.map((r) => r.cpuMsPer10k)), 4),
      // Per repetition, for ratios paired within one (see `pairedRatio`).
      cpuMsPer10kByRep: byRep(group, (r) => r.cpuMsPer10k),
      msgsPerSecByRep: byRep(group, (r) => r.msgsPerSec),
      peakRssMB: round(Math.max(...group.map((r) => r.peakRssMB)), 3),
      peakHeld: Math.max(...group.map((r) => r.peakHeld)),
      peakWaiting: Math.max(...group.map((r) => r.peakWaiting)),
      peakBuffered:
        first.peakBuffered === undefined
          ? undefined
          : Math.max(...group.map((r) => r.peakBuffered)),
      highWaterMark: first.highWaterMark,
      duplicates: group.reduce((a, r) => a + r.duplicates, 0),
      serverCpuMsPer10k: round(median(group.map((r) => r.serverCpuMsPer10k ?? NaN)), 3),
    };
  });
}

function byRep(group, value) {
  return group.every((r) => r.rep !== undefined)
    ? Object.fromEntries(group.map((r) => [r.rep, value(r)]))
    : undefined;
}

/**
 * `a`'s value over `b`'s (two summary rows): the median of the ratios within each repetition,
 * when both rows have them, else the ratio of the medians. A repetition runs every
 * configuration once, in a few minutes; across the quarter hour of a full run this machine's
 * speed drifts by up to 1.7x (the raw loop at 0 ms RTT: 3,159, 2,088 and 1,890 CPU ms per 10k
 * messages in repetitions 1, 2 and 3), so only runs of the same repetition are compared.
 */
export function pairedRatio(a, b, field) {
  const ofA = a[`${field}ByRep`];
  const ofB = b[`${field}ByRep`];
  const reps = ofA && ofB ? Object.keys(ofA).filter((rep) => ofB[rep] !== undefined) : [];
  if (reps.length === 0) return a[field] / b[field];
  return median(reps.map((rep) => ofA[rep] / ofB[rep]));
}

/** Whether a subject id is one of sqs-streams' own (not a peer). */
export const isOurs = (id) => SUBJECTS.some((s) => s.id === id && s.ours);

/**
 * CPU per message of a summary row divided by the raw SDK loop's in the same scenario
 * (concurrency, RTT, processing), paired by repetition; undefined without a raw row.
 */
export function cpuVsRaw(summary, row) {
  const raw = find(summary, 'raw', row.concurrency, row.rttMs, row.delayMs);
  return raw === undefined ? undefined : round(pairedRatio(row, raw, 'cpuMsPer10k'), 3);
}

/** The stream layer alone (stub client), messages per CPU-second: the goal. */
export const STREAM_OVERHEAD_GOAL = 500_000;

export function find(summary, subject, concurrency, rttMs, delayMs) {
  return summary.find(
    (s) =>
      s.subject === subject &&
      s.concurrency === concurrency &&
      s.rttMs === rttMs &&
      s.delayMs === delayMs,
  );
}

/** Throughput of each of our subjects divided by each peer's, and its CPU against the raw loop's. */
export function computeRatios(summary) {
  const ratios = [];
  for (const s of summary.filter((x) => isOurs(x.subject))) {
    const row = {
      subject: s.subject,
      concurrency: s.concurrency,
      rttMs: s.rttMs,
      delayMs: s.delayMs,
      msgsPerSec: s.msgsPerSec,
      cpuVsRaw: cpuVsRaw(summary, s),
      vs: {},
    };
    for (const peer of SUBJECTS.filter((x) => !x.ours)) {
      const other = find(summary, peer.id, s.concurrency, s.rttMs, s.delayMs);
      if (other) row.vs[peer.id] = round(pairedRatio(s, other, 'msgsPerSec'), 3);
    }
    ratios.push(row);
  }
  return ratios;
}

/** The ratio rows of sqs-streams itself (a results file from before SqsProcessor has no subject). */
export const streamsRatios = (ratios) =>
  ratios.filter((r) => (r.subject ?? 'sqs-streams') === 'sqs-streams');

export function checkTargets(summary, allRatios, idle, overhead) {
  const targets = [];
  const ratios = streamsRatios(allRatios);
  const streams = summary.filter((s) => s.subject === 'sqs-streams');
  const vsRaw = ratios.filter((r) => r.vs.raw !== undefined);
  if (vsRaw.length > 0) {
    const worst = vsRaw.reduce((a, b) => (a.vs.raw <= b.vs.raw ? a : b));
    targets.push({
      id: 'raw-ceiling',
      goal: '>= 0.9x the raw-SDK ceiling at the same concurrency',
      measured: `${worst.vs.raw}x at worst (concurrency ${worst.concurrency}, ${worst.rttMs} ms RTT, ${worst.delayMs} ms processing); ${vsRaw.map((r) => `${r.vs.raw}x`).join(', ')} in all`,
      met: worst.vs.raw >= 0.9,
      value: worst.vs.raw,
    });
  }
  const vsConsumer = ratios.filter(
    (r) => r.concurrency === 1 && r.rttMs === 20 && r.vs['sqs-consumer'] !== undefined,
  );
  if (vsConsumer.length > 0) {
    const worst = Math.min(...vsConsumer.map((r) => r.vs['sqs-consumer']));
    targets.push({
      id: 'sqs-consumer-2x',
      goal: ">= 2x sqs-consumer's handleMessage at concurrency 1 and 20 ms RTT",
      measured: vsConsumer
        .map((r) => `${r.vs['sqs-consumer']}x (${r.delayMs} ms processing)`)
        .join(', '),
      met: worst >= 2,
      value: worst,
    });
  }
  const cpu = streams
    .map((s) => ({ s, ratio: cpuVsRaw(summary, s) }))
    .filter((c) => c.ratio !== undefined);
  if (cpu.length > 0) {
    const worst = cpu.reduce((a, b) => (a.ratio >= b.ratio ? a : b));
    targets.push({
      id: 'cpu-vs-raw',
      goal: "<= 1.10x the raw-SDK loop's CPU per message, every scenario",
      measured: `${worst.ratio}x at worst (concurrency ${worst.s.concurrency}, ${worst.s.rttMs} ms RTT, ${worst.s.delayMs} ms processing); ${cpu.map((c) => `${c.ratio}x`).join(', ')} in all`,
      met: worst.ratio <= 1.1,
      value: worst.ratio,
    });
  }
  if (streams.length > 0) {
    const worst = Math.max(...streams.map((s) => s.requestsPerMessage));
    targets.push({
      id: 'requests-per-message',
      goal: '<= 0.21 billable requests per message at steady state',
      measured: `${worst} at worst (${streams.map((s) => s.requestsPerMessage).join(', ')})`,
      met: worst <= 0.21,
      value: worst,
    });
    // Every SqsReadable subject holds the invariant, whatever consumes it.
    const readables = summary.filter((s) => isOurs(s.subject));
    const over = readables.filter((s) => s.peakBuffered > s.highWaterMark);
    targets.push({
      id: 'peak-buffered',
      goal: 'peak buffered never above highWaterMark',
      measured: readables
        .map((s) => `${s.peakBuffered}/${s.highWaterMark} (c${s.concurrency})`)
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(', '),
      met: over.length === 0,
      value: Math.max(...readables.map((s) => s.peakBuffered - s.highWaterMark)),
    });
  }
  const idleStream = idle?.find((r) => r.subject === 'sqs-streams' && r.concurrency === 1);
  if (idleStream) {
    targets.push({
      id: 'idle-receives',
      goal: '<= 3 receives per minute per idle stream',
      measured: `${idleStream.receivesPerMinute}/min (concurrency 1, ${idleStream.windowS} s window)`,
      met: idleStream.receivesPerMinute <= 3,
      value: idleStream.receivesPerMinute,
    });
  }
  if (overhead) {
    targets.push({
      id: 'stream-overhead',
      goal: `>= ${fmt(STREAM_OVERHEAD_GOAL)} messages/s per core with the stub client`,
      measured: `${fmt(overhead.streams.msgsPerCpuSecond)} msgs per CPU-second (bare loop on the same stub: ${fmt(overhead.loop.msgsPerCpuSecond)})`,
      met: overhead.streams.msgsPerCpuSecond >= STREAM_OVERHEAD_GOAL,
      value: overhead.streams.msgsPerCpuSecond,
    });
  }
  return targets;
}

/** One line for the README: the ratios against the peers and the costs, ranges where they vary. */
export function headline(summary, allRatios, idle, overhead) {
  const ratios = streamsRatios(allRatios);
  const range = (values, digits = 3) => {
    const lo = round(Math.min(...values), digits);
    const hi = round(Math.max(...values), digits);
    return lo === hi ? `${lo}` : `${lo}-${hi}`;
  };
  const parts = [];
  const c1 = ratios.filter((r) => r.concurrency === 1 && r.rttMs === 20);
  const vs = (peer) => c1.map((r) => r.vs[peer]).filter((v) => v !== undefined);
  if (vs('sqs-consumer').length)
    parts.push(`${range(vs('sqs-consumer'))}x sqs-consumer's handleMessage`);
  if (vs('squiss').length) parts.push(`${range(vs('squiss'))}x squiss-ts`);
  if (vs('naive').length) parts.push(`${range(vs('naive'))}x a naive loop`);
  let line = parts.length
    ? `sqs-streams: ${parts.join(', ')} (concurrency 1, 20 ms RTT)`
    : 'sqs-streams';
  const vsRaw = ratios.filter((r) => r.vs.raw !== undefined);
  if (vsRaw.length) {
    const byConcurrency = [...new Set(vsRaw.map((r) => r.concurrency))].map((c) => {
      const values = vsRaw.filter((r) => r.concurrency === c).map((r) => r.vs.raw);
      return `${range(values)}x at concurrency ${c}`;
    });
    line += `; vs the raw SDK loop ${byConcurrency.join(', ')}`;
  }
  const streams = summary.filter((s) => s.subject === 'sqs-streams');
  const consumer = summary.filter((s) => s.subject === 'sqs-consumer');
  if (streams.length) {
    line += `; ${range(streams.map((s) => s.requestsPerMessage))} requests/message`;
    if (consumer.length)
      line += ` (sqs-consumer handleMessage: ${range(consumer.map((s) => s.requestsPerMessage))})`;
  }
  const idleStream = idle?.find((r) => r.subject === 'sqs-streams' && r.concurrency === 1);
  const idleNaive = idle?.find((r) => r.subject === 'naive');
  if (idleStream) {
    line += `; ${round(idleStream.receivesPerMinute, 2)} receives/min on an idle queue`;
    if (idleNaive) line += ` (naive loop: ${Math.round(idleNaive.receivesPerMinute)})`;
  }
  if (overhead)
    line += `; ${fmt(overhead.streams.msgsPerCpuSecond)} msgs/s per core through the stream layer alone`;
  return `${line}.`;
}

// ---------------------------------------------------------------------------------------------
// Printing

export function fmt(n) {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (n >= 100_000) return `${Math.round(n / 1000)}k`;
  if (n >= 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 100) return String(Math.round(n));
  return String(round(n, 3));
}
