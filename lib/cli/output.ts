import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** Writes `text` and resolves once the stream flushed it (and everything written before it). */
export function writeFlushed(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) {
      resolve();
      return;
    }
    stream.write(text, () => resolve());
  });
}

/**
 * Resolves when a Writable that refused a write can take more (`'drain'`), or will never
 * (`'close'`, `'error'`: the caller then looks at `destroyed`/`errored`). Leaves no listener.
 */
export function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Resolves once stdout and stderr flushed what was written to them. */
export async function flushOutput(): Promise<void> {
  await Promise.all([writeFlushed(process.stdout, ''), writeFlushed(process.stderr, '')]);
}

/**
 * A progress bar on stderr when stderr is a terminal; nothing otherwise (scripts and CI get the
 * one-line summary alone). Warnings go through `log` so they do not tear the bar.
 */
export class Progress {
  readonly #multi: MultiBar | undefined;
  readonly #bar: SingleBar | undefined;
  #stopped = false;
  #startedAt = Date.now();

  constructor(label: string, total: number | undefined, enabled = process.stderr.isTTY === true) {
    if (!enabled) return;
    const format =
      total === undefined
        ? `${label} {value} msgs | {rate} msgs/s | {duration_formatted}{info}`
        : `${label} [{bar}] {percentage}% | {value}/{total} | {rate} msgs/s | ETA {eta_formatted}{info}`;
    this.#multi = new MultiBar(
      {
        stream: process.stderr,
        format,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        etaBuffer: 50,
        barsize: 24,
        fps: 8,
      },
      Presets.shades_classic,
    );
    this.#bar = this.#multi.create(total ?? 0, 0, { rate: '0', info: '' });
  }

  /** Sets the count shown (and the extra info after it). */
  update(value: number, info?: string): void {
    if (this.#bar === undefined || this.#stopped) return;
    const seconds = (Date.now() - this.#startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(value / seconds) : 0;
    this.#bar.update(value, { rate: String(rate), info: info === undefined ? '' : ` | ${info}` });
  }

  setTotal(total: number): void {
    this.#bar?.setTotal(total);
  }

  /** A line on stderr above the bar (or plain, without one). */
  log(line: string): void {
    if (this.#multi !== undefined && !this.#stopped) this.#multi.log(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#multi?.stop();
  }
}

/** What a retry event carries; logs the error's kind only (never a body, handle or credential). */
export function describeRetry(error: unknown, attempt: number, delayMs: number): string {
  const e = error as
    { name?: unknown; code?: unknown; Code?: unknown; message?: unknown } | undefined;
  const kind =
    (typeof e?.Code === 'string' && e.Code) ||
    (typeof e?.code === 'string' && e.code) ||
    (typeof e?.name === 'string' && e.name) ||
    'error';
  return `transient ${kind}, retry ${attempt} in ${Math.round(delayMs)} ms`;
}

/**
 * Reports retries on stderr, at most one line a second, so a wrong endpoint or an outage shows
 * instead of looking like a hang.
 */
export function retryReporter(
  progress: Progress,
  command: string,
): (error: unknown, attempt: number, delayMs: number) => void {
  let last = 0;
  let skipped = 0;
  return (error, attempt, delayMs) => {
    const now = Date.now();
    if (now - last < 1000) {
      skipped++;
      return;
    }
    last = now;
    const more = skipped > 0 ? ` (${skipped} more since the last report)` : '';
    skipped = 0;
    progress.log(`${command}: ${describeRetry(error, attempt, delayMs)}${more}`);
  };
}

/** `1234.5678` -> `1234.6`, for summary lines. */
export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '0';
}
