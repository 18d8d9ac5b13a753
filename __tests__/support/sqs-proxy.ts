/**
 * A loopback HTTP proxy between the AWS SDK and an SQS endpoint (fauxqs, LocalStack) that adds
 * latency and injects faults at a set rate, and counts what went through it.
 *
 * Plain Node (no Jest): tests, the benchmark and the soak run import it alike, e.g. from a plain
 * process with `node -r ts-node/register/transpile-only`.
 *
 * ```ts
 * const proxy = await startSqsProxy({ target: endpoint, faults: { rate: 0.1, kinds: ['500', 'throttle'], seed: 1 } });
 * const client = new SQSClient({ endpoint: proxy.endpoint, region, credentials });
 * ...
 * console.log(proxy.counts.ReceiveMessage, proxy.injected);
 * await proxy.close();
 * ```
 *
 * Faults, one drawn per eligible request from a seeded generator (deterministic in arrival
 * order):
 * - `'500'`      HTTP 500, `InternalError` in the SQS JSON protocol shape; not forwarded.
 * - `'503'`      HTTP 503, `ServiceUnavailable`; not forwarded.
 * - `'throttle'` HTTP 400, `RequestThrottled` (header `x-amzn-query-error: RequestThrottled;Sender`,
 *                as SQS sends it); not forwarded. The SDK surfaces it as an error named
 *                `RequestThrottled` (or `ThrottlingException` with `throttleCode`).
 * - `'reset'`    the client's connection is destroyed before the request is forwarded: SQS never
 *                saw it. The SDK surfaces `ECONNRESET` / "socket hang up".
 * - `'drop'`     the request IS forwarded and processed, then the connection is destroyed instead
 *                of answering: the response is lost (a received batch stays invisible until its
 *                timeout, a sent batch may be sent again on retry). Not in the default kinds.
 * - `'spike'`    `spikeMs` of extra latency before forwarding, then a normal answer.
 *
 * Only loopback targets are accepted, and the proxy listens on 127.0.0.1 only. It is bounded: it
 * closes itself after `maxRequests` requests or `maxDurationMs`, whichever comes first.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = '500' | '503' | 'throttle' | 'reset' | 'drop' | 'spike';

export const FAULT_KINDS: readonly FaultKind[] = [
  '500',
  '503',
  'throttle',
  'reset',
  'drop',
  'spike',
];

export interface FaultOptions {
  /** Share of eligible requests that get a fault, 0 to 1. */
  rate: number;
  /** Which faults to draw from, equally likely. */
  kinds: FaultKind[];
  /** Extra latency of a `'spike'`, in ms. @default 1000 */
  spikeMs?: number;
  /** Seed of the fault generator: the same seed gives the same sequence of decisions. @default 1 */
  seed?: number;
  /** Only these actions (X-Amz-Target's action, e.g. `'ReceiveMessage'`) get faults. @default all */
  actions?: string[];
  /** The error code of a `'throttle'`. @default 'RequestThrottled' */
  throttleCode?: 'RequestThrottled' | 'ThrottlingException';
}

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
   * the client does not know yet; with latency, the answer is still on its way), and when a
   * fault was injected. For tests that must act inside that window. Must not throw.
   */
  onEvent?: (event: SqsProxyEvent) => void;
}

