/**
 * Jest side of reliability-scenarios.ts: runs one scenario in a plain Node child process (the
 * library's source through ts-node, no build needed) and resolves with its result line. The
 * child is SIGKILLed past `timeoutMs`; a child still running after a test is killed by
 * {@link killScenarios}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { ScenarioConfig } from './reliability-scenarios';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(__dirname, 'reliability-scenarios.ts');
const running = new Set<ChildProcess>();
const EXIT_GRACE_MS = 5_000;

export interface ScenarioRun {
  /** The child's `{ t: 'result' }` line, without `t`. */
  result: Record<string, unknown> & { stats?: Record<string, number> };
  code: number | null;
  stderr: string;
}

export function runScenario(config: ScenarioConfig, timeoutMs: number): Promise<ScenarioRun> {
  const register = `require('ts-node').register({ transpileOnly: true, experimentalResolver: true, project: ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))} });`;
  const child = spawn(
    process.execPath,
    ['-e', `${register} require(${JSON.stringify(SCRIPT)}).run();`, JSON.stringify(config)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_NO_WARNINGS: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 64_000) stderr += chunk;
  });
  const parse = (): Record<string, unknown>[] =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    let resultAt: number | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`scenario ${config.scenario}: no exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    // A child with its result that does not exit soon is kept alive by something (a timer, a
    // socket): reported as `exitMs: null`, and killed.
    let grace: NodeJS.Timeout | undefined;
    child.stdout.on('data', () => {
      if (resultAt !== undefined || !stdout.includes('"t":"result"')) return;
      resultAt = Date.now();
      grace = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(grace);
      running.delete(child);
      const events = parse();
      const last = events.find((e) => e['t'] === 'result');
      if (last === undefined) {
        const lines = events.map((e) => JSON.stringify(e)).join('\n');
        reject(
          new Error(
            `scenario ${config.scenario} exited ${String(code ?? signal)} without a result: ${lines}\n${stderr.slice(-4000)}`,
          ),
        );
        return;
      }
      const { t: _t, ...result } = last;
      const exitMs = signal === null && resultAt !== undefined ? Date.now() - resultAt : null;
      resolve({ result: { ...result, exitMs }, code, stderr });
    });
  });
}

/** SIGKILLs every scenario child still running (afterEach). */
export function killScenarios(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
