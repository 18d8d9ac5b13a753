// The results JSON of a run: the analysis (summary, ratios, targets, headline) and everything
// needed to read it later (machine, versions, settings, source), next to the raw runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBJECTS, checkTargets, computeRatios, headline, summarize } from './analyze.mjs';
import { ACTIONS, BODY, round } from './common.mjs';
import { root } from './run-options.mjs';

/** Which source was built: the commit, and how many files under lib/ differ from it. */
export function sourceState() {
  const git = (...gitArgs) => {
    try {
      return execFileSync('git', gitArgs, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  const changed = git('status', '--porcelain', '--', 'lib');
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    libFilesChanged: changed === undefined ? undefined : changed.split('\n').filter(Boolean).length,
  };
}

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}

/** Everything a run found, ready for `JSON.stringify`. */
export function buildResults({
  options,
  startedAt,
  loadStart,
  source,
  server,
  runs,
  idle,
  overhead,
}) {
  const { full, profile, pkg } = options;
  const summary = summarize(runs);
  const ratios = computeRatios(summary);
  const targets = checkTargets(summary, ratios, idle, overhead);
  const results = {
    schema: 1,
    profile: full ? 'full' : 'quick',
    date: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGB: round(os.totalmem() / 2 ** 30, 3),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverageAtStart: loadStart.map((l) => round(l, 3)),
      loadAverageAtEnd: os.loadavg().map((l) => round(l, 3)),
    },
    versions: Object.fromEntries(
      [
        'sqs-streams',
        '@aws-sdk/client-sqs',
        'sqs-consumer',
        'squiss-ts',
        'fauxqs',
        'vega',
        'vega-lite',
      ].map((n) => [
        n,
        n === 'sqs-streams'
          ? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version
          : versionOf(n),
      ]),
    ),
    settings: {
      endpoint:
        server.kind === 'fauxqs'
          ? `fauxqs ${versionOf('fauxqs')} in its own process`
          : 'SQS_ENDPOINT',
      proxy:
        '__tests__/support/sqs-proxy.ts in the runner process (RTT split half before, half after forwarding)',
      ...profile,
      messageBytes: BODY.length,
      package: pkg ? path.relative(root, fileURLToPath(pkg)) : 'dist/ (npm run build)',
      source,
      queueVisibilityTimeoutS: 60,
      billableActions: ACTIONS,
    },
    subjects: SUBJECTS,
    summary,
    ratios,
    idle,
    overhead,
    targets,
    runs,
  };
  results.headline = headline(summary, ratios, idle, overhead);
  return results;
}