export interface SqsProxyEvent {
  phase: 'arrived' | 'forwarded' | 'faulted';
  action: string;
  /** The request's number, from 1, in arrival order. */
  request: number;
  /** Per action, the request's number, from 1. */
  ofAction: number;
  fault?: FaultKind;
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
  /** Why the proxy closed (`'close()'`, `'maxRequests'`, `'maxDurationMs'`), once it has. */
  readonly closedReason: string | undefined;
  /** Replaces the faults (`null` turns them off). The generator keeps its sequence unless `seed` is given. */
  setFaults(faults: FaultOptions | null): void;
  /** Replaces the added round-trip time. */
  setLatency(latencyMs: number): void;
  /** Stops listening, cuts open connections and resolves once the server is closed. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** mulberry32: small, fast, good enough to spread faults; deterministic per seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkFaults(faults: FaultOptions | null | undefined): FaultOptions | null {
  if (faults === undefined || faults === null) return null;
  if (typeof faults.rate !== 'number' || !(faults.rate >= 0 && faults.rate <= 1)) {
    throw new RangeError(
      `Expected \`faults.rate\` to be a number from 0 to 1, got \`${String(faults.rate)}\``,
    );
  }
  if (!Array.isArray(faults.kinds) || faults.kinds.some((k) => !FAULT_KINDS.includes(k))) {
    throw new TypeError(`Expected \`faults.kinds\` to be an array of ${FAULT_KINDS.join(', ')}`);
  }
  if (faults.rate > 0 && faults.kinds.length === 0) {
    throw new TypeError('Expected `faults.kinds` to name at least one kind when `faults.rate` > 0');
  }
  return { ...faults, kinds: [...faults.kinds] };
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** The S3 action of a path-style request (`/bucket` or `/bucket/key`), signed for service s3. */
function s3ActionOf(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.includes('/s3/aws4_request')) return undefined;
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const onObject = path.split('/').filter(Boolean).length > 1;
  const verb: Record<string, string> = onObject
    ? { PUT: 'PutObject', GET: 'GetObject', DELETE: 'DeleteObject', HEAD: 'HeadObject' }
    : { PUT: 'CreateBucket', DELETE: 'DeleteBucket', GET: 'ListObjects', HEAD: 'HeadBucket' };
  return verb[req.method ?? ''] ?? `S3 ${req.method ?? '?'}`;
}

/**
 * The action of a request: S3's from its method and path (S3 on the same port, as fauxqs and
 * LocalStack serve it), else the SQS JSON protocol's X-Amz-Target, else the query protocol's
 * `Action=`.
 */
function actionOf(req: http.IncomingMessage, body: Buffer): string {
  const s3 = s3ActionOf(req);
  if (s3 !== undefined) return s3;
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.length > 0) {
    const dot = target.lastIndexOf('.');
    return dot === -1 ? target : target.slice(dot + 1);
  }
  const match = /(?:^|&)Action=([A-Za-z]+)/.exec(body.subarray(0, 4096).toString('latin1'));
  return match?.[1] ?? 'unknown';
}

function errorResponse(
  res: http.ServerResponse,
  status: number,
  code: string,
  fault: 'Sender' | 'Receiver',
  message: string,
  requestId: string,
): void {
  const body = JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    'x-amzn-query-error': `${code};${fault}`,
  });
  res.end(body);
}

