/**
 * The fault kinds of the loopback fault proxy (sqs-proxy.ts): their names and options, the
 * seeded generator that draws them, and the error answers it sends. Plain Node, no Jest.
 */
import type http from 'node:http';

export type FaultKind =
  '500' | '503' | 'throttle' | 'reset' | 'drop' | 'spike' | 'hang' | 'stall' | 'slow' | 'refuse';

export const FAULT_KINDS: readonly FaultKind[] = [
  '500',
  '503',
  'throttle',
  'reset',
  'drop',
  'spike',
  'hang',
  'stall',
  'slow',
  'refuse',
];

/** The kinds that hold a request open without answering it until the client gives up. */
export const HOLDING_KINDS: readonly FaultKind[] = ['hang', 'stall', 'slow'];

export interface FaultOptions {
  /** Share of eligible requests that get a fault, 0 to 1. */
  rate: number;
  /** Which faults to draw from, equally likely. */
  kinds: FaultKind[];
  /** Extra latency of a `'spike'` (before forwarding), in ms. @default 1000 */
  spikeMs?: number;
  /** Extra latency of a `'slow'` answer (after forwarding), in ms. @default 2000 */
  slowMs?: number;
  /** How long a drawn `'refuse'` keeps the port closed, in ms. @default 1000 */
  refuseMs?: number;
  /** At most this many faults under these options, then none (until the next `setFaults`). @default unlimited */
  limit?: number;
  /** Seed of the fault generator: the same seed gives the same sequence of decisions. @default 1 */
  seed?: number;
  /** Only these actions (X-Amz-Target's action, e.g. `'ReceiveMessage'`) get faults. @default all */
  actions?: string[];
  /** The error code of a `'throttle'`. @default 'RequestThrottled' */
  throttleCode?: 'RequestThrottled' | 'ThrottlingException';
}

/** mulberry32: small, fast, good enough to spread faults; deterministic per seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nonNegative = (name: string, value: unknown): void => {
  if (value !== undefined && !(typeof value === 'number' && value >= 0)) {
    throw new RangeError(`Expected \`faults.${name}\` to be 0 or more, got \`${String(value)}\``);
  }
};

export function checkFaults(faults: FaultOptions | null | undefined): FaultOptions | null {
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
  for (const name of ['spikeMs', 'slowMs', 'refuseMs', 'limit'] as const) {
    nonNegative(name, faults[name]);
  }
  return { ...faults, kinds: [...faults.kinds] };
}

export function delay(ms: number): Promise<void> {
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
export function actionOf(req: http.IncomingMessage, body: Buffer): string {
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

/** Answers an error-type fault (`'500'`, `'503'`, `'throttle'`); false for any other kind. */
export function answerError(
  res: http.ServerResponse,
  fault: FaultKind | undefined,
  faults: FaultOptions | null,
  requestId: string,
): boolean {
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
      return true;
    case '503':
      errorResponse(
        res,
        503,
        'ServiceUnavailable',
        'Receiver',
        'The request has failed due to a temporary failure of the server. (injected by sqs-proxy)',
        requestId,
      );
      return true;
    case 'throttle':
      errorResponse(
        res,
        400,
        faults?.throttleCode ?? 'RequestThrottled',
        'Sender',
        'Rate exceeded (injected by sqs-proxy)',
        requestId,
      );
      return true;
    default:
      return false;
  }
}

/**
 * A `'stall'`: a 200 with the JSON protocol's headers and a `content-length` promising a body
 * that never comes. The client has its response and waits on the body.
 */
export function stallResponse(res: http.ServerResponse, requestId: string): void {
  res.writeHead(200, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': 4096,
    'x-amzn-requestid': requestId,
  });
  res.flushHeaders();
}

/** Total faults injected. */
export function totalInjected(injected: Record<FaultKind, number>): number {
  return Object.values(injected).reduce((a, b) => a + b, 0);
}
