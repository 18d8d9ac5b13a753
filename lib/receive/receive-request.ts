import { randomUUID } from 'node:crypto';
import {
  ReceiveMessageCommand,
  type Message,
  type MessageSystemAttributeName,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { runRequest, type RequestPolicy } from '../core/request-loop.js';
import type { OnRetry } from '../core/retry.js';

/** One logical ReceiveMessage, as SqsReadable sizes it; its retries are attempts of it. */
export interface ReceiveRequest {
  queueUrl: string;
  fifo: boolean;
  maxMessages: number;
  waitTimeSeconds: number;
  visibilityTimeout: number | undefined;
  attributeNames: string[];
  messageAttributeNames: string[];
}

export interface ReceiveCall {
  client: SQSClient;
  policy: RequestPolicy;
  /** Aborts the attempt in flight and the backoff sleep. */
  signal: AbortSignal;
  /** Counts each attempt (`stats.receiveRequests`). */
  onAttempt: () => void;
  onRetry: OnRetry;
  onListenerError: (error: unknown) => void;
}

/**
 * Receives once, retrying transient errors, and returns the messages. The command is built once
 * and sent by every attempt, so on a FIFO queue each retry carries the first attempt's
 * `ReceiveRequestAttemptId` (DESIGN.md invariant 13): SQS then returns the messages a lost
 * response had locked instead of leaving their groups locked for a visibility timeout. System
 * attributes are asked for under both `MessageSystemAttributeNames` and the older
 * `AttributeNames`, which LocalStack, ElasticMQ and other emulators still read (invariant 14).
 */
export function receiveMessages(request: ReceiveRequest, call: ReceiveCall): Promise<Message[]> {
  const command = new ReceiveMessageCommand({
    QueueUrl: request.queueUrl,
    MaxNumberOfMessages: request.maxMessages,
    WaitTimeSeconds: request.waitTimeSeconds,
    VisibilityTimeout: request.visibilityTimeout,
    MessageSystemAttributeNames: request.attributeNames as MessageSystemAttributeName[],
    AttributeNames: request.attributeNames as QueueAttributeName[],
    MessageAttributeNames: request.messageAttributeNames,
    ReceiveRequestAttemptId: request.fifo ? randomUUID() : undefined,
  });
  return runRequest({
    operation: 'ReceiveMessage',
    queueUrl: request.queueUrl,
    policy: call.policy,
    signal: call.signal,
    waitMs: request.waitTimeSeconds * 1000,
    onRetry: call.onRetry,
    onListenerError: call.onListenerError,
    attempt: async ({ signal, trace }) => {
      call.onAttempt();
      const out = await call.client.send(command, { abortSignal: signal });
      const messages = out.Messages ?? [];
      if (trace !== undefined) trace.messageCount = messages.length;
      return messages;
    },
  });
}
