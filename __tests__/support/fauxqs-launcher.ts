import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where fauxqs runs: in the caller's process, or in a child process of its own. */
export type FauxqsMode = 'in-process' | 'child-process';

/** A started fauxqs server. */
export interface RunningFauxqs {
  /** `http://127.0.0.1:<port>`: give it to SQSClient as `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops the server (and its process in child-process mode). Idempotent. */
  stop(): Promise<void>;
}

interface FauxqsModule {
  startEmbeddedFauxqs(port?: number): Promise<{ readonly port: number; stop(): Promise<void> }>;
}

const SERVER_SCRIPT = path.join(__dirname, 'fauxqs-server.mjs');
const CHILD_READY_TIMEOUT_MS = 15_000;
const CHILD_EXIT_TIMEOUT_MS = 5_000;

// fauxqs is ESM-only. TypeScript (and ts-jest) may compile `import()` into `require()` in this
// CommonJS package, which cannot load it; a Function body is left alone, so this stays a native
// dynamic import. It works in plain Node and in Jest's parent process (globalSetup), not inside
// a Jest test sandbox (a vm context without --experimental-vm-modules).
const nativeImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

/** Starts fauxqs 1.9.2 on a free port, in this process or in a child process. */
export async function startFauxqsServer(mode: FauxqsMode = 'in-process'): Promise<RunningFauxqs> {
  return mode === 'in-process' ? startInProcess() : startChildProcess();
}

async function startInProcess(): Promise<RunningFauxqs> {
  const mod = (await nativeImport(pathToFileURL(SERVER_SCRIPT).href)) as FauxqsModule;
  const server = await mod.startEmbeddedFauxqs(0);
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    stop: () => (stopped ??= server.stop()),
  };
}

async function startChildProcess(): Promise<RunningFauxqs> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, '0'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ready = await firstOf(
    once(child, 'message').then(([message]) => message as { endpoint: string; port: number }),
    exited.then(([code, signal]) => {
      throw new Error(`fauxqs child process exited before it was ready (${code ?? signal})`);
    }),
    CHILD_READY_TIMEOUT_MS,
    'fauxqs child process did not report its port',
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  // The server must not keep the caller alive; it exits by itself when the IPC channel closes.
  child.unref();
  child.channel?.unref();
  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await firstOf(exited, new Promise<never>(() => {}), CHILD_EXIT_TIMEOUT_MS, 'exit').catch(() => {
      child.kill('SIGKILL');
    });
  };
  return { endpoint: ready.endpoint, port: ready.port, stop: () => (stopped ??= stop()) };
}

/** The first of two promises to settle, or a rejection naming `what` after `timeoutMs`. */
async function firstOf<T>(
  a: Promise<T>,
  b: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([a, b, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
