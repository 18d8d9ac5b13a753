import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import {
  SqsAckWritable,
  SqsReadable,
  SqsWritable,
  type SendInput,
  type SqsMessage,
} from '../index.js';
import {
  createCliClient,
  queueRef,
  readableOptions,
  retryOption,
  type ReceiveFlags,
} from './common.js';
import { Progress, drained, fixed, retryReporter } from './output.js';
import { onStopSignals } from './signals.js';
import { Gate, quiesceAndStop, whenClosed } from './stop.js';

export interface MoveCommandFlags extends ReceiveFlags {
  groupId?: string;
}

/** The message to send for one received: same body and attributes; group and dedup ids on FIFO. */
function sendInputOf(message: SqsMessage, fifo: boolean, groupId: string | undefined): SendInput {
  const input: SendInput = { body: message.body };
  if (Object.keys(message.messageAttributes).length > 0) {
    input.messageAttributes = { ...message.messageAttributes };
  }
  if (fifo) {
    const group = message.attributes.MessageGroupId ?? groupId;
    if (group !== undefined) input.groupId = group;
    const dedup = message.attributes.MessageDeduplicationId;
    if (dedup !== undefined) input.deduplicationId = dedup;
  }
  return input;
}

/**
 * Sends each message to the destination and passes it on (to be acked) only once the destination
 * accepted it. Takes the next message while the destination's buffer has room, so sends go out
 * in full batches; `_flush` ends the destination and waits for its last confirmations.
 */
class Forwarder extends Transform {
  readonly #dest: SqsWritable;
  readonly #toInput: (message: SqsMessage) => SendInput;

  constructor(dest: SqsWritable, toInput: (message: SqsMessage) => SendInput) {
    super({ objectMode: true, highWaterMark: 16 });
    this.#dest = dest;
    this.#toInput = toInput;
  }

  override _transform(
    message: SqsMessage,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    let input: SendInput;
    try {
      input = this.#toInput(message);
    } catch (error) {
      callback(error as Error);
      return;
    }
    const ok = this.#dest.write(input, (error) => {
      if (error) this.destroy(error);
      else this.push(message);
    });
    if (ok) {
      callback();
      return;
    }
    void drained(this.#dest).then(() => callback(this.#dest.errored ?? null));
  }

  override _flush(callback: (error?: Error | null) => void): void {
    this.#dest.end();
    finished(this.#dest).then(
      () => callback(),
      (error: unknown) => callback(error as Error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error && !this.#dest.destroyed) this.#dest.destroy(error);
    callback(error);
  }
}

/** `move <from> <to>`: receive -> send -> ack the source once the destination accepted. */
export async function moveCommand(
  from: string,
  to: string,
  flags: MoveCommandFlags,
): Promise<number> {
  const fromRef = queueRef(from, 'source queue');
  const toRef = queueRef(to, 'destination queue');
  const client = createCliClient(flags);
  const progress = new Progress('move', flags.max);
  const source = new SqsReadable({ ...readableOptions(fromRef, flags), client });
  const dest = new SqsWritable({ ...toRef, client, retry: retryOption(flags) });
  const report = retryReporter(progress, 'move');
  source.on('retry', report);
  dest.on('retry', report);
  const forwarder = new Forwarder(dest, (message) =>
    sendInputOf(message, dest.fifo, flags.groupId),
  );
  // The destination is outside the pipeline: its failure fails the pipeline through the forwarder.
  dest.on('error', (error) => forwarder.destroy(error));

  const gate = new Gate();
  const signals = onStopSignals(
    'move',
    {
      graceful: () => {
        void quiesceAndStop(source, gate);
      },
      immediate: async () => {
        dest.destroy();
        source.destroy();
        await whenClosed(source);
      },
    },
    (line) => progress.log(line),
  );
  const ticker = setInterval(() => progress.update(source.stats.acked), 250);

  const startedAt = Date.now();
  let failure: unknown;
  try {
    await pipeline(source, gate, forwarder, new SqsAckWritable());
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(ticker);
  }
  // After a failure the source is being destroyed: its release of what it held needs the client.
  await whenClosed(source);
  signals.dispose();
  progress.update(source.stats.acked);
  progress.stop();
  const seconds = (Date.now() - startedAt) / 1000;
  process.stdout.write(
    `move: received=${source.stats.received} sent=${dest.stats.sent} deleted=${source.stats.acked} released=${source.stats.released} seconds=${fixed(seconds, 1)} msgs/s=${fixed(source.stats.acked / Math.max(seconds, 0.001), 0)}${signals.signal() ? ` stopped-by=${signals.signal()}` : ''}\n`,
  );
  client.destroy();
  if (failure !== undefined) throw failure;
  return 0;
}
