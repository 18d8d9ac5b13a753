import { isTraced, traced } from '../core/diagnostics.js';
import type { SqsMessage } from './message.js';
import type { ProcessContext, ProcessHandler } from './processor-options.js';

/**
 * Runs one handler, published on the `sqs-streams:process` tracing channel when anyone subscribes
 * (nothing is built otherwise). The one place a handler is called: a tracer that needs the handler
 * to run inside its span's context changes this function only. A handler that throws
 * synchronously rejects, with its own error.
 */
export function runHandler<Data>(
  handler: ProcessHandler<Data>,
  message: SqsMessage,
  context: ProcessContext<Data>,
): Promise<unknown> {
  if (!isTraced('process')) return invoke(handler, message, context);
  return traced(
    'process',
    { queueUrl: message.queueUrl, operation: 'process', messageCount: 1, message },
    () => invoke(handler, message, context),
  );
}

function invoke<Data>(
  handler: ProcessHandler<Data>,
  message: SqsMessage,
  context: ProcessContext<Data>,
): Promise<unknown> {
  try {
    return Promise.resolve(handler(message, context));
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
