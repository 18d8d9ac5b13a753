// The report's charts, from a run's summary: throughput, requests per message, idle receives,
// CPU per message and the stream layer's own cost. Returns each chart's path for the page.
import { STREAM_OVERHEAD_GOAL, cpuVsRaw, isOurs } from './analyze.mjs';
import { ORDER, SUBJECT_COLORS, renderChart } from './report-chart-render.mjs';
import { fmt, scenario } from './report-format.mjs';

/** `sorted`: the summary in the report's order. */
export async function renderCharts(sorted, { idle, overhead }) {
  const charts = {};
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

  // CPU per message against the raw loop's in the same scenario (1: the same).
  const cpuRatios = sorted
    .filter((s) => isOurs(s.subject))
    .map((s) => ({
      subject: s.label,
      scenario: `${scenario(s)}, c${s.concurrency}`,
      ratio: cpuVsRaw(sorted, s),
    }))
    .filter((r) => r.ratio !== undefined);
  if (cpuRatios.length > 0) {
    charts.cpuVsRaw = await renderChart('cpu-vs-raw', {
      title: "Consumer CPU per message / the raw SDK loop's, same scenario (lower is better)",
      width: 420,
      height: 300,
      data: { values: cpuRatios },
      layer: [
        {
          mark: { type: 'bar', tooltip: true },
          encoding: {
            y: { field: 'scenario', type: 'nominal', sort: null, title: null },
            yOffset: { field: 'subject' },
            x: { field: 'ratio', type: 'quantitative', title: 'CPU per message ÷ raw loop' },
            color: {
              field: 'subject',
              type: 'nominal',
              title: null,
              scale: { domain: ORDER.slice(0, 2), range: SUBJECT_COLORS.range.slice(0, 2) },
            },
          },
        },
        {
          mark: { type: 'rule', color: 'black', strokeDash: [4, 3] },
          encoding: { x: { datum: 1.1 } },
        },
      ],
    });
  }

  if (overhead) {
    charts.overhead = await renderChart('stream-overhead', {
      title: 'Stub client (no HTTP), one core: messages per CPU-second (log scale)',
      width: 420,
      height: overhead.processor ? 120 : 90,
      data: {
        values: [
          { what: 'SqsReadable -> SqsAckWritable', rate: overhead.streams.msgsPerCpuSecond },
          ...(overhead.processor
            ? [{ what: 'SqsReadable -> SqsProcessor', rate: overhead.processor.msgsPerCpuSecond }]
            : []),
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
          encoding: { x: { datum: STREAM_OVERHEAD_GOAL } },
        },
      ],
    });
  }
  return charts;
}
