import {
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setMaxListeners } from 'node:events';
import { debug } from '../core/debug.js';
import { BatchEntryError, toStreamError } from '../core/errors.js';
import { isTransientError } from '../core/classify.js';
import { Again, runRequest } from '../core/request-loop.js';
import { isAbortError, type OnRetry, type ResolvedRetryOptions } from '../core/retry.js';
import { planBatches, type Batch, type BatchLimits } from './batch-plan.js';
import type { PreparedMessage } from './send-input.js';

/**
 * Turns the messages of one `_writev` into SendMessageBatch requests and sends them: batches by
 * count and bytes, several in flight, never two batches of one FIFO group at once, failed
 * entries retried (only those) with backoff. Every message ends accepted, failed, or untouched
 * (never sent, because the stream failed first); nothing SQS accepted is reported failed.
 */

export interface SendContext extends BatchLimits {
  client: SQSClient;
  queueUrl: string;
  maxBatchesInFlight: number;
  retry: ResolvedRetryOptions;
  /** The longest one attempt may take, in ms. */
  requestTimeoutMs: number;
  /** Aborted when the stream is destroyed: aborts requests in flight and backoff sleeps. */
  signal: AbortSignal;
  onRetry: OnRetry;
  /** Where a throwing `onRetry` goes. */
  onListenerError: (error: unknown) => void;
  /** SQS accepted `count` messages of one request. */
  onSent: (count: number) => void;
  /** A request started (`+1`) or ended (`-1`). */
  onRequest: (delta: 1 | -1) => void;
}

/** Called once per message that ends accepted (`null`) or failed (an error). */
export type Settle = (message: PreparedMessage, result: Error | null) => void;

/**
 * Sends the messages; resolves (never rejects) once no request is in flight, with the first
 * error that fails the stream, if any. After such an error no new batch starts and no failed
 * entry is retried; requests already in flight finish, so their outcome is known.
 */
export function sendAll(
  messages: readonly PreparedMessage[],
  context: SendContext,
  settle: Settle,
): Promise<Error | undefined> {
  const batches = planBatches(messages, context);
  if (batches.length === 0) return Promise.resolve(undefined);
  // Stops backoff sleeps once the stream is failing or destroyed; requests in flight go on.
  const stopper = new AbortController();
  setMaxListeners(context.maxBatchesInFlight + 10, stopper.signal);
  const onAbort = (): void => stopper.abort(context.signal.reason);
  if (context.signal.aborted) onAbort();
  else context.signal.addEventListener('abort', onAbort, { once: true });

  // Per FIFO group, the batches holding it that have not finished, in order: a batch may start
  // only when it heads the line of each of its groups.
  const lines = new Map<string, number[]>();
  batches.forEach((batch, position) => {
    for (const group of batch.groups) {
      const line = lines.get(group);
      if (line === undefined) lines.set(group, [position]);
      else line.push(position);
    }
  });
  const started = new Array<boolean>(batches.length).fill(false);
  let startedCount = 0;
  let running = 0;
  let failure: Error | undefined;

  return new Promise((resolve) => {
    const pump = (): void => {
      for (
        let position = 0;
        position < batches.length && running < context.maxBatchesInFlight;
        position++
      ) {
        if (failure !== undefined || stopper.signal.aborted) break;
        const batch = batches[position];
        if (batch === undefined || started[position]) continue;
        if (!batch.groups.every((group) => lines.get(group)?.[0] === position)) continue;
        started[position] = true;
        startedCount++;
        running++;
        void sendBatch(batch, context, stopper.signal, settle).then((error) => {
          running--;
          if (error !== undefined && failure === undefined) {
            failure = error;
            stopper.abort(error);
          }
          for (const group of batch.groups) lines.get(group)?.shift();
          pump();
        });
      }
      const finished =
        failure !== undefined || stopper.signal.aborted || startedCount === batches.length;
      if (running === 0 && finished) {
        context.signal.removeEventListener('abort', onAbort);
        resolve(failure);
      }
    };
    pump();
  });
}

function describeEntry(message: PreparedMessage): string {
  return `message #${message.index}${message.groupId === undefined ? '' : ` (group \`${message.groupId}\`)`}`;
}

function hint(failed: BatchResultErrorEntry): string {
  const text = `${failed.Code ?? ''} ${failed.Message ?? ''}`;
  if (/dedup/i.test(text)) {
    return 'Pass a `deduplicationId` or enable ContentBasedDeduplication on the queue';
  }
  if (/MessageGroupId/i.test(text)) return 'Pass a `groupId` with each message to a FIFO queue';
  if (/InvalidMessageContents|character/i.test(text)) {
    return 'Remove characters SQS does not allow from the body (encode binary data, e.g. as base64)';
  }
  if (/shorter than|too long|size/i.test(text)) {
    return "Make the message smaller, or set `maxMessageBytes` to the queue's MaximumMessageSize";
  }
  return 'Fix the message (or the queue settings it conflicts with) and send it again';
}

function entryError(
  message: PreparedMessage,
  failed: BatchResultErrorEntry,
  queueUrl: string,
): BatchEntryError {
  const code = failed.Code ?? 'Unknown';
  return new BatchEntryError(
    `SQS rejected ${describeEntry(message)} in SendMessageBatch on queue \`${queueUrl}\`: ${code}${failed.Message ? `: ${failed.Message}` : ''}. It was not sent, and the stream stopped (write callbacks say which other messages were sent). ${hint(failed)}.`,
    failed.SenderFault ?? true,
    { operation: 'SendMessageBatch', queue: queueUrl, code, cause: failed },
  );
}

