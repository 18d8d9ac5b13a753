import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  type DeleteMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { SqsMessage } from '../../lib/settle/message.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';
import { newStats } from '../../lib/receive/readable-stats.js';
import { MessageTracker, type TrackerOptions } from '../../lib/settle/tracker.js';
import { QUEUE_URL, fakeMessages, mockedSqs } from './mock-sqs.js';

/**
 * A MessageTracker on a mocked client, as SqsReadable builds one (heartbeat on, 30 s visibility
 * timeout, 20 ms batch window), with `overrides` on top; plus `receive(n)`, which makes
 * messages the way the readable does (tracked before anyone reads them), and the inputs of the
 * batch requests sent so far.
 */
export function mockedTracker(overrides: Partial<TrackerOptions> = {}) {
  const { client, mock } = mockedSqs();
  const stats = newStats();
  const tracker = new MessageTracker({
    client,
    queueUrl: QUEUE_URL,
    stats,
    policy: { retry: { ...DEFAULT_RETRY, maxDelay: 1_000 }, requestTimeoutMs: 10_000 },
    ackBatchWindowMs: 20,
    heartbeat: true,
    visibilityTimeout: 30,
    maxHoldSeconds: 43_200,
    ...overrides,
  });
  const receive = (count: number): SqsMessage[] =>
    fakeMessages(count).map((raw) => {
      const message = new SqsMessage(raw, QUEUE_URL, tracker);
      tracker.track(message);
      return message;
    });
  const visibility = (): ChangeMessageVisibilityBatchCommandInput[] =>
    mock.commandCalls(ChangeMessageVisibilityBatchCommand).map((call) => call.args[0].input);
  const deletes = (): DeleteMessageBatchCommandInput[] =>
    mock.commandCalls(DeleteMessageBatchCommand).map((call) => call.args[0].input);
  return { client, mock, stats, tracker, receive, visibility, deletes };
}
