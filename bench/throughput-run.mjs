// Throughput runs: each subject, concurrency, RTT and processing delay on a fresh pre-filled
// queue, repetitions interleaved; one result per run.
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { fmt, isOurs } from './analyze.mjs';
import { createQueue, preload } from './bench-endpoint.mjs';
import { procCpuMs, round } from './common.mjs';
import { log } from './run-options.mjs';
import { diffCounts, spawnSubject } from './subject-process.mjs';

/**
 * Every configuration of the profile, `reps` times, interleaved, each repetition in another order
 * of subjects; returns the runs. First, one run that is not kept warms the endpoint.
 */
export async function runThroughputPlan(ctx) {
  const { profile, subjects } = ctx.options;
  const runs = [];
  const plan = [];
  const pairs = subjects.flatMap((subject) =>
    subject.concurrencies.map((concurrency) => ({ subject, concurrency })),
  );
  for (let rep = 0; rep < profile.reps; rep++) {
    // The first run of a group ran on an endpoint that had just been idle, the last on one the
    // others had kept busy: each repetition starts the groups with another subject, so no subject
    // is always first (sqs-streams was, and its runs in the first group of repetition 1 cost the
    // proxy and fauxqs twice the CPU the later ones did).
    const offset = Math.round((rep * pairs.length) / profile.reps);
    const order = [...pairs.slice(offset), ...pairs.slice(0, offset)];
    for (const rttMs of profile.rtts) {
      for (const delayMs of profile.delays) {
        for (const pair of order) plan.push({ ...pair, rttMs, delayMs, rep });
      }
    }
  }
  await warmEndpoint(ctx, pairs.find((pair) => pair.subject.id === 'raw') ?? pairs[0]);
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
  return runs;
}

/** One run, not kept, so the proxy and fauxqs compile their hot paths before the first kept run. */
async function warmEndpoint(ctx, pair) {
  const rttMs = ctx.options.profile.rtts[0];
  const run = await runThroughput(ctx, pair.subject, pair.concurrency, rttMs, 0, -1);
  log(`[warm-up, not kept] ${pair.subject.id} c${pair.concurrency}: ${run.ok ? 'done' : 'FAILED'}`);
}

async function runThroughput(ctx, subject, concurrency, rttMs, delayMs, rep) {
  const { args, profile, pkg, cpuProfDir } = ctx.options;
  const messages = profile.messages[rttMs];
  const warmup = profile.warmup?.[rttMs] ?? 0;
  // After a warm-up at another RTT, what is in flight at the switch drains before the window opens.
  const warmupRttMs = warmup > 0 ? (profile.warmupRttMs ?? rttMs) : rttMs;
  const settle = warmupRttMs === rttMs ? 0 : (profile.settle ?? 0);
  /** What the subject consumes: the warm-up, the settle, then the measured window. */
  const consumed = warmup + settle + messages;
  const queueUrl = await createQueue(ctx.direct);
  await preload(ctx.options, ctx.direct, queueUrl, consumed);
  ctx.proxy.setLatency(warmupRttMs);
  const config = {
    subject: subject.id,
    concurrency,
    delayMs,
    messages,
    warmup,
    settle,
    queueUrl,
    endpoint: ctx.proxy.endpoint,
    mode: 'throughput',
    rttMs,
    pkg,
  };
  const proc = spawnSubject(config, { profile: args.profile === true && rep === 0, cpuProfDir });
  const result = {
    subject: subject.id,
    label: subject.label,
    concurrency,
    rttMs,
    delayMs,
    messages,
    warmup,
    warmupRttMs,
    settle,
    rep,
  };
  proc.child.on('message', (message) => {
    if (message.type === 'warm') ctx.proxy.setLatency(rttMs);
  });
  try {
    await proc.next('ready', 30_000);
    const before = { ...ctx.proxy.counts };
    const connectionsBefore = ctx.proxy.connections;
    const proxyCpu = process.cpuUsage();
    const serverCpu = procCpuMs(ctx.server.pid);
    proc.child.send({ type: 'start' });
    // Slowest expected: the naive loop at 20 ms RTT, ~200 msgs/s; allow 5x that.
    const done = await proc.next('done', 60_000 + (consumed / 40) * 1000);
    const counts = diffCounts({ ...ctx.proxy.counts }, before);
    const proxyCpuUsed = process.cpuUsage(proxyCpu);
    const serverCpuAfter = procCpuMs(ctx.server.pid);
    proc.child.send({ type: 'stop' });
    const stopped = await proc.next('stopped', 30_000);
    await proc.exited;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    /** A count or a time of the measured window, per 10k of its messages. */
    const per10k = (value) =>
      value === undefined ? undefined : round((value / messages) * 10_000, 4);
    Object.assign(result, {
      ok: true,
      // The measured window: from the settle's last confirmed delete to the run's last.
      elapsedMs: round(done.elapsedMs, 5),
      msgsPerSec: round((messages / done.elapsedMs) * 1000, 4),
      requests: counts,
      connections: ctx.proxy.connections - connectionsBefore,
      requestsPerMessage: round(total / consumed, 4),
      cpuMsPer10k: per10k(done.cpuMs),
      // The same window's CPU split: in the kernel, and on the main thread (the rest is V8's GC
      // and compiler threads and libuv's pool); 10 ms resolution.
      cpuSplitPer10k: {
        system: per10k(done.cpuSplit.systemMs),
        mainThread: per10k(done.cpuSplit.mainThreadMs),
      },
      // The main thread's context switches in the window, per 10k messages (see common.mjs).
      switchesPer10k: done.switches && {
        voluntary: per10k(done.switches.voluntary),
        involuntary: per10k(done.switches.involuntary),
      },
      // The whole run, warm-up included (what a process that consumes only this many pays; the
      // warm-up at `warmupRttMs`).
      wholeRun: {
        elapsedMs: round(done.wholeElapsedMs, 5),
        msgsPerSec: round((consumed / done.wholeElapsedMs) * 1000, 4),
        cpuMsPer10k: round((done.wholeCpuMs / consumed) * 10_000, 4),
      },
      peakRssMB: round(done.maxRssMB, 3),
      peakHeld: done.meter.peakHeld,
      peakWaiting: done.meter.peakWaiting,
      peakBuffered: isOurs(subject.id) ? stopped.meter.peakBuffered : undefined,
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
