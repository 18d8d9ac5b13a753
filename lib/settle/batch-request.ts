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
  const unanswered = new Map(round.map((entry, i) => [String(i), entry]));
  for (const ok of out.Successful ?? []) {
    const entry = ok.Id === undefined ? undefined : unanswered.get(ok.Id);
    if (entry === undefined) continue;
    unanswered.delete(ok.Id as string);
    context.finish(entry, { status: 'confirmed', sentAt });
  }
  const failed: Array<[Entry, BatchResultErrorEntry]> = [];
  for (const failure of out.Failed ?? []) {
    const entry = failure.Id === undefined ? undefined : unanswered.get(failure.Id);
    if (entry === undefined) continue;
    unanswered.delete(failure.Id as string);
    failed.push([entry, failure]);
  }
  for (const [id, entry] of unanswered) {
    // SQS answers for every entry; one it skipped is worth another try.
    failed.push([
      entry,
      {
        Id: id,
        Code: 'MissingEntryResult',
        SenderFault: false,
        Message: 'SQS returned no result for this entry',
      },
    ]);
  }
  return failed;
}
