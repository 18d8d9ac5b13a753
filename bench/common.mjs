// Shared by the benchmark runner and its child processes. Plain ESM on purpose: the subjects
// load the BUILT package (`sqs-streams` resolves to dist/ through the package's own exports), so
// the numbers are those of what users install.
import { readFileSync } from 'node:fs';
import { SQS, SQSClient } from '@aws-sdk/client-sqs';

export const REGION = 'us-east-1';
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Every message body: 256 bytes of JSON-looking text, the same for every subject. */
export const BODY = JSON.stringify({ kind: 'bench', pad: 'x'.repeat(222) }).padEnd(256, ' ');

/** An SDK client for the endpoint (the proxy's, or fauxqs's own for setup). */
export function createClient(endpoint, { aggregated = false } = {}) {
  const Client = aggregated ? SQS : SQSClient;
  return new Client({ endpoint, region: REGION, credentials: CREDENTIALS });
}

/** Median of numbers (the middle one, or the mean of the two middle ones). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Rounds to `digits` significant digits, for tables and JSON. */
export function round(value, digits = 3) {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

/** The actions SQS bills per request (all of them: every API call is a billable request). */
export const ACTIONS = [
  'ReceiveMessage',
  'DeleteMessageBatch',
  'DeleteMessage',
  'ChangeMessageVisibilityBatch',
  'ChangeMessageVisibility',
  'GetQueueAttributes',
  'GetQueueUrl',
];

/**
 * CPU time (ms, user + system) of a process, or with `tid` of one of its threads, from /proc
 * (10 ms ticks); `undefined` where there is no /proc.
 */
export function procCpuMs(pid, tid) {
  if (pid === undefined) return undefined;
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * The main thread's context switches so far, from /proc: `voluntary` (it waited, e.g. for I/O:
 * about one per event-loop turn that found nothing to do) and `involuntary` (it was preempted);
 * `undefined` where there is no /proc.
 */
export function mainThreadSwitches() {
  try {
    const status = readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8');
    const read = (name) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1]);
    return {
      voluntary: read('voluntary_ctxt_switches'),
      involuntary: read('nonvoluntary_ctxt_switches'),
    };
  } catch {
    return undefined;
  }
}
