// Idle runs: every subject on an empty queue at once (they use no CPU), each behind a proxy of
// its own so its requests are counted apart.
//
// The rate is the steady state, from when each ReceiveMessage started: with `c` receives in
// flight, (starts - c) intervals over the time from the first start to the last. A long poll of
// 20 s gives 3 a minute per slot from two intervals on; a window of 45 s sees 2, of 65 s 3.
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createQueue } from './bench-endpoint.mjs';
import { round } from './common.mjs';
import { startSqsProxy } from './sqs-proxy.mjs';
import { diffCounts, spawnSubject } from './subject-process.mjs';

export async function runIdle(ctx) {
  const { profile, subjects, pkg } = ctx.options;
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
