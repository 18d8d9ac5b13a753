/**
 * The public shapes of the loopback fault proxy (sqs-proxy.ts), and how it forwards a request to
 * its target. Plain Node, no Jest.
 */
import http from 'node:http';
import type { FaultKind, FaultOptions } from './reliability-proxy-kinds';

export interface SqsProxyOptions {
  /** The SQS endpoint to forward to, e.g. `http://127.0.0.1:4566`; must be loopback. */
  target: string;
  /** Added round-trip time per request, in ms (half before forwarding, half before answering). @default 0 */
  latencyMs?: number;
  /** Faults to inject; none when omitted. Change later with `setFaults`. */
  faults?: FaultOptions | null;
  /** The proxy closes itself after this many requests. @default 1_000_000 */
  maxRequests?: number;
  /** The proxy closes itself after this long, in ms (the timer does not keep a process alive). @default 1_800_000 */
  maxDurationMs?: number;
  /**
   * Called when a request arrives, once the target has answered it (`'forwarded'`: SQS acted,
   * the client does not know yet; with latency, the answer is still on its way), when a fault
   * was injected, and when the client gave up on a request a fault held (`'abandoned'`). For
   * tests that must act inside that window. Must not throw.
   */
  onEvent?: (event: SqsProxyEvent) => void;
}

export interface SqsProxyEvent {
  phase: 'arrived' | 'forwarded' | 'faulted' | 'abandoned';
  action: string;
  /** The request's number, from 1, in arrival order. */
  request: number;
  /** Per action, the request's number, from 1. */
  ofAction: number;
  fault?: FaultKind;
  /** `'abandoned'`: how long the request was held before the client gave up, in ms. */
  heldMs?: number;
}

/** A request a `'hang'`, `'stall'` or `'slow'` held until the client gave up on it. */
export interface AbandonedRequest {
  action: string;
  fault: FaultKind;
  heldMs: number;
}

export interface SqsProxy {
  /** Give this to the SQSClient as `endpoint`. */
  readonly endpoint: string;
  /** Requests seen, by action (`ReceiveMessage`, `DeleteMessageBatch`, ...), faulted ones included. Live. */
  readonly counts: Record<string, number>;
  /** Faults injected, by kind (every kind present, 0 when none). Live. */
  readonly injected: Record<FaultKind, number>;
  /** Faults injected, by action then kind. Live. */
  readonly injectedByAction: Record<string, Partial<Record<FaultKind, number>>>;
  /** Requests seen in all. */
  readonly requests: number;
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Requests held open now by a `'hang'`, `'stall'` or `'slow'`. */
  readonly holding: number;
  /** Requests held until the client gave up, in order (the first 10,000). Live. */
  readonly abandoned: readonly AbandonedRequest[];
  /** Times the port was closed (drawn `'refuse'`s and `outage()` calls). */
  readonly outages: number;
  /** True while the port is closed. */
  readonly refusing: boolean;
  /** Why the proxy closed (`'close()'`, `'maxRequests'`, `'maxDurationMs'`), once it has. */
  readonly closedReason: string | undefined;
  /** Replaces the faults (`null` turns them off). The generator keeps its sequence unless `seed` is given. */
  setFaults(faults: FaultOptions | null): void;
  /** Replaces the added round-trip time. */
  setLatency(latencyMs: number): void;
  /** Closes the port (ECONNREFUSED) and cuts open connections; with `forMs`, reopens after that. */
  outage(forMs?: number): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Stops listening, cuts open connections (hung ones too) and resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/** The target's answer, read whole. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A function that forwards a request (its body already read) to `target` through `agent` and
 * resolves with the whole answer, or `undefined` when the target failed or `signal` aborted.
 */
export function forwarder(
  target: URL,
  agent: http.Agent,
): (req: http.IncomingMessage, body: Buffer, signal: AbortSignal) => Promise<Answer | undefined> {
  const targetPort = Number(target.port || 80);
  const basePath = target.pathname.replace(/\/$/, '');
  return (req, body, signal) =>
    new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = {
        ...req.headers,
        host: target.host,
        'content-length': String(body.length),
      };
      delete headers.connection;
      delete headers['keep-alive'];
      const upstream = http.request(
        {
          host:
            target.hostname === 'localhost' ? '127.0.0.1' : target.hostname.replace(/^\[|\]$/g, ''),
          port: targetPort,
          method: req.method,
          path: basePath + (req.url ?? '/'),
          headers,
          agent,
          // The client went away (an aborted long poll): the target sees the disconnect too.
          signal,
        },
        (upstreamRes) => {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamRes.on('end', () =>
            resolve({
              status: upstreamRes.statusCode ?? 502,
              headers: upstreamRes.headers,
              body: Buffer.concat(chunks),
            }),
          );
          upstreamRes.on('error', () => resolve(undefined));
        },
      );
      upstream.on('error', () => resolve(undefined));
      upstream.end(body);
    });
}
