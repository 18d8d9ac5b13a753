import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  type DeleteMessageBatchCommandInput,
  type Message,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * A small model of SQS behind aws-sdk-client-mock, for ordering tests that fauxqs cannot do
 * (it returns one message per FIFO group per receive, and drops `MessageGroupId` on standard
 * queues). Time is `Date.now()`, so fake timers drive visibility.
 *
 * - `fifo: true` behaves like a FIFO queue: a receive returns messages in send order, several of
 *   one group if they are next in line, and nothing of a group while any of its messages is in
 *   flight (received, not deleted, not visible again; a nack with a delay keeps it locked).
 * - `fifo: false` behaves like a standard (fair) queue: any visible message, groups ignored
 *   except that `MessageGroupId` is returned.
 */
export interface ModelMessage {
  readonly id: string;
  readonly group: string | undefined;
  readonly body: string;
  receiveCount: number;
  /** In flight (or delayed) until then; 0: visible. */
  invisibleUntil: number;
  handle: string | undefined;
  deleted: boolean;
}

export interface SqsModelOptions {
  fifo: boolean;
  /** Seconds a received message stays invisible. */
  visibilityTimeout?: number;
}

export class SqsModel {
  readonly messages: ModelMessage[] = [];
  /** What happened, in order: `receive a-0 a-1`, `delete a-0`, `visible a-1 +0`. */
  readonly log: string[] = [];
  readonly #fifo: boolean;
  readonly #visibilityTimeout: number;

  constructor(mock: AwsClientStub<SQSClient>, options: SqsModelOptions) {
    this.#fifo = options.fifo;
    this.#visibilityTimeout = options.visibilityTimeout ?? 30;
    mock.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => ({
      Messages: this.#receive(input.MaxNumberOfMessages ?? 1),
    }));
    mock
      .on(DeleteMessageBatchCommand)
      .callsFake((input: DeleteMessageBatchCommandInput) => this.#delete(input));
    mock
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake((input: ChangeMessageVisibilityBatchCommandInput) =>
        this.#changeVisibility(input),
      );
  }

  /** Sends messages with ids `<group>-<n>` (or `m-<n>` without a group), in order. */
  send(entries: Array<{ group?: string; body?: string; id?: string }>): void {
    for (const entry of entries) {
      const id = entry.id ?? `${entry.group ?? 'm'}-${this.messages.length}`;
      this.messages.push({
        id,
        group: entry.group,
        body: entry.body ?? JSON.stringify({ id }),
        receiveCount: 0,
        invisibleUntil: 0,
        handle: undefined,
        deleted: false,
      });
    }
  }

  /** Messages not deleted. */
  get remaining(): ModelMessage[] {
    return this.messages.filter((m) => !m.deleted);
  }

  #receive(max: number): Message[] {
    const now = Date.now();
    const locked = new Set<string | undefined>();
    if (this.#fifo) {
      for (const m of this.messages) {
        if (!m.deleted && m.invisibleUntil > now) locked.add(m.group);
      }
    }
    const out: Message[] = [];
    for (const m of this.messages) {
      if (out.length >= max) break;
      if (m.deleted || m.invisibleUntil > now) continue;
      if (this.#fifo && locked.has(m.group)) continue;
      m.receiveCount++;
      m.handle = `${m.id}#${m.receiveCount}`;
      m.invisibleUntil = now + this.#visibilityTimeout * 1000;
      out.push({
        MessageId: m.id,
        ReceiptHandle: m.handle,
        Body: m.body,
        Attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          ...(m.group === undefined ? {} : { MessageGroupId: m.group }),
        },
      });
    }
    if (out.length > 0) this.log.push(`receive ${out.map((m) => m.MessageId).join(' ')}`);
    return out;
  }

  #byHandle(handle: string | undefined): ModelMessage | undefined {
    return this.messages.find((m) => !m.deleted && m.handle !== undefined && m.handle === handle);
  }

  #delete(input: DeleteMessageBatchCommandInput) {
    const Successful: Array<{ Id: string }> = [];
    const Failed: Array<{ Id: string; Code: string; SenderFault: boolean; Message: string }> = [];
    for (const entry of input.Entries ?? []) {
      const m = this.#byHandle(entry.ReceiptHandle);
      if (m === undefined) {
        Failed.push({
          Id: entry.Id ?? '',
          Code: 'ReceiptHandleIsInvalid',
          SenderFault: true,
          Message: 'gone',
        });
        continue;
      }
      m.deleted = true;
      this.log.push(`delete ${m.id}`);
      Successful.push({ Id: entry.Id ?? '' });
    }
    return { Successful, Failed };
  }

  #changeVisibility(input: ChangeMessageVisibilityBatchCommandInput) {
    const now = Date.now();
    const Successful: Array<{ Id: string }> = [];
    for (const entry of input.Entries ?? []) {
      const m = this.#byHandle(entry.ReceiptHandle);
      const seconds = entry.VisibilityTimeout ?? 0;
      if (m !== undefined) {
        m.invisibleUntil = seconds === 0 ? 0 : now + seconds * 1000;
        this.log.push(`visible ${m.id} +${seconds}`);
      }
      Successful.push({ Id: entry.Id ?? '' });
    }
    return { Successful, Failed: [] };
  }
}
