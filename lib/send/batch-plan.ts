import type { PreparedMessage } from './send-input.js';

/**
 * How the messages of one `_writev` are cut into SendMessageBatch requests: by count, by bytes,
 * and on FIFO queues so that each group's messages sit together.
 */

export interface Batch {
  messages: PreparedMessage[];
  /** Sum of the messages' sizes, in bytes. */
  bytes: number;
  /** The FIFO groups in the batch (empty on a standard queue: no order to keep). */
  groups: string[];
}

export interface BatchLimits {
  batchSize: number;
  maxBatchBytes: number;
  fifo: boolean;
}

/**
 * Packs messages into batches of at most `batchSize` messages and `maxBatchBytes` bytes, in
 * order. On a FIFO queue the messages are first grouped, stably, by group (groups in order of
 * first appearance): order within a group is kept, order across groups is not SQS's promise
 * anyway, and batches of different groups can then be in flight together.
 */
export function planBatches(messages: readonly PreparedMessage[], limits: BatchLimits): Batch[] {
  let ordered: readonly PreparedMessage[] = messages;
  if (limits.fifo) {
    const byGroup = new Map<string, PreparedMessage[]>();
    for (const message of messages) {
      const key = message.groupId ?? '';
      const list = byGroup.get(key);
      if (list === undefined) byGroup.set(key, [message]);
      else list.push(message);
    }
    ordered = [...byGroup.values()].flat();
  }
  const batches: Batch[] = [];
  let current: Batch | undefined;
  for (const message of ordered) {
    if (
      current === undefined ||
      current.messages.length >= limits.batchSize ||
      current.bytes + message.size > limits.maxBatchBytes
    ) {
      current = { messages: [], bytes: 0, groups: [] };
      batches.push(current);
    }
    current.messages.push(message);
    current.bytes += message.size;
    if (limits.fifo && message.groupId !== undefined && !current.groups.includes(message.groupId)) {
      current.groups.push(message.groupId);
    }
  }
  return batches;
}
