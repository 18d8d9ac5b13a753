// A subject in a child process of its own (bench/subject.mjs), driven over IPC, so its CPU time
// and RSS are its own; and the request counts it made, from the proxy's counters.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { root } from './run-options.mjs';

export function spawnSubject(config, { profile: withProfile = false, cpuProfDir } = {}) {
  const execArgv = withProfile
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${cpuProfDir}`,
        `--cpu-prof-name=${config.subject}-c${config.concurrency}-rtt${config.rttMs}-d${config.delayMs}.cpuprofile`,
      ]
    : [];
  // BENCH_SUBJECT_NODE_ARGS='--trace-gc-nvp': flags for the subjects only, V8's included (which
  // NODE_OPTIONS refuses), so a trace comes from one subject's process and no other.
  execArgv.push(...(process.env.BENCH_SUBJECT_NODE_ARGS ?? '').split(' ').filter(Boolean));
  const child = fork(path.join(root, 'bench/subject.mjs'), [JSON.stringify(config)], {
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

export function diffCounts(after, before) {
  const out = {};
  for (const [action, n] of Object.entries(after)) {
    const d = n - (before[action] ?? 0);
    if (d > 0) out[action] = d;
  }
  return out;
}
