// The runner's console summary: tables per scenario, the ratios, the idle and overhead phases,
// the targets and the headline.
import { SUBJECTS, cpuVsRaw, fmt } from './analyze.mjs';

function printTable(rows, columns) {
  const widths = columns.map((c) =>
    Math.max(c.title.length, ...rows.map((r) => String(c.get(r)).length)),
  );
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  console.log(line(columns.map((c) => c.title)));
  for (const row of rows) console.log(line(columns.map((c) => c.get(row))));
}

export function printResults(results, profile) {
  const { summary, ratios, idle, overhead, targets } = results;
  for (const rtt of profile.rtts) {
    for (const delay of profile.delays) {
      const rows = summary.filter((s) => s.rttMs === rtt && s.delayMs === delay);
      if (rows.length === 0) continue;
      console.log(`\n== ${rtt} ms RTT, ${delay} ms processing per message`);
      printTable(rows, [
        { title: 'subject', get: (r) => r.label },
        { title: 'conc', get: (r) => r.concurrency },
        { title: 'msgs/s', get: (r) => fmt(r.msgsPerSec) },
        { title: 'req/msg', get: (r) => r.requestsPerMessage },
        { title: 'cpu ms/10k', get: (r) => fmt(r.cpuMsPer10k) },
        { title: 'cpu/raw', get: (r) => cpuVsRaw(summary, r) ?? '' },
        { title: 'rss MB', get: (r) => fmt(r.peakRssMB) },
        { title: 'peak held', get: (r) => r.peakHeld },
        {
          title: 'buffered/hwm',
          get: (r) => (r.peakBuffered === undefined ? '' : `${r.peakBuffered}/${r.highWaterMark}`),
        },
      ]);
    }
  }
  if (ratios.length > 0) {
    console.log(
      '\n== throughput relative to each peer, CPU per message relative to the raw loop (same RTT, processing, concurrency)',
    );
    printTable(ratios, [
      { title: 'subject', get: (r) => r.subject },
      { title: 'conc', get: (r) => r.concurrency },
      { title: 'rtt', get: (r) => r.rttMs },
      { title: 'delay', get: (r) => r.delayMs },
      { title: 'cpu/raw', get: (r) => (r.cpuVsRaw === undefined ? '' : `${r.cpuVsRaw}x`) },
      ...SUBJECTS.filter((s) => !s.ours && ratios.some((r) => r.vs[s.id] !== undefined)).map(
        (s) => ({
          title: `vs ${s.id}`,
          get: (r) => (r.vs[s.id] === undefined ? '' : `${r.vs[s.id]}x`),
        }),
      ),
    ]);
  }
  if (idle) {
    console.log(
      `\n== idle queue: receives per minute, steady state over a ${profile.idleWindowS} s window`,
    );
    printTable(idle, [
      { title: 'subject', get: (r) => r.label },
      { title: 'conc', get: (r) => r.concurrency },
      { title: 'receives/min', get: (r) => r.receivesPerMinute },
      { title: 'requests/month', get: (r) => r.requestsPerMonth.toLocaleString('en-US') },
    ]);
  }
  if (overhead) {
    console.log(
      `\n== stream-layer overhead, stub client, one core: sqs-streams ${fmt(overhead.streams.msgsPerCpuSecond)} ` +
        `msgs per CPU-second, bare loop ${fmt(overhead.loop.msgsPerCpuSecond)} (${overhead.ratio}x)`,
    );
  }
  console.log('\n== targets');
  for (const t of targets) console.log(`${t.met ? 'met   ' : 'MISSED'}  ${t.goal}: ${t.measured}`);
  console.log(`\n${results.headline}`);
}
