// The runner's command line: the quick and full profiles, and what the options change in them.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SUBJECTS } from './analyze.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');

export const PROFILES = {
  quick: {
    rtts: [0, 20],
    delays: [0, 2],
    messages: { 0: 2000, 20: 600 },
    warmup: { 0: 1000, 20: 1000 },
    warmupRttMs: 0,
    settle: 100,
    reps: 1,
    idleWindowS: 45,
    overheadMessages: 200_000,
  },
  full: {
    rtts: [0, 20],
    delays: [0, 2],
    messages: { 0: 5000, 20: 1500 },
    // Consumed before the measured window opens: the first few thousand messages of a process
    // pay for V8 compiling the hot paths (a third of all instructions in a 2,500-message run,
    // callgrind; the raw loop and sqs-streams alike still compile through about 7,000), the first
    // connections and, for sqs-streams, GetQueueAttributes. A consumer runs for hours; the window
    // measures what each message costs once that is paid. The warm-up runs at 0 ms RTT (4,000
    // messages at 20 ms would take 10 s a run); then `settle` messages at the scenario's RTT
    // drain what was in flight at the switch (squiss-ts prefetches 100) before the window opens.
    warmup: { 0: 2000, 20: 4000 },
    warmupRttMs: 0,
    settle: 200,
    reps: 3,
    idleWindowS: 65,
    overheadMessages: 1_000_000,
  },
};

/**
 * What one run does: `args` as given, the profile they adjust, the subjects they select, the
 * build under test (`pkg`: another build's index.mjs URL, or undefined for dist/).
 */
export function runOptions(argv) {
  const args = parseArgs(argv);
  const full = args.full === true;
  const profile = { ...PROFILES[full ? 'full' : 'quick'] };
  if (args.rtt) profile.rtts = numbers(args.rtt);
  if (args.delay) profile.delays = numbers(args.delay);
  if (args.reps) profile.reps = Number(args.reps);
  if (args['idle-window']) profile.idleWindowS = Number(args['idle-window']);
  if (args['overhead-messages']) profile.overheadMessages = Number(args['overhead-messages']);
  if (args.messages)
    profile.messages = Object.fromEntries(profile.rtts.map((r) => [r, Number(args.messages)]));
  if (args.warmup !== undefined)
    profile.warmup = Object.fromEntries(profile.rtts.map((r) => [r, Number(args.warmup)]));

  const only = args.only ? new Set(String(args.only).split(',')) : undefined;
  // --package=DIR: benchmark another build of sqs-streams (a directory with its index.mjs).
  const pkg = args.package
    ? pathToFileURL(path.resolve(String(args.package), 'index.mjs')).href
    : undefined;
  return {
    args,
    full,
    profile,
    subjects: SUBJECTS.filter((s) => (only === undefined ? !s.optIn : only.has(s.id))),
    pkg,
    cpuProfDir: path.join(root, 'bench/.tmp/profiles'),
    /** The build under test: the package itself (dist/), or the one `--package` names. */
    sqsStreams: () => import(pkg ?? 'sqs-streams'),
  };
}

export const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);

function parseArgs(argv) {
  const out = {};
  for (const arg of argv) {
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unknown argument ${arg}`);
    const [, no, key, value] = match;
    out[key] = no ? false : (value ?? true);
  }
  return out;
}

function numbers(value) {
  return String(value).split(',').map(Number);
}
