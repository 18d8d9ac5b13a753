import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/unit-queue';

let next = 0;

/** `count` distinct fake SQS messages. */
export function fakeMessages(count: number): Message[] {
  return Array.from({ length: count }, () => {
    const id = ++next;
    return {
      MessageId: `m-${id}`,
      ReceiptHandle: `rh-${id}`,
      Body: `body-${id}`,
      Attributes: { ApproximateReceiveCount: '1' },
    };
  });
}

/** A promise with its resolve/reject exposed, for holding a mocked request open. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An SQSClient whose every command is mocked; deletes and visibility changes succeed. */
export function mockedSqs(): { client: SQSClient; mock: AwsClientStub<SQSClient> } {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const mock = mockClient(client);
  mock.on(GetQueueAttributesCommand).resolves({ Attributes: { VisibilityTimeout: '30' } });
  mock.on(DeleteMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => ({
    Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
    Failed: [],
  }));
  mock
    .on(ChangeMessageVisibilityBatchCommand)
    .callsFake((input: { Entries?: { Id?: string }[] }) => ({
      Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
      Failed: [],
    }));
  return { client, mock };
}

/** Every ReceiveMessage answers with as many messages as it asked for. */
export function receiveFills(mock: AwsClientStub<SQSClient>): void {
  mock.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => ({
    Messages: fakeMessages(input.MaxNumberOfMessages ?? 1),
  }));
}

/** MaxNumberOfMessages of each ReceiveMessage sent so far. */
export function receiveSizes(mock: AwsClientStub<SQSClient>): number[] {
  return mock
    .commandCalls(ReceiveMessageCommand)
    .map((call) => call.args[0].input.MaxNumberOfMessages ?? 1);
}

/** Lets pending promise callbacks and immediates run (no timers advanced). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Fake timers that leave Node's own scheduling alone: streams run on nextTick and immediates,
 * and faking those would freeze them.
 */
export function useStreamFakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

/**
 * Advances fake time in steps, letting real immediates run between them, so timers that a
 * stream schedules only after a few event-loop turns (construction, promise chains) still fire.
 */
export async function advance(ms: number, step = 50): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await settle(2);
    await jest.advanceTimersByTimeAsync(Math.min(step, ms - done));
  }
  await settle(2);
}
