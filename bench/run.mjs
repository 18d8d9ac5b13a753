// The benchmark runner: sqs-streams against the raw SDK, sqs-consumer, squiss-ts and a naive
// loop, on the same queue contents, processing stage and receive concurrency.
//
//   npm run bench                 quick profile (a few minutes): results in bench/.tmp/quick.json
//   npm run bench -- --full       full profile (~15-20 min on 2 cores): bench/results/full.json,
//                                 then docs/benchmarks.md and docs/charts/*.svg from it
//
// Options: --full, --only=sqs-streams,raw  --rtt=0,20  --delay=0,2  --reps=N  --messages=N
//          --idle-window=S  --overhead-messages=N  --package=DIR (another build's dist/)  --no-idle  --no-overhead  --no-throughput  --profile (CPU profiles of the subjects and
//          the overhead run in bench/.tmp/profiles)  --out=FILE  --no-report
//
// Layout: fauxqs 1.9.2 runs as its own process (or SQS_ENDPOINT names an endpoint); this process
// hosts the loopback proxy from __tests__/support/sqs-proxy.ts, which adds the round-trip time and
// counts every request by action; each subject runs in a child process (bench/subject.mjs).
import { execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { SUBJECTS, checkTargets, computeRatios, fmt, headline, summarize } from './analyze.mjs';
import { ACTIONS, BODY, createClient, round } from './common.mjs';

// The SDK warns once per process that Node 20 support ends in 2027; it says nothing about speed.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
// The proxy is the reliability suite's, in TypeScript: load it as the tests do.
require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
const { startSqsProxy } = require('../__tests__/support/sqs-proxy.ts');

// ---------------------------------------------------------------------------------------------
// Profiles and subjects

const args = parseArgs(process.argv.slice(2));
const FULL = args.full === true;
const PROFILES = {
  quick: {
    rtts: [0, 20],
    delays: [0, 2],
    messages: { 0: 2000, 20: 600 },
    reps: 1,
    idleWindowS: 45,
    overheadMessages: 200_000,
  },
  full: {
    rtts: [0, 20],
    delays: [0, 2],
    messages: { 0: 5000, 20: 1500 },
    reps: 3,
    idleWindowS: 65,
    overheadMessages: 1_000_000,
  },
};
const profile = { ...PROFILES[FULL ? 'full' : 'quick'] };
if (args.rtt) profile.rtts = numbers(args.rtt);
if (args.delay) profile.delays = numbers(args.delay);
if (args.reps) profile.reps = Number(args.reps);
if (args['idle-window']) profile.idleWindowS = Number(args['idle-window']);
if (args['overhead-messages']) profile.overheadMessages = Number(args['overhead-messages']);
if (args.messages)
  profile.messages = Object.fromEntries(profile.rtts.map((r) => [r, Number(args.messages)]));

const only = args.only ? new Set(String(args.only).split(',')) : undefined;
const subjects = SUBJECTS.filter((s) => only === undefined || only.has(s.id));
const cpuProfDir = path.join(root, 'bench/.tmp/profiles');
// --package=DIR: benchmark another build of sqs-streams (a directory with its index.mjs).
const pkg = args.package
  ? pathToFileURL(path.resolve(String(args.package), 'index.mjs')).href
  : undefined;

/** The build under test: the package itself (dist/), or the one `--package` names. */
const sqsStreams = () => import(pkg ?? 'sqs-streams');

/** Which source was built: the commit, and how many files under lib/ differ from it. */
function sourceState() {
  const git = (...gitArgs) => {
    try {
      return execFileSync('git', gitArgs, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  const changed = git('status', '--porcelain', '--', 'lib');
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    libFilesChanged: changed === undefined ? undefined : changed.split('\n').filter(Boolean).length,
  };
}

// ---------------------------------------------------------------------------------------------
// Endpoint, proxy, queues

const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);

async function startEndpoint() {
  if (process.env.SQS_ENDPOINT) {
    return {
      endpoint: process.env.SQS_ENDPOINT,
      kind: 'env',
      pid: undefined,
      stop: async () => {},
    };
  }
  const child = fork(path.join(root, '__tests__/support/fauxqs-server.mjs'), ['0'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = await once(child, 'message');
  return {
    endpoint: ready.endpoint,
    kind: 'fauxqs',
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** CPU time of another process so far (Linux /proc), in ms; undefined elsewhere. */
function processCpuMs(pid) {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

let queueSequence = 0;
const runId = Date.now().toString(36);

async function createQueue(direct) {
  const name = `bench-${runId}-${++queueSequence}`;
  const out = await direct.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }),
  );
  return out.QueueUrl;
}

/** Fills the queue straight at the endpoint (not through the proxy), with SqsWritable. */
async function preload(direct, queueUrl, count) {
  async function* bodies() {
    for (let i = 0; i < count; i++) yield BODY;
  }
  await pipeline(
    Readable.from(bodies()),
    new (await sqsStreams()).SqsWritable({ queueUrl, client: direct, maxBatchesInFlight: 8 }),
  );
}

// ---------------------------------------------------------------------------------------------
// Child processes

function spawnSubject(config, { profile: withProfile = false } = {}) {
  const execArgv = withProfile
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${cpuProfDir}`,
        `--cpu-prof-name=${config.subject}-c${config.concurrency}-rtt${config.rttMs}-d${config.delayMs}.cpuprofile`,
      ]
    : [];
  const child = fork(path.join(here, 'subject.mjs'), [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const exited = once(child, 'exit');
  const next = (type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${config.subject}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message) => {
        if (message.type !== type) return;
        cleanup();
        resolve(message);
      };
      const onExit = (code) => {
        cleanup();
        reject(new Error(`${config.subject}: exited (${code}) before '${type}'`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { child, next, exited, kill };
}

function diffCounts(after, before) {
  const out = {};
  for (const [action, n] of Object.entries(after)) {
    const d = n - (before[action] ?? 0);
    if (d > 0) out[action] = d;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Throughput runs

async function runThroughput(ctx, subject, concurrency, rttMs, delayMs, rep) {
  const messages = profile.messages[rttMs];
  const queueUrl = await createQueue(ctx.direct);
  await preload(ctx.direct, queueUrl, messages);
  ctx.proxy.setLatency(rttMs);
  const config = {
    subject: subject.id,
    concurrency,
    delayMs,
    messages,
    queueUrl,
    endpoint: ctx.proxy.endpoint,
    mode: 'throughput',
    rttMs,
    pkg,
  };
  const proc = spawnSubject(config, { profile: args.profile === true && rep === 0 });
  const result = {
    subject: subject.id,
    label: subject.label,
    concurrency,
    rttMs,
    delayMs,
    messages,
    rep,
  };
  try {
    await proc.next('ready', 30_000);
    const before = { ...ctx.proxy.counts };
    const proxyCpu = process.cpuUsage();
    const serverCpu = processCpuMs(ctx.server.pid);
    proc.child.send({ type: 'start' });
    // Slowest expected: the naive loop at 20 ms RTT, ~200 msgs/s; allow 5x that.
    const done = await proc.next('done', 60_000 + (messages / 40) * 1000);
    const counts = diffCounts({ ...ctx.proxy.counts }, before);
    const proxyCpuUsed = process.cpuUsage(proxyCpu);
    const serverCpuAfter = processCpuMs(ctx.server.pid);
    proc.child.send({ type: 'stop' });
    const stopped = await proc.next('stopped', 30_000);
    await proc.exited;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    Object.assign(result, {
      ok: true,
      elapsedMs: round(done.elapsedMs, 5),
      msgsPerSec: round((messages / done.elapsedMs) * 1000, 4),
      requests: counts,
      requestsPerMessage: round(total / messages, 4),
      cpuMsPer10k: round((done.cpuMs / messages) * 10_000, 4),
      peakRssMB: round(done.maxRssMB, 3),
      peakHeld: done.meter.peakHeld,
      peakWaiting: done.meter.peakWaiting,
      peakBuffered: subject.id === 'sqs-streams' ? stopped.meter.peakBuffered : undefined,
      highWaterMark: done.meter.highWaterMark,
      duplicates: stopped.meter.duplicates,
      emptyReceives: done.meter.receivesEmpty,
      proxyCpuMsPer10k: round(
        ((proxyCpuUsed.user + proxyCpuUsed.system) / 1000 / messages) * 10_000,
        3,
      ),
      serverCpuMsPer10k:
        serverCpu === undefined
          ? undefined
          : round(((serverCpuAfter - serverCpu) / messages) * 10_000, 3),
      streamStats: done.extra,
    });
  } catch (error) {
    result.ok = false;
    result.error = String(error?.message ?? error);
    log(`  ! ${result.error}`);
    await proc.kill();
  }
  await ctx.direct.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
  return result;
}

// ---------------------------------------------------------------------------------------------
// Idle runs: every subject on an empty queue at once (they use no CPU), each behind a proxy of
// its own so its requests are counted apart.
//
// The rate is the steady state, from when each ReceiveMessage started: with `c` receives in
// flight, (starts - c) intervals over the time from the first start to the last. A long poll of
// 20 s gives 3 a minute per slot from two intervals on; a window of 45 s sees 2, of 65 s 3.

async function runIdle(ctx) {
  const specs = [];
  for (const subject of subjects) {
    specs.push({ subject, concurrency: 1 });
    if (subject.id === 'sqs-streams' && subject.concurrencies.includes(4))
      specs.push({ subject, concurrency: 4 });
  }
  const windowMs = profile.idleWindowS * 1000;
  const started = await Promise.all(
    specs.map(async (spec) => {
      const queueUrl = await createQueue(ctx.direct);
      const proxy = await startSqsProxy({ target: ctx.server.endpoint, maxDurationMs: 3_600_000 });
      const config = {
        subject: spec.subject.id,
        concurrency: spec.concurrency,
        delayMs: 0,
        messages: 0,
        queueUrl,
        endpoint: proxy.endpoint,
        mode: 'idle',
        rttMs: 0,
        pkg,
      };
      const proc = spawnSubject(config);
      await proc.next('ready', 30_000);
      return { spec, queueUrl, proxy, proc };
    }),
  );
  const before = started.map((s) => ({ ...s.proxy.counts }));
  for (const s of started) s.proc.child.send({ type: 'start' });
  await sleep(windowMs);
  const counted = started.map((s, i) => diffCounts({ ...s.proxy.counts }, before[i]));
  const stopped = await Promise.all(
    started.map(async (s) => {
      s.proc.child.send({ type: 'stop' });
      const message = await s.proc.next('stopped', 30_000).catch(() => s.proc.kill());
      await s.proc.exited;
      await s.proxy.close();
      await ctx.direct.send(new DeleteQueueCommand({ QueueUrl: s.queueUrl })).catch(() => {});
      return message;
    }),
  );
  return started.map((s, i) => {
    const c = s.spec.concurrency;
    const starts = (stopped[i]?.receiveStarts ?? []).filter((t) => t <= windowMs);
    const span = starts.length > c ? starts[starts.length - 1] - starts[0] : 0;
    const perMinute = span > 0 ? ((starts.length - c) * 60_000) / span : 0;
    const other = Object.entries(counted[i])
      .filter(([action]) => action !== 'ReceiveMessage')
      .reduce((a, [, n]) => a + n, 0);
    return {
      subject: s.spec.subject.id,
      label: s.spec.subject.label,
      concurrency: c,
      windowS: windowMs / 1000,
      requests: counted[i],
      receiveStarts: starts.length,
      receivesPerMinute: round(perMinute, 3),
      receivesPerMinutePerSlot: round(perMinute / c, 3),
      // Receives at that rate for a 30-day month (43,200 minutes), plus the one-off requests seen.
      requestsPerMonth: Math.round(perMinute * 43_200) + other,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Stream-layer overhead: stub client, no HTTP

async function runOverhead() {
  const out = {};
  // One core: pinned with taskset where there is one (GC threads included), so messages per
  // CPU-second is messages per second on one core even when the machine is shared.
  const pin = existsSync('/usr/bin/taskset')
    ? ['taskset', ['-c', String(os.cpus().length - 1)]]
    : undefined;
  for (const mode of ['streams', 'loop']) {
    const nodeArgs = [
      ...(args.profile === true
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${cpuProfDir}`,
            `--cpu-prof-name=overhead-${mode}.cpuprofile`,
          ]
        : []),
      path.join(here, 'overhead.mjs'),
      mode,
      String(profile.overheadMessages),
      ...(pkg ? [pkg] : []),
    ];
    const child = pin
      ? spawn(pin[0], [...pin[1], process.execPath, ...nodeArgs], {
          stdio: ['ignore', 'pipe', 'inherit'],
        })
      : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`overhead ${mode} exited ${code}`);
    const result = JSON.parse(stdout.trim().split('\n').pop());
    out[mode] = {
      messages: result.messages,
      pinned: pin !== undefined,
      msgsPerCpuSecond: round(result.msgsPerCpuSecond, 4),
      msgsPerSec: round(result.msgsPerSec, 4),
      cpuMsPer10k: round((result.cpuMs / result.messages) * 10_000, 3),
      passes: result.passes.map((p) => ({
        elapsedMs: round(p.elapsedMs, 4),
        cpuMs: round(p.cpuMs, 4),
      })),
      requests: result.requests,
    };
    log(
      `  overhead ${mode}: ${fmt(result.msgsPerCpuSecond)} msgs per CPU-second (${fmt(result.msgsPerSec)} msgs/s wall)`,
    );
  }
  out.ratio = round(out.streams.msgsPerCpuSecond / out.loop.msgsPerCpuSecond, 3);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Summary, ratios, targets

