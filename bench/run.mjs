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
// The phases live in throughput-run.mjs, idle-run.mjs and overhead-run.mjs.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEndpoint } from './bench-endpoint.mjs';
import { createClient } from './common.mjs';
import { runIdle } from './idle-run.mjs';
import { runOverhead } from './overhead-run.mjs';
import { printResults } from './print-results.mjs';
import { buildResults, sourceState } from './results-file.mjs';
import { log, root, runOptions } from './run-options.mjs';
import { startSqsProxy } from './sqs-proxy.mjs';
import { runThroughputPlan } from './throughput-run.mjs';

// The SDK warns once per process that Node 20 support ends in 2027; it says nothing about speed.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const options = runOptions(process.argv.slice(2));
const { args, full: FULL } = options;

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
  const ctx = { server, proxy, direct, options };
  log(`bench: ${FULL ? 'full' : 'quick'} profile, endpoint ${server.kind} ${server.endpoint}`);

  let runs = [];
  let idle;
  let overhead;
  try {
    if (args.throughput !== false) runs = await runThroughputPlan(ctx);
    if (args.idle !== false) {
      log('idle phase...');
      idle = await runIdle(ctx);
    }
    if (args.overhead !== false) {
      log('overhead phase...');
      overhead = await runOverhead(options);
    }
  } finally {
    await proxy.close();
    await server.stop();
  }

  const results = buildResults({
    options,
    startedAt,
    loadStart,
    source,
    server,
    runs,
    idle,
    overhead,
  });
  printResults(results, options.profile);

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

await main();
