/**
 * A loopback HTTP proxy between the AWS SDK and an SQS endpoint (fauxqs, LocalStack) that adds
 * latency and injects faults at a set rate, and counts what went through it.
 *
 * Plain Node (no Jest): tests, the benchmark and the soak run import it alike, e.g. from a plain
 * process with `node -r ts-node/register/transpile-only`.
 *
 * ```ts
 * const proxy = await startSqsProxy({ target: endpoint, faults: { rate: 0.1, kinds: ['500', 'hang'], seed: 1 } });
 * const client = new SQSClient({ endpoint: proxy.endpoint, region, credentials });
 * ...
 * console.log(proxy.counts.ReceiveMessage, proxy.injected, proxy.abandoned);
 * await proxy.outage(); ... await proxy.restore(); // ECONNREFUSED in between
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
 * - `'hang'`     the request is read and never answered, not forwarded (SQS never saw it): the
 *                connection stays open until the client gives up (destroys it) or the proxy
 *                closes. Only a client-side deadline ends it.
 * - `'stall'`    the status line and headers of a 200 (with a `content-length`) are sent, then
 *                nothing; not forwarded. The client has a response and waits on its body.
 * - `'slow'`     forwarded at once, and the answer held back `slowMs`, then sent. It forwards
 *                BEFORE the delay on purpose: latency past a client's deadline means SQS acted
 *                (handed a batch out, deleted, sent) on a request the client gave up on, and
 *                that is what a deadline must survive (a received batch comes back after its
 *                visibility timeout, a sent batch may be sent twice). `'spike'` is the other
 *                order (latency before SQS sees the request).
 * - `'refuse'`   an outage: the connection is cut unanswered (not forwarded), the listening port
 *                closes for `refuseMs` (every open connection cut), so connection attempts get
 *                ECONNREFUSED from the kernel, then it listens again on the same port. The same
 *                outage, for as long as a test wants, is `outage(forMs?)` / `restore()`.
 *
 * `injected` and `injectedByAction` count faults drawn; `outages` counts port closings, drawn or
 * called (refused connection attempts never reach the proxy, so they cannot be counted).
 * `abandoned` lists the requests a `'hang'`, `'stall'` or `'slow'` held until the client gave up,
 * with how long each was held: the time a hung connection cost.
 *
 * Only loopback targets are accepted, and the proxy listens on 127.0.0.1 only. It is bounded: it
 * closes itself after `maxRequests` requests or `maxDurationMs`, whichever comes first; closing
 * destroys every connection, hung ones included.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import {
  FAULT_KINDS,
  actionOf,
  answerError,
  checkFaults,
  delay,
  seededRandom,
  stallResponse,
  type FaultKind,
  type FaultOptions,
} from './reliability-proxy-kinds';
import { listenWithOutages } from './reliability-proxy-listener';
import {
  forwarder,
  type AbandonedRequest,
  type SqsProxy,
  type SqsProxyOptions,
} from './reliability-proxy-types';

export {
  FAULT_KINDS,
  HOLDING_KINDS,
  totalInjected,
  type FaultKind,
  type FaultOptions,
} from './reliability-proxy-kinds';
export type {
  AbandonedRequest,
  SqsProxy,
  SqsProxyEvent,
  SqsProxyOptions,
} from './reliability-proxy-types';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_ABANDONED = 10_000;

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
  const maxRequests = options.maxRequests ?? 1_000_000;
  const maxDurationMs = options.maxDurationMs ?? 1_800_000;

  let faults = checkFaults(options.faults);
  let random = seededRandom(faults?.seed ?? 1);
  let faultsLeft = faults?.limit ?? Infinity;
  let latencyMs = options.latencyMs ?? 0;
  const counts: Record<string, number> = {};
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const injectedByAction: Record<string, Partial<Record<FaultKind, number>>> = {};
  const abandoned: AbandonedRequest[] = [];
  let requests = 0;
  let connections = 0;
  let holding = 0;
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
    if (!hit || faultsLeft <= 0) return undefined;
    faultsLeft--;
    return faults.kinds[Math.min(faults.kinds.length - 1, Math.floor(which * faults.kinds.length))];
  };

  const count = (action: string, kind: FaultKind): void => {
    injected[kind]++;
    const byKind = (injectedByAction[action] ??= {});
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  };

  const forward = forwarder(target, agent);

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
    const gone = new Promise<void>((resolve) => {
      res.once('close', () => {
        if (!res.writableFinished) clientGone.abort();
        resolve();
        if (limitReached) void shutdown('maxRequests');
      });
    });
    /** Holds the request until the client gives up (or `ms` pass); true when it gave up. */
    const hold = async (fault: FaultKind, ms = Infinity): Promise<boolean> => {
      const since = Date.now();
      holding++;
      let timer: NodeJS.Timeout | undefined;
      const waited = Number.isFinite(ms)
        ? new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
        : new Promise<void>(() => undefined);
      await Promise.race([gone, waited]);
      clearTimeout(timer);
      holding--;
      if (!clientGone.signal.aborted) return false;
      const heldMs = Date.now() - since;
      if (abandoned.length < MAX_ABANDONED) abandoned.push({ action, fault, heldMs });
      options.onEvent?.({ phase: 'abandoned', ...event, fault, heldMs });
      return true;
    };

    try {
      const fault = pickFault(action);
      if (fault !== undefined) {
        count(action, fault);
        options.onEvent?.({ phase: 'faulted', ...event, fault });
      }
      await delay(latencyMs / 2);
      if (answerError(res, fault, faults, requestId)) return;
      switch (fault) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'refuse':
          // Cuts this connection with the others.
          await listener.outage(faults?.refuseMs ?? 1000);
          return;
        case 'hang':
          await hold(fault);
          return;
        case 'stall':
          stallResponse(res, requestId);
          await hold(fault);
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
      if (fault === 'slow' && (await hold(fault, faults?.slowMs ?? 2000))) return;
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
  server.on('clientError', (_error, socket) => socket.destroy());
  // The listener below owns the port; the HTTP server only gets its connections.
  const listener = await listenWithOutages(
    (socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      server.emit('connection', socket);
    },
    sockets,
    (error) => {
      process.stderr.write(`sqs-proxy could not listen again: ${error.message}\n`);
      void shutdown('restore failed');
    },
  );
  const port = listener.port;

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
    closing = (async () => {
      await listener.close();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      server.close();
    })();
    return closing;
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    injected,
    injectedByAction,
    abandoned,
    get requests() {
      return requests;
    },
    /** Client connections accepted so far. */
    get connections() {
      return connections;
    },
    get holding() {
      return holding;
    },
    get outages() {
      return listener.outages;
    },
    get refusing() {
      return listener.refusing;
    },
    get closedReason() {
      return closedReason;
    },
    setFaults(next: FaultOptions | null): void {
      faults = checkFaults(next);
      faultsLeft = faults?.limit ?? Infinity;
      if (faults?.seed !== undefined) random = seededRandom(faults.seed);
    },
    setLatency(next: number): void {
      if (!(next >= 0))
        throw new RangeError(`Expected \`latencyMs\` to be 0 or more, got \`${String(next)}\``);
      latencyMs = next;
    },
    outage: (forMs?: number) => listener.outage(forMs),
    restore: () => listener.restore(),
    close: () => shutdown('close()'),
  };
}