function printTable(rows, columns) {
  const widths = columns.map((c) =>
    Math.max(c.title.length, ...rows.map((r) => String(c.get(r)).length)),
  );
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  console.log(line(columns.map((c) => c.title)));
  for (const row of rows) console.log(line(columns.map((c) => c.get(row))));
}

function printResults(results) {
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
      '\n== sqs-streams throughput relative to each peer (same RTT, processing, concurrency)',
    );
    printTable(ratios, [
      { title: 'conc', get: (r) => r.concurrency },
      { title: 'rtt', get: (r) => r.rttMs },
      { title: 'delay', get: (r) => r.delayMs },
      ...SUBJECTS.filter((s) => s.id !== 'sqs-streams').map((s) => ({
        title: `vs ${s.id}`,
        get: (r) => (r.vs[s.id] === undefined ? '' : `${r.vs[s.id]}x`),
      })),
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

// ---------------------------------------------------------------------------------------------
// Main

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}

async function main() {
  const startedAt = new Date();
  const loadStart = os.loadavg();
  const source = sourceState();
  const server = await startEndpoint();
  const proxy = await startSqsProxy({
    target: server.endpoint,
    maxDurationMs: 3_600_000,
    maxRequests: 50_000_000,
  });
  const direct = createClient(server.endpoint);
  const ctx = { server, proxy, direct };
  log(`bench: ${FULL ? 'full' : 'quick'} profile, endpoint ${server.kind} ${server.endpoint}`);

  const runs = [];
  let idle;
  let overhead;
  try {
    if (args.throughput !== false) {
      const plan = [];
      for (let rep = 0; rep < profile.reps; rep++) {
        for (const rttMs of profile.rtts) {
          for (const delayMs of profile.delays) {
            for (const subject of subjects) {
              for (const concurrency of subject.concurrencies)
                plan.push({ subject, concurrency, rttMs, delayMs, rep });
            }
          }
        }
      }
      let index = 0;
      for (const p of plan) {
        index++;
        const run = await runThroughput(ctx, p.subject, p.concurrency, p.rttMs, p.delayMs, p.rep);
        runs.push(run);
        log(
          `[${index}/${plan.length}] ${p.subject.id} c${p.concurrency} rtt ${p.rttMs} ms delay ${p.delayMs} ms: ` +
            (run.ok
              ? `${fmt(run.msgsPerSec)} msgs/s, ${run.requestsPerMessage} req/msg, peak held ${run.peakHeld}`
              : 'FAILED'),
        );
      }
    }
    if (args.idle !== false) {
      log('idle phase...');
      idle = await runIdle(ctx);
    }
    if (args.overhead !== false) {
      log('overhead phase...');
      overhead = await runOverhead();
    }
  } finally {
    await proxy.close();
    await server.stop();
  }

  const summary = summarize(runs);
  const ratios = computeRatios(summary);
  const targets = checkTargets(summary, ratios, idle, overhead);
  const results = {
    schema: 1,
    profile: FULL ? 'full' : 'quick',
    date: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGB: round(os.totalmem() / 2 ** 30, 3),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverageAtStart: loadStart.map((l) => round(l, 3)),
      loadAverageAtEnd: os.loadavg().map((l) => round(l, 3)),
    },
    versions: Object.fromEntries(
      [
        'sqs-streams',
        '@aws-sdk/client-sqs',
        'sqs-consumer',
        'squiss-ts',
        'fauxqs',
        'vega',
        'vega-lite',
      ].map((n) => [
        n,
        n === 'sqs-streams'
          ? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version
          : versionOf(n),
      ]),
    ),
    settings: {
      endpoint:
        server.kind === 'fauxqs'
          ? `fauxqs ${versionOf('fauxqs')} in its own process`
          : 'SQS_ENDPOINT',
      proxy:
        '__tests__/support/sqs-proxy.ts in the runner process (RTT split half before, half after forwarding)',
      ...profile,
      messageBytes: BODY.length,
      package: pkg ? path.relative(root, fileURLToPath(pkg)) : 'dist/ (npm run build)',
      source,
      queueVisibilityTimeoutS: 60,
      billableActions: ACTIONS,
    },
    subjects: SUBJECTS,
    summary,
    ratios,
    idle,
    overhead,
    targets,
    runs,
  };
  results.headline = headline(summary, ratios, idle, overhead);
  printResults(results);

  const out =
    args.out ?? path.join(root, FULL ? 'bench/results/full.json' : 'bench/.tmp/quick.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults: ${path.relative(root, out)} (${results.durationS} s)`);
  if (FULL && args.report !== false && args.only === undefined) {
    const { writeReport } = await import('./report.mjs');
    await writeReport(out);
  }
}

function parseArgs(argv) {
  const out = {};
  for (const arg of argv) {
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unknown argument ${arg}`);
    const [, no, key, value] = match;
    out[key] = no ? false : (value ?? true);
  }
  return out;
}

function numbers(value) {
  return String(value).split(',').map(Number);
}

await main();
