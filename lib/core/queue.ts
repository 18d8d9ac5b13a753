import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageSystemAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { toStreamError } from './errors.js';
import { isAbortError, withRetry, type OnRetry, type ResolvedRetryOptions } from './retry.js';

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

interface Call {
  client: SQSClient;
  retry: ResolvedRetryOptions;
  signal: AbortSignal | undefined;
  onRetry?: OnRetry | undefined;
}

/** Resolves a queue name to its URL with GetQueueUrl (retrying transient errors). */
export async function resolveQueueUrl(ref: QueueRef, call: Call): Promise<string> {
  if (ref.queueUrl !== undefined) return ref.queueUrl;
  const queueName = ref.queueName;
  if (queueName === undefined) throw new TypeError('Expected `queueUrl` or `queueName`');
  try {
    const out = await withRetry(
      () =>
        call.client.send(new GetQueueUrlCommand({ QueueName: queueName }), {
          abortSignal: call.signal,
        }),
      call.retry,
      call.signal,
      call.onRetry,
    );
    if (out.QueueUrl === undefined) throw new Error('GetQueueUrl returned no QueueUrl');
    return out.QueueUrl;
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toStreamError(error, 'GetQueueUrl', queueName);
  }
}

/** The queue's default visibility timeout in seconds, read with GetQueueAttributes. */
export async function getVisibilityTimeout(queueUrl: string, call: Call): Promise<number> {
  try {
    const out = await withRetry(
      () =>
        call.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['VisibilityTimeout'],
          }),
          { abortSignal: call.signal },
        ),
      call.retry,
      call.signal,
      call.onRetry,
    );
    const value = Number(out.Attributes?.VisibilityTimeout);
    if (!Number.isFinite(value))
      throw new Error('GetQueueAttributes returned no VisibilityTimeout');
    return value;
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toStreamError(error, 'GetQueueAttributes', queueUrl);
  }
}

/** One ReceiveMessage, as SqsReadable sizes it. */
export interface ReceiveRequest {
  queueUrl: string;
  maxMessages: number;
  waitTimeSeconds: number;
  visibilityTimeout: number | undefined;
  attributeNames: string[];
  messageAttributeNames: string[];
}

/** Sends one ReceiveMessage (no retry: the caller owns that) and returns its messages. */
export async function receiveMessages(
  client: SQSClient,
  request: ReceiveRequest,
  signal: AbortSignal,
): Promise<Message[]> {
  const out = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: request.queueUrl,
      MaxNumberOfMessages: request.maxMessages,
      WaitTimeSeconds: request.waitTimeSeconds,
      VisibilityTimeout: request.visibilityTimeout,
      MessageSystemAttributeNames: request.attributeNames as MessageSystemAttributeName[],
      MessageAttributeNames: request.messageAttributeNames,
    }),
    { abortSignal: signal },
  );
  return out.Messages ?? [];
}
