import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsMessage } from '../index.js';
import {
  CliError,
  createCliClient,
  createCliS3Client,
  queueRef,
  readableOptions,
  type ReceiveFlags,
  type S3Flags,
} from './common.js';
import { Progress, fixed, retryReporter, writeFlushed } from './output.js';
import { onStopSignals } from './signals.js';
import { Gate, quiesceAndStop, whenClosed } from './stop.js';

export interface ReceiveCommandFlags extends ReceiveFlags, S3Flags {
  delete?: boolean;
  bodyOnly?: boolean;
}

/** A message attribute as JSON can carry it: binary values as base64. */
function jsonAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const { BinaryValue, BinaryListValues, ...rest } = value;
    out[name] = {
      ...rest,
      ...(BinaryValue === undefined
        ? {}
        : { BinaryValue: Buffer.from(BinaryValue).toString('base64') }),
      ...(BinaryListValues === undefined || BinaryListValues.length === 0
        ? {}
        : { BinaryListValues: BinaryListValues.map((b) => Buffer.from(b).toString('base64')) }),
    };
  }
  return out;
}

/** One NDJSON line: the fields a consumer needs, never the receipt handle. */
export function messageLine(message: SqsMessage): string {
  return `${JSON.stringify({
    messageId: message.messageId,
    body: message.body,
    attributes: message.attributes,
    messageAttributes: jsonAttributes(message.messageAttributes),
    receiveCount: message.receiveCount,
    ...(message.payload === undefined ? {} : { payload: message.payload }),
  })}\n`;
}

/**
 * Writes each message as a line to stdout and calls `onWritten` once stdout flushed the line (its
 * write callback). Accepts the next message while stdout takes writes, waits for `'drain'` when
 * it does not: so a slow reader of stdout slows the pipeline, and with it receiving.
 *
 * When stdout breaks (EPIPE: its reader went away) the sink does not fail the pipeline, which
 * would destroy the source and cut its receives in flight; it calls `onBroken` (the command
 * stops the source gently) and releases every message that reaches it from then on, the one
 * whose line failed included. `broken` tells the command afterwards.
 */
class StdoutSink extends Writable {
  readonly #out: NodeJS.WriteStream;
  readonly #format: (message: SqsMessage) => string;
  readonly #onWritten: (message: SqsMessage) => Promise<void> | undefined;
  readonly #onBroken: (error: Error) => void;
  readonly #pending = new Set<Promise<void>>();
  #failure: Error | undefined;
  #broken: Error | undefined;

  constructor(
    out: NodeJS.WriteStream,
    format: (message: SqsMessage) => string,
    onWritten: (message: SqsMessage) => Promise<void> | undefined,
    onBroken: (error: Error) => void,
  ) {
    super({ objectMode: true, highWaterMark: 16 });
    this.#out = out;
    this.#format = format;
    this.#onWritten = onWritten;
    this.#onBroken = onBroken;
  }

  /** Why stdout stopped taking lines, if it did. */
  get broken(): Error | undefined {
    return this.#broken;
  }

