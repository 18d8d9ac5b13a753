import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The AWS SDK warns, once per process on Node < 22, that its releases after the first week of
// January 2027 need Node 22. The CLI hides that warning (docs/cli.md): checked on each Node CI
// runs on (.ci/run), with the built CLI, as cli.test.ts runs it.
const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const WARNING = 'NodeVersionSupportWarning';
const warnsOnThisNode = Number(process.versions.node.split('.')[0]) < 22;

/** stderr of `node args` with the SDK's switch for the warning unset, or set to `disabled`. */
function stderrOf(args: string[], disabled?: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];
  if (disabled !== undefined) env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = disabled;
  const child = spawnSync(process.execPath, args, { cwd: ROOT, env, input: '', timeout: 30_000 });
  expect(child.status).toBe(0);
  return child.stderr.toString('utf8');
}

// `send` with empty stdin makes its client, sends nothing and exits: no SQS needed.
const cliSend = [
  CLI,
  'send',
  'http://127.0.0.1:9/000000000000/q',
  '--endpoint',
  'http://127.0.0.1:9',
];

it(`the SDK ${warnsOnThisNode ? 'warns' : 'does not warn'} about Node ${process.versions.node} when a client is made`, () => {
  const stderr = stderrOf([
    '-e',
    "new (require('@aws-sdk/client-sqs').SQSClient)({ region: 'us-east-1' })",
  ]);
  expect(stderr.includes(WARNING)).toBe(warnsOnThisNode);
});

it('the CLI hides the warning, and shows it when AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false', () => {
  expect(stderrOf([...cliSend, '--region', 'us-east-1'])).not.toContain(WARNING);
  expect(stderrOf([...cliSend, '--region', 'us-east-1'], 'false').includes(WARNING)).toBe(
    warnsOnThisNode,
  );
});