/** Starts the proxy on 127.0.0.1 on a free port. */
export async function startSqsProxy(options: SqsProxyOptions): Promise<SqsProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') {
    throw new TypeError(`Expected \`target\` to be an http:// URL, got \`${options.target}\``);
  }
  if (!LOOPBACK.has(target.hostname)) {
    throw new TypeError(
      `The proxy only forwards to loopback; \`target\` host is \`${target.hostname}\``,
    );
  }
  const targetPort = Number(target.port || 80);
  const basePath = target.pathname.replace(/\/$/, '');
  const maxRequests = options.maxRequests ?? 1_000_000;
  const maxDurationMs = options.maxDurationMs ?? 1_800_000;

  let faults = checkFaults(options.faults);
  let random = seededRandom(faults?.seed ?? 1);
  let latencyMs = options.latencyMs ?? 0;
  const counts: Record<string, number> = {};
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const injectedByAction: Record<string, Partial<Record<FaultKind, number>>> = {};
  let requests = 0;
  let closedReason: string | undefined;
  let closing: Promise<void> | undefined;

  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sockets = new Set<Socket>();

  const pickFault = (action: string): FaultKind | undefined => {
    if (faults === null || faults.rate === 0) return undefined;
    if (faults.actions !== undefined && !faults.actions.includes(action)) return undefined;
    // Two draws per eligible request, whatever the outcome, so the sequence depends on the seed
    // and the arrival order only.
    const hit = random() < faults.rate;
    const which = random();
    if (!hit) return undefined;
    return faults.kinds[Math.min(faults.kinds.length - 1, Math.floor(which * faults.kinds.length))];
  };

  const count = (action: string, kind: FaultKind): void => {
    injected[kind]++;
    const byKind = (injectedByAction[action] ??= {});
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  };

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
    signal: AbortSignal,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer } | undefined> =>
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

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client left mid-request
    }
    const body = Buffer.concat(chunks);
    const action = actionOf(req, body);
    requests++;
    counts[action] = (counts[action] ?? 0) + 1;
    const event = { action, request: requests, ofAction: counts[action] };
    options.onEvent?.({ phase: 'arrived', ...event });
    const requestId = `sqs-proxy-${requests}`;
    const limitReached = requests >= maxRequests;
    const clientGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) clientGone.abort();
      if (limitReached) void shutdown('maxRequests');
    });

    try {
      const fault = pickFault(action);
      if (fault !== undefined) {
        count(action, fault);
        options.onEvent?.({ phase: 'faulted', ...event, fault });
      }
      await delay(latencyMs / 2);
      switch (fault) {
        case '500':
          errorResponse(
            res,
            500,
            'InternalError',
            'Receiver',
            'We encountered an internal error. Please try again. (injected by sqs-proxy)',
            requestId,
          );
          return;
        case '503':
          errorResponse(
            res,
            503,
            'ServiceUnavailable',
            'Receiver',
            'The request has failed due to a temporary failure of the server. (injected by sqs-proxy)',
            requestId,
          );
          return;
        case 'throttle': {
          const code = faults?.throttleCode ?? 'RequestThrottled';
          errorResponse(
            res,
            400,
            code,
            'Sender',
            'Rate exceeded (injected by sqs-proxy)',
            requestId,
          );
          return;
        }
        case 'reset':
          req.socket.destroy();
          return;
        case 'spike':
          await delay(faults?.spikeMs ?? 1000);
          break;
        default:
          break;
      }
      if (clientGone.signal.aborted) return;
      const answer = await forward(req, body, clientGone.signal);
      if (answer !== undefined) options.onEvent?.({ phase: 'forwarded', ...event });
      if (answer === undefined) {
        // The target failed or the client left; a client still there sees a reset, as it would.
        req.socket.destroy();
        return;
      }
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      await delay(latencyMs / 2);
      if (res.destroyed) return;
      const headers: http.OutgoingHttpHeaders = {
        ...answer.headers,
        'content-length': String(answer.body.length),
      };
      delete headers.connection;
      delete headers['keep-alive'];
      delete headers['transfer-encoding'];
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    } catch {
      req.socket.destroy();
    }
  };

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const timer = setTimeout(() => void shutdown('maxDurationMs'), maxDurationMs);
  timer.unref();

  function shutdown(reason: string): Promise<void> {
    if (closing !== undefined) return closing;
    closedReason = reason;
    // Late requests on kept-alive connections get a reset, like a server that went away.
    clearTimeout(timer);
    if (reason !== 'close()') {
      process.stderr.write(`sqs-proxy on port ${port} closed itself: ${reason} reached\n`);
    }
    closing = new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      agent.destroy();
    });
    return closing;
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    injected,
    injectedByAction,
    get requests() {
      return requests;
    },
    get closedReason() {
      return closedReason;
    },
    setFaults(next: FaultOptions | null): void {
      faults = checkFaults(next);
      if (faults?.seed !== undefined) random = seededRandom(faults.seed);
    },
    setLatency(next: number): void {
      if (!(next >= 0))
        throw new RangeError(`Expected \`latencyMs\` to be 0 or more, got \`${String(next)}\``);
      latencyMs = next;
    },
    close: () => shutdown('close()'),
  };
}

/** Total faults injected. */
export function totalInjected(injected: Record<FaultKind, number>): number {
  return Object.values(injected).reduce((a, b) => a + b, 0);
}
