import type { ProcessOrdering } from './processor-options.js';
import type { SqsMessage } from './message.js';

/**
 * The messages of each message group held by an SqsProcessor under `'group'` ordering, in
 * receive order. The head of a lane is running, waiting for a slot, or settling (its ack or nack
 * not yet confirmed); the others wait behind it. A lane exists only while it holds a message.
 */
export class GroupLanes {
  readonly #lanes = new Map<string, SqsMessage[]>();

  /** Whether a message of this group is running, waiting for a slot, or settling. */
  busy(key: string): boolean {
    return this.#lanes.has(key);
  }

  /** Adds the message at the end of its lane; `true` when it is the head (the lane was free). */
  add(key: string, message: SqsMessage): boolean {
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      this.#lanes.set(key, [message]);
      return true;
    }
    lane.push(message);
    return false;
  }

  /** The head of the lane was settled: removes it and returns the next head, if any. */
  advance(key: string, head: SqsMessage): SqsMessage | undefined {
    const lane = this.#lanes.get(key);
    if (lane === undefined || lane[0] !== head) return undefined;
    lane.shift();
    if (lane.length === 0) {
      this.#lanes.delete(key);
      return undefined;
    }
    return lane[0];
  }

  /** Removes a message waiting behind the head; `true` if it was there. */
  remove(key: string, message: SqsMessage): boolean {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return false;
    const index = lane.indexOf(message);
    if (index <= 0) return false;
    lane.splice(index, 1);
    return true;
  }

  clear(): void {
    this.#lanes.clear();
  }
}

/**
 * When a message of each group last failed, so that the messages of the group received before
 * that are nacked without running (they would overtake the failed one). Entries are kept in the
 * order of their failure and dropped once a message received after it arrives: a source hands
 * messages over in the order it received them, so nothing received earlier can follow.
 */
export class GroupFailures {
  readonly #failedAt = new Map<string, number>();

  record(key: string, at: number): void {
    this.#failedAt.delete(key);
    this.#failedAt.set(key, at);
  }

  /** Whether a message of the group received at `receivedAt` must not run. */
  covers(key: string, receivedAt: number): boolean {
    const at = this.#failedAt.get(key);
    return at !== undefined && receivedAt <= at;
  }

  /** Forgets the failures that happened before `receivedAt`, the newest arrival's receipt. */
  prune(receivedAt: number): void {
    for (const [key, at] of this.#failedAt) {
      if (at >= receivedAt) return;
      this.#failedAt.delete(key);
    }
  }

  get size(): number {
    return this.#failedAt.size;
  }
}

/** The lane a message runs in under `ordering`: its queue and group, or none (unordered). */
export function laneKey(message: SqsMessage, ordering: ProcessOrdering): string | undefined {
  if (ordering === 'none') return undefined;
  if (ordering === 'auto' && !message.queueUrl.endsWith('.fifo')) return undefined;
  const group = message.attributes.MessageGroupId;
  return group === undefined ? undefined : `${message.queueUrl} ${group}`;
}
