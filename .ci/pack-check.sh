#!/usr/bin/env bash
# Installs the packed tarball into a scratch project (offline, from the local cache) and checks
# that both `require('sqs-streams')` and `import { ... } from 'sqs-streams'` give the same classes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
mkdir -p "$work/app/node_modules"
tar -xzf "$work/$tarball" -C "$work/app/node_modules"
mv "$work/app/node_modules/package" "$work/app/node_modules/sqs-streams"
# Peer and runtime dependencies come from the repo's own install.
for dep in "$root"/node_modules/*; do
  name="$(basename "$dep")"
  [ -e "$work/app/node_modules/$name" ] || ln -s "$dep" "$work/app/node_modules/$name"
done
cd "$work/app"
node -e "
const m = require('sqs-streams');
for (const k of ['SqsReadable', 'SqsWritable', 'SqsAckWritable', 'SqsMessage', 'SqsStreamError']) {
  if (typeof m[k] !== 'function') { console.error('require: missing ' + k); process.exit(1); }
}
console.log('require ok:', Object.keys(m).sort().join(', '));
"
node --input-type=module -e "
import { SqsReadable, SqsWritable, SqsAckWritable, SqsStreamError } from 'sqs-streams';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('sqs-streams');
if (SqsReadable !== cjs.SqsReadable || SqsStreamError !== cjs.SqsStreamError) {
  console.error('import and require gave different classes'); process.exit(1);
}
const source = new SqsReadable({ queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', clientConfig: { region: 'us-east-1' } });
source.destroy();
console.log('import ok:', [SqsReadable, SqsWritable, SqsAckWritable].map((c) => c.name).join(', '));
"
