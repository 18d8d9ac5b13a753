/**
 * Child processes for the reliability tests: consumers and producers running the built package
 * (reliability-worker.mjs), and the tallies the tests assert on and print.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'reliability-worker.mjs');

/** The built package the workers load: `SQS_STREAMS_DIST`, else `<repo>/dist` (`npm run build`). */
export function distDir(): string {
  const dir = process.env['SQS_STREAMS_DIST'] ?? path.join(ROOT, 'dist');
  if (!existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `The reliability tests run the built package, and ${dir}/index.js does not exist: run \`npm run build\` first (CI does).`,
    );
  }
  return dir;
}

export interface WorkerConfig {
  role: 'consume' | 'send';
  endpoint: string;
  region?: string;
  /** false: the SDK's default credential chain (real AWS); else the static test keys. */
  staticCredentials?: boolean;
  queueUrl: string;
  /** SQSClient maxAttempts; 1 hands every fault to the stream's own retry. */
  maxAttempts?: number;
  /** consume */
  idleTimeoutMs?: number;
  waitTimeSeconds?: number;
  visibilityTimeout?: number;
  processMs?: number;
  /** send */
  count?: number;
  bodyPrefix?: string;
  fifo?: boolean;
  delayStartMs?: number;
  maxRunMs?: number;
}

export interface WorkerEvent {
  t: string;
  id?: string;
  b?: string;
  rc?: number;
  i?: number;
  n?: number;
  e?: string;
  m?: string;
  a?: number;
  stats?: Record<string, number>;
}

export interface Worker {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: WorkerEvent[];
  readonly stderr: () => string;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `predicate` holds for the events so far; rejects after `timeoutMs` or on exit. */
  waitFor(
    what: string,
    predicate: (events: WorkerEvent[]) => boolean,
    timeoutMs: number,
  ): Promise<void>;
  count(t: string): number;
}

const running = new Set<ChildProcess>();

/** Starts a worker process. Killed by {@link killAllWorkers} if still running. */
export function startWorker(name: string, config: WorkerConfig): Worker {
  const child = spawn(process.execPath, [WORKER, JSON.stringify({ dist: distDir(), ...config })], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // A dist outside the repo (SQS_STREAMS_DIST) still finds the repo's dependencies.
      NODE_PATH: path.join(ROOT, 'node_modules'),
      NODE_NO_WARNINGS: '1',
    },
  });
  running.add(child);
  const events: WorkerEvent[] = [];
  let errText = '';
  let partial = '';
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        events.push(JSON.parse(line) as WorkerEvent);
      } catch {
        errText += `[stdout] ${line}\n`;
      }
    }
    notify();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (errText.length < 64_000) errText += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      // Let the last stdout chunk arrive.
      setImmediate(() => {
        resolve({ code, signal });
        notify();
      });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const waitFor = (
    what: string,
    predicate: (e: WorkerEvent[]) => boolean,
    timeoutMs: number,
  ): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(events)) {
          cleanup();
          resolve();
        } else if (hasExited) {
          cleanup();
          reject(new Error(`${name} exited before ${what}; stderr:\n${errText.slice(-4000)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`${name}: no ${what} within ${timeoutMs} ms; stderr:\n${errText.slice(-4000)}`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    name,
    child,
    events,
    stderr: () => errText,
    exited,
    waitFor,
    count: (t) => events.filter((e) => e.t === t).length,
  };
}

/** Waits for a worker's exit, at most `timeoutMs`; SIGKILLs it after that and throws. */
export async function waitForExit(
  worker: Worker,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      worker.child.kill('SIGKILL');
      reject(
        new Error(
          `${worker.name} did not exit within ${timeoutMs} ms; stderr:\n${worker.stderr().slice(-4000)}`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([worker.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the fault proxy can stand in front of `endpoint` (plain http on loopback). */
export function proxyable(endpoint: string): boolean {
  return /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);
}

/** SIGKILLs every worker still running (afterEach / afterAll). */
export function killAllWorkers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** What a set of consumers did with a set of sent bodies. */
export interface Tally {
  sent: number;
  /** Distinct bodies processed. */
  processed: number;
  /** Sent bodies never processed. */
  lost: number;
  /** Deliveries beyond the first, summed over bodies. */
  duplicates: number;
  /** Deliveries SQS counted as a redelivery (ApproximateReceiveCount > 1). */
  redeliveries: number;
  /** Bodies processed that were never sent (must be 0). */
  unexpected: number;
  /** Per worker: deliveries handed to its handler. */
  perWorker: Record<string, number>;
  lostBodies: string[];
}

export function tally(sent: readonly string[], workers: readonly Worker[]): Tally {
  const expected = new Set(sent);
  const seen = new Map<string, number>();
  let redeliveries = 0;
  let unexpected = 0;
  const perWorker: Record<string, number> = {};
  for (const worker of workers) {
    let n = 0;
    for (const event of worker.events) {
      if (event.t !== 'got' || event.b === undefined) continue;
      n++;
      if (!expected.has(event.b)) unexpected++;
      seen.set(event.b, (seen.get(event.b) ?? 0) + 1);
      if ((event.rc ?? 1) > 1) redeliveries++;
    }
    perWorker[worker.name] = n;
  }
  const lostBodies = sent.filter((body) => !seen.has(body));
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return {
    sent: sent.length,
    processed: [...seen.keys()].filter((body) => expected.has(body)).length,
    lost: lostBodies.length,
    duplicates,
    redeliveries,
    unexpected,
    perWorker,
    lostBodies: lostBodies.slice(0, 20),
  };
}

/** Retry events of the workers, by error name. */
export function retriesByError(workers: readonly Worker[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const worker of workers) {
    for (const event of worker.events) {
      if (event.t === 'retry' && event.e !== undefined) out[event.e] = (out[event.e] ?? 0) + 1;
    }
  }
  return out;
}