  /** stdout failed (also called for its `'error'` event). */
  outputFailed(error: Error): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    this.#onBroken(error);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.destroy(error);
  }

  #track(settled: Promise<void>): void {
    const tracked = settled.then(
      () => {
        this.#pending.delete(tracked);
      },
      (settleError: unknown) => {
        this.#pending.delete(tracked);
        this.#fail(settleError as Error);
      },
    );
    this.#pending.add(tracked);
  }

  override _write(
    message: SqsMessage,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#failure !== undefined) {
      callback(this.#failure);
      return;
    }
    if (this.#broken !== undefined) {
      this.#track(message.nack(0));
      callback();
      return;
    }
    const ok = this.#out.write(this.#format(message), (error) => {
      if (error) {
        this.outputFailed(error);
        this.#track(message.nack(0));
        return;
      }
      const settled = this.#onWritten(message);
      if (settled !== undefined) this.#track(settled);
    });
    if (ok) {
      callback();
      return;
    }
    const done = (): void => {
      this.#out.off('drain', done);
      this.#out.off('error', done);
      this.#out.off('close', done);
      callback();
    };
    this.#out.on('drain', done);
    this.#out.on('error', done);
    this.#out.on('close', done);
  }

  override _final(callback: (error?: Error | null) => void): void {
    void (async () => {
      if (this.#broken === undefined) await writeFlushed(this.#out, '');
      while (this.#pending.size > 0) await Promise.all([...this.#pending]);
      return this.#failure;
    })().then(
      (failure) => callback(failure ?? null),
      (error: unknown) => callback(error as Error),
    );
  }
}

/** Without --delete, the default --idle-timeout: a peek ends once the queue is drained. */
export const PEEK_IDLE_TIMEOUT_MS = 2_000;

/** The longest a receive of these options waits on the server (the readable cuts polls to the idle timeout). */
function longestPollMs(options: { waitTimeSeconds: number; idleTimeoutMs?: number }): number {
  const idleSeconds =
    options.idleTimeoutMs === undefined ? Infinity : Math.ceil(options.idleTimeoutMs / 1000);
  return Math.min(options.waitTimeSeconds, idleSeconds) * 1000;
}

/** `receive <queue>`: messages as NDJSON (or raw bodies) on stdout. */
export async function receiveCommand(queue: string, flags: ReceiveCommandFlags): Promise<number> {
  const ref = queueRef(queue);
  const client = createCliClient(flags);
  const peek = !flags.delete;
  // Peeking ends by itself once the queue is drained (the messages are all held by then).
  const idleTimeout = flags.idleTimeout ?? (peek ? PEEK_IDLE_TIMEOUT_MS : undefined);
  const options = readableOptions(ref, { ...flags, idleTimeout });
  const progress = new Progress(peek ? 'receive' : 'receive (delete)', flags.max);
  const s3Client = flags.s3Bucket === undefined ? undefined : createCliS3Client(flags, client);
  const source = new SqsReadable({
    ...options,
    client,
    ...(s3Client === undefined ? {} : { largePayloads: { s3Client } }),
  });
  source.on('retry', retryReporter(progress, 'receive'));
  source.on('payloadError', (error: Error) => progress.log(`receive: skipped: ${error.message}`));

  let written = 0;
  // Without --delete the messages are held (invisible, heartbeat-extended) until the end, so a
  // run prints each once; then they are released at once, leaving the queue as it was.
  const peeked = new Set<SqsMessage>();
  const releasePeeked = async (): Promise<unknown> => {
    const messages = [...peeked].filter((message) => !message.settled);
    peeked.clear();
    const results = await Promise.allSettled(messages.map((message) => message.nack(0)));
    const rejected = results.find((result) => result.status === 'rejected');
    return rejected?.reason;
  };
  const gate = new Gate();
  const sink = new StdoutSink(
    process.stdout,
    flags.bodyOnly ? (message) => `${message.body}\n` : messageLine,
    (message) => {
      written++;
      if (!peek) return message.ack();
      peeked.add(message);
      return undefined;
    },
    () => {
      void quiesceAndStop(source, gate);
    },
  );
  // EPIPE and friends: the sink stops writing, releases what reaches it, and the source stops.
  const onStdoutError = (error: Error): void => {
    sink.outputFailed(error);
  };
  process.stdout.on('error', onStdoutError);

  // When a signal cuts a long poll short, SQS may still complete the abandoned request: it
  // would take up to a batch of what is released right after, and hide it for the visibility
  // timeout. So a peek whose stop had to cut a poll releases once that poll has run out.
  let releaseNotBefore = 0;
  let wakeRelease: (() => void) | undefined;
  const signals = onStopSignals(
    'receive',
    {
      graceful: () => {
        const stoppingAt = Date.now();
        void quiesceAndStop(source, gate).then((cutPoll) => {
          if (peek && cutPoll) releaseNotBefore = stoppingAt + longestPollMs(options) + 250;
        });
      },
      immediate: async () => {
        wakeRelease?.();
        source.destroy();
        await Promise.all([whenClosed(source), releasePeeked()]);
      },
    },
    (line) => progress.log(line),
  );
  const ticker = setInterval(() => {
    progress.update(written, peek ? undefined : `deleted ${source.stats.acked}`);
  }, 250);

  const startedAt = Date.now();
  let failure: unknown;
  try {
    await pipeline(source, gate, sink);
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(ticker);
  }
  // After a failure the source is being destroyed: its release of what it held needs the client.
  await whenClosed(source);
  if (peeked.size > 0) {
    const delay = releaseNotBefore - Date.now();
    if (delay > 0) {
      progress.log(
        `receive: releasing ${peeked.size} messages in ${fixed(delay / 1000, 1)} s, once the interrupted long poll has run out (signal again to release now)`,
      );
      await new Promise<void>((resolve) => {
        wakeRelease = resolve;
        setTimeout(resolve, delay);
      });
    }
    const releaseError = await releasePeeked();
    failure ??= releaseError;
  }
  signals.dispose();
  process.stdout.off('error', onStdoutError);
  progress.update(written, peek ? undefined : `deleted ${source.stats.acked}`);
  progress.stop();
  const seconds = (Date.now() - startedAt) / 1000;
  process.stderr.write(
    `receive: received=${source.stats.received} written=${written} deleted=${source.stats.acked} released=${source.stats.released} seconds=${fixed(seconds, 1)}${signals.signal() ? ` stopped-by=${signals.signal()}` : ''}\n`,
  );
  client.destroy();
  s3Client?.destroy();
  if (failure !== undefined) throw failure;
  if (sink.broken !== undefined) {
    const code = (sink.broken as { code?: unknown }).code ?? sink.broken.name;
    throw new CliError(
      `stdout was closed by its reader (${String(code)}). The messages not written were released; the ${written} written before${peek ? ' were released too' : ' were deleted'}. To take a fixed number of messages, use --max instead of closing the pipe.`,
    );
  }
  return 0;
}
