import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsReadable, type SqsReadableOptions } from '../../lib/receive/sqs-readable.js';
import type { SqsMessage } from '../../lib/settle/message.js';
import { QUEUE_URL, fakeMessages, mockedSqs, settle } from './mock-sqs.js';

/**
 * Fault injection for unit tests of DESIGN.md invariants 10-15: a mocked SQSClient (see
 * {@link mockedSqs}) whose `send` can be scripted per command class with access to the
 * `abortSignal` each attempt passes, which aws-sdk-client-mock's fakes never see. A script
 * returns `undefined` to fall through to the aws-sdk-client-mock answer.
 */

type CommandClass = abstract new (...args: never[]) => { input: object };

/** One call to `client.send`, as the stream made it. */
export interface SentCall {
  command: string;
  input: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

/** Answers the `call`-th (1-based) send of a command, or `undefined` for the mocked answer. */
export type Script = (
  input: Record<string, unknown>,
  signal: AbortSignal | undefined,
  call: number,
) => Promise<unknown> | undefined;

export function faultySqs() {
  const { client, mock } = mockedSqs();
  const mocked = client.send.bind(client) as (command: unknown, options?: unknown) => unknown;
  const scripts = new Map<CommandClass, Script>();
  const calls: SentCall[] = [];
  jest.spyOn(client, 'send').mockImplementation(((
    command: { input: Record<string, unknown>; constructor: CommandClass },
    options?: { abortSignal?: AbortSignal },
  ) => {
    const name = command.constructor.name.replace(/Command$/, '');
    // A copy: the stream may send one command object again (a FIFO receive's retries do).
    calls.push({ command: name, input: { ...command.input }, signal: options?.abortSignal });
    const script = scripts.get(command.constructor);
    const call = calls.filter((c) => c.command === name).length;
    return script?.(command.input, options?.abortSignal, call) ?? mocked(command, options);
  }) as never);
  return {
    client: client as SQSClient,
    mock,
    /** Every send so far, in order. */
    calls,
    /** Scripts the answers to one command class (replacing an earlier script for it). */
    on(command: CommandClass, script: Script): void {
      scripts.set(command, script);
    },
    /** The inputs of every send of one command (by its name without `Command`). */
    inputs(command: string): Record<string, unknown>[] {
      return calls.filter((c) => c.command === command).map((c) => c.input);
    },
  };
}

/** A request that is accepted and never answered: it rejects only when its signal aborts. */
export function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener(
      'abort',
      () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
      { once: true },
    );
  });
}

/** An SDK-shaped service error. */
export function sdkError(name: string, status: number, metadata: object = {}): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, ...metadata },
  });
}

/** A network failure as the SDK's HTTP handler surfaces it: SQS unreachable. */
export function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9324'), {
    code: 'ECONNREFUSED',
  });
}

/** The receipt handles and visibility timeouts of every ChangeMessageVisibilityBatch entry. */
export function visibilityEntries(
  inputs: Record<string, unknown>[],
): Array<{ ReceiptHandle?: string; VisibilityTimeout?: number }> {
  return inputs.flatMap(
    (input) =>
      (input.Entries ?? []) as Array<{ ReceiptHandle?: string; VisibilityTimeout?: number }>,
  );
}

/**
 * A readable (heartbeat off unless `options` say otherwise) whose first receive returns `count`
 * messages, read out at once and held; every later receive hangs until aborted.
 */
export async function holdingReadable(count: number, options: Partial<SqsReadableOptions> = {}) {
  const sqs = faultySqs();
  const batch = fakeMessages(count);
  sqs.on(ReceiveMessageCommand, (_input, signal, call) =>
    call === 1 ? Promise.resolve({ Messages: batch }) : hang(signal),
  );
  const source = new SqsReadable({
    queueUrl: QUEUE_URL,
    client: sqs.client,
    heartbeat: false,
    ...options,
  });
  const got: SqsMessage[] = [];
  source.on('data', (message: SqsMessage) => got.push(message));
  await settle();
  expect(got).toHaveLength(count);
  return { ...sqs, source, got, handles: batch.map((m) => m.ReceiptHandle as string) };
}
