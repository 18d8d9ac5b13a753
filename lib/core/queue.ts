import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { toStreamError } from './errors.js';
import { runRequest, type RequestPolicy } from './request-loop.js';
import { isAbortError, type OnRetry } from './retry.js';

/** How a stream names its queue: the URL as SQS returned it, or a name resolved once. */
export interface QueueRef {
  queueUrl?: string | undefined;
  queueName?: string | undefined;
}

export function describeQueue(ref: QueueRef): string {
  return ref.queueUrl ?? ref.queueName ?? '(no queue)';
}

export function isFifoQueue(queueUrlOrName: string): boolean {
  return queueUrlOrName.endsWith('.fifo');
}

/** What a stream's setup requests share: its client, policy, lifetime and retry reporting. */
export interface QueueCall {
  client: SQSClient;
  policy: RequestPolicy;
  signal: AbortSignal | undefined;
  onRetry?: OnRetry | undefined;
  onListenerError?: ((error: unknown) => void) | undefined;
}

/** Resolves a queue name to its URL with GetQueueUrl (retrying transient errors). */
export async function resolveQueueUrl(ref: QueueRef, call: QueueCall): Promise<string> {
  if (ref.queueUrl !== undefined) return ref.queueUrl;
  const queueName = ref.queueName;
  if (queueName === undefined) throw new TypeError('Expected `queueUrl` or `queueName`');
  try {
    const out = await runRequest({
      ...call,
      operation: 'GetQueueUrl',
      queueUrl: queueName,
      attempt: ({ signal }) =>
        call.client.send(new GetQueueUrlCommand({ QueueName: queueName }), { abortSignal: signal }),
    });
    if (out.QueueUrl === undefined) throw new Error('GetQueueUrl returned no QueueUrl');
    return out.QueueUrl;
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toStreamError(error, 'GetQueueUrl', queueName);
  }
}

/** One queue attribute as a number, read with GetQueueAttributes (retrying transient errors). */
export async function getQueueNumber(
  queueUrl: string,
  name: QueueAttributeName,
  call: QueueCall,
): Promise<number> {
  try {
    const out = await runRequest({
      ...call,
      operation: 'GetQueueAttributes',
      queueUrl,
      attempt: ({ signal }) =>
        call.client.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [name] }),
          { abortSignal: signal },
        ),
    });
    const value = Number(out.Attributes?.[name]);
    if (!Number.isFinite(value)) throw new Error(`GetQueueAttributes returned no ${name}`);
    return value;
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toStreamError(error, 'GetQueueAttributes', queueUrl);
  }
}

/** The queue's default visibility timeout in seconds. */
export function getVisibilityTimeout(queueUrl: string, call: QueueCall): Promise<number> {
  return getQueueNumber(queueUrl, 'VisibilityTimeout', call);
}