function isTransientEntry(failed: BatchResultErrorEntry): boolean {
  return failed.SenderFault === false || isTransientError({ Code: failed.Code });
}

/**
 * Within one request SQS decides: if it failed an entry of a group for now but accepted a later
 * entry of the same group, the group's order is already broken, and nothing done afterwards can
 * mend it. It is not known to happen; say so in the debug log if it ever does.
 */
function warnIfReordered(requestOrder: readonly Pending[], failed: readonly Pending[]): void {
  const failedIds = new Set(failed.map((entry) => entry.id));
  const failedGroups = new Set<string>();
  for (const entry of requestOrder) {
    const group = entry.message.groupId;
    if (group === undefined) continue;
    if (failedIds.has(entry.id)) failedGroups.add(group);
    else if (failedGroups.has(group)) {
      debug(
        'SendMessageBatch: SQS accepted message #%d ahead of an earlier one of its group that failed',
        entry.message.index,
      );
    }
  }
}

interface Pending {
  id: string;
  message: PreparedMessage;
}

/**
 * Sends one batch until every entry is accepted, in the one request loop (each attempt under
 * `requestTimeoutMs`; only the entries SQS did not accept are sent again). Resolves with the
 * error that fails the stream (permanent, or out of attempts), or undefined when done or
 * stopped by another batch's failure.
 */
async function sendBatch(
  batch: Batch,
  context: SendContext,
  stop: AbortSignal,
  settle: Settle,
): Promise<Error | undefined> {
  const { client, queueUrl, retry } = context;
  // Ids are the entries' positions in the first request: valid, unique, and kept by retries.
  let pending: Pending[] = batch.messages.map((message, position) => ({
    id: String(position),
    message,
  }));
  let attempts = 0;
  let lastTransient: BatchResultErrorEntry | undefined;
  try {
    return await runRequest<Error | undefined>({
      operation: 'SendMessageBatch',
      queueUrl,
      policy: { retry, requestTimeoutMs: context.requestTimeoutMs },
      signal: context.signal,
      sleepSignal: stop,
      messageCount: pending.length,
      onRetry: context.onRetry,
      onListenerError: context.onListenerError,
      attempt: async ({ signal, number, trace }) => {
        attempts = number;
        if (trace !== undefined) trace.messageCount = pending.length;
        context.onRequest(1);
        let out;
        try {
          out = await client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: pending.map(({ id, message }) => ({ Id: id, ...message.entry })),
            }),
            { abortSignal: signal },
          );
        } finally {
          context.onRequest(-1);
        }
        const requestOrder = pending;
        const byId = new Map(pending.map((entry) => [entry.id, entry]));
        let accepted = 0;
        for (const success of out.Successful ?? []) {
          const entry = byId.get(success.Id ?? '');
          if (entry === undefined) continue;
          byId.delete(entry.id);
          accepted++;
          settle(entry.message, null);
        }
        if (accepted > 0) context.onSent(accepted);
        const transient: BatchResultErrorEntry[] = [];
        for (const failed of out.Failed ?? []) {
          const entry = byId.get(failed.Id ?? '');
          if (entry === undefined) continue;
          if (!isTransientEntry(failed)) {
            const error = entryError(entry.message, failed, queueUrl);
            settle(entry.message, error);
            return error;
          }
          transient.push(failed);
        }
        // Entries SQS neither accepted nor rejected are not known to be sent: retry them too.
        pending = pending.filter((entry) => byId.has(entry.id));
        if (pending.length === 0) return undefined;
        const first: BatchResultErrorEntry = transient[0] ?? {
          Id: undefined,
          Code: 'MissingFromResponse',
          SenderFault: false,
        };
        lastTransient = first;
        debug(
          'SendMessageBatch: %d accepted, %d to retry (%s)',
          accepted,
          pending.length,
          first.Code,
        );
        if (context.fifo) warnIfReordered(requestOrder, pending);
        return new Again(
          new BatchEntryError(
            `SQS could not take ${pending.length} of ${byId.size + accepted} entries of SendMessageBatch on queue \`${queueUrl}\` for now (${first.Code ?? 'Unknown'}${first.Message ? `: ${first.Message}` : ''}); retrying them`,
            false,
            { operation: 'SendMessageBatch', queue: queueUrl, code: first.Code, cause: first },
          ),
        );
      },
    });
  } catch (error) {
    if (context.signal.aborted || stop.aborted || isAbortError(error)) return undefined;
    if (
      lastTransient !== undefined &&
      attempts >= retry.numOfAttempts &&
      error instanceof BatchEntryError
    ) {
      const last = pending[0] as Pending;
      const exhausted = new BatchEntryError(
        `SQS did not accept ${describeEntry(last.message)} after ${attempts} attempts on queue \`${queueUrl}\` (${lastTransient.Code ?? 'Unknown'}). It was not sent; retry later, or raise \`retry.numOfAttempts\`.`,
        false,
        {
          operation: 'SendMessageBatch',
          queue: queueUrl,
          code: lastTransient.Code,
          cause: lastTransient,
        },
      );
      for (const entry of pending) settle(entry.message, exhausted);
      return exhausted;
    }
    return toStreamError(error, 'SendMessageBatch', queueUrl);
  }
}
