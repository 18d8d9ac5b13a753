import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Live request counts of one SQSClient, keyed by `ctx.commandName` as the SDK spells it, e.g.
 * `ReceiveMessageCommand`, `DeleteMessageBatchCommand`. A command counts once per `send`,
 * however many times the SDK retries it, and is in flight from `send` until it settles.
 */
export interface RequestCounter {
  /** Commands sent. */
  readonly counts: Record<string, number>;
  /** Highest number of the same command in flight at once. */
  readonly maxInFlight: Record<string, number>;
  /** Commands in flight now. */
  readonly inFlight: Record<string, number>;
  /** Commands that failed (after the SDK's own retries). */
  readonly errors: Record<string, number>;
  /** All commands sent. */
  total(): number;
  /** Zeroes `counts`, `errors` and `maxInFlight` (to the current `inFlight`). */
  reset(): void;
}

const counters = new WeakMap<SQSClient, RequestCounter>();

/**
 * Adds a middleware to `client` counting each command by name and tracking how many of each
 * are in flight at once; returns the live counter (the same one if called again). This is how
 * tests assert "one receive in flight" or "<= 15 DeleteMessageBatch": count requests, never
 * milliseconds. It sees only requests made through this client instance.
 */
export function countRequests(client: SQSClient): RequestCounter {
  const existing = counters.get(client);
  if (existing) return existing;
  const counts: Record<string, number> = {};
  const maxInFlight: Record<string, number> = {};
  const inFlight: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const counter: RequestCounter = {
    counts,
    maxInFlight,
    inFlight,
    errors,
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    reset: () => {
      for (const record of [counts, errors, maxInFlight]) {
        for (const key of Object.keys(record)) delete record[key];
      }
      for (const [key, n] of Object.entries(inFlight)) if (n > 0) maxInFlight[key] = n;
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'UnknownCommand';
      counts[name] = (counts[name] ?? 0) + 1;
      const now = (inFlight[name] ?? 0) + 1;
      inFlight[name] = now;
      maxInFlight[name] = Math.max(maxInFlight[name] ?? 0, now);
      try {
        return await next(args);
      } catch (error) {
        errors[name] = (errors[name] ?? 0) + 1;
        throw error;
      } finally {
        inFlight[name] = (inFlight[name] ?? 1) - 1;
      }
    },
    // Initialize, first: outside the SDK's retry loop, so one send is one count.
    { step: 'initialize', priority: 'high', name: 'sqsStreamsTestCountRequests' },
  );
  counters.set(client, counter);
  return counter;
}
