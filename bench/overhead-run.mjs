// Stream-layer overhead: bench/overhead.mjs with its stub client (no HTTP), sqs-streams (to
// SqsAckWritable, and to SqsProcessor) and the bare loop, each in a process of its own pinned to
// one core.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt } from './analyze.mjs';
import { round } from './common.mjs';
import { log, root } from './run-options.mjs';

export async function runOverhead(options) {
  const { args, profile, pkg, cpuProfDir } = options;
  const out = {};
  // One core: pinned with taskset where there is one (GC threads included), so messages per
  // CPU-second is messages per second on one core even when the machine is shared.
  const pin = existsSync('/usr/bin/taskset')
    ? ['taskset', ['-c', String(os.cpus().length - 1)]]
    : undefined;
  for (const mode of ['streams', 'processor', 'loop']) {
    const nodeArgs = [
      ...(args.profile === true
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${cpuProfDir}`,
            `--cpu-prof-name=overhead-${mode}.cpuprofile`,
          ]
        : []),
      path.join(root, 'bench/overhead.mjs'),
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
