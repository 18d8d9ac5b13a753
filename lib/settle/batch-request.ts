import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Entry, EntryOutcome, Operation } from './settle-entry.js';
import type { SettleStats } from './settle-stats.js';

export interface RequestOptions {
  client: SQSClient;
  queueUrl: string;
  /** `deleteRequests` or `visibilityRequests` counts each request sent. */
  stats: Pick<SettleStats, 'deleteRequests' | 'visibilityRequests'>;
}

export interface RequestContext {
  /** Read on every request, not copied: they are the acknowledger's own options. */
  readonly options: RequestOptions;
  /** Aborts every request of the batcher; only its `abort()` fires it. */
  readonly signal: AbortSignal;
  /** Settles an entry SQS confirmed. */
  finish(entry: Entry, outcome: EntryOutcome): void;
}

/**
 * Sends one DeleteMessageBatch or ChangeMessageVisibilityBatch request for `round` (at most 10
 * entries) and finishes each entry SQS confirmed as soon as the answer arrives. Returns the
 * entries SQS did not confirm, with SQS's failure for each; throws what the request threw.
 */
export async function sendBatchRequest(
  context: RequestContext,
  operation: Operation,
  round: Entry[],
  signal: AbortSignal,
): Promise<Array<[Entry, BatchResultErrorEntry]>> {
  const { client, queueUrl, stats } = context.options;
  const ids = (entry: Entry, i: number) => ({
    Id: String(i),
    ReceiptHandle: entry.message.receiptHandle,
  });
  let command: DeleteMessageBatchCommand | ChangeMessageVisibilityBatchCommand;
  if (operation === 'DeleteMessageBatch') {
    stats.deleteRequests++;
    command = new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: round.map(ids) });
  } else {
    stats.visibilityRequests++;
    command = new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queueUrl,
      Entries: round.map((entry, i) => ({ ...ids(entry, i), VisibilityTimeout: entry.seconds })),
    });
  }
  // Both answer { Successful: [{ Id }], Failed: [...] }; only the command differs.
  const out = (await client.send(command as DeleteMessageBatchCommand, {
    abortSignal: signal,
  })) as { Successful?: Array<{ Id?: string | undefined }>; Failed?: BatchResultErrorEntry[] };
  const sentAt = round[0]?.sentAt ?? Date.now();
  // Each entry's Id is its index in the round; an answer takes its entry out of `unanswered`.
  const unanswered: Array<Entry | undefined> = round.slice();
  const answer = (id: string | undefined): Entry | undefined => {
    const index = Number(id);
    if (String(index) !== id) return undefined;
    const entry = unanswered[index];
    unanswered[index] = undefined;
    return entry;
  };
  const confirmed: EntryOutcome = { status: 'confirmed', sentAt };
  for (const ok of out.Successful ?? []) {
    const entry = answer(ok.Id);
    if (entry !== undefined) context.finish(entry, confirmed);
  }
  const failed: Array<[Entry, BatchResultErrorEntry]> = [];
  for (const failure of out.Failed ?? []) {
    const entry = answer(failure.Id);
    if (entry !== undefined) failed.push([entry, failure]);
  }
  for (const [index, entry] of unanswered.entries()) {
    if (entry === undefined) continue;
    // SQS answers for every entry; one it skipped is worth another try.
    failed.push([
      entry,
      {
        Id: String(index),
        Code: 'MissingEntryResult',
        SenderFault: false,
        Message: 'SQS returned no result for this entry',
      },
    ]);
  }
  return failed;
}
