#!/usr/bin/env bash
# Installs the packed tarball into scratch projects (offline, from the local cache) and checks
# that both `require('sqs-streams')` and `import { ... } from 'sqs-streams'` give the same classes,
# and that `sqs-streams/testing` works from `import` and `require`: with fauxqs installed (the
# emulator starts), and without it (a clear error naming fauxqs; SQS_ENDPOINT still works).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# A scratch project $1 with the tarball installed; peer and runtime dependencies are links to the
# repo's own install, every one but those named after $1 (e.g. fauxqs).
make_app() {
  local app="$work/$1"
  shift
  mkdir -p "$app/node_modules"
  tar -xzf "$work/$tarball" -C "$app/node_modules"
  mv "$app/node_modules/package" "$app/node_modules/sqs-streams"
  local deps=()
  for dep in "$root"/node_modules/*; do
    name="${dep##*/}"
    for skip in sqs-streams "$@"; do [ "$name" = "$skip" ] && continue 2; done
    deps+=("$dep")
  done
  ln -s "${deps[@]}" "$app/node_modules/" # one process for hundreds of links
  cp "$root/.ci/pack-check-testing.cjs" "$root/.ci/pack-check-testing.mjs" "$app/"
}

make_app app
make_app app-without-fauxqs fauxqs
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
node -e "
const { instrumentSqsStreams } = require('sqs-streams/otel');
if (typeof instrumentSqsStreams !== 'function') { console.error('require: no instrumentSqsStreams'); process.exit(1); }
instrumentSqsStreams()();
console.log('require sqs-streams/otel ok');
"
node --input-type=module -e "
import { instrumentSqsStreams } from 'sqs-streams/otel';
import { createRequire } from 'node:module';
if (instrumentSqsStreams !== createRequire(import.meta.url)('sqs-streams/otel').instrumentSqsStreams) {
  console.error('sqs-streams/otel: import and require differ'); process.exit(1);
}
console.log('import sqs-streams/otel ok');
"
for app in app app-without-fauxqs; do
  cd "$work/$app"
  fauxqs="$([ -e node_modules/fauxqs ] && echo present || echo absent)"
  env -u SQS_ENDPOINT node pack-check-testing.cjs "$fauxqs"
  env -u SQS_ENDPOINT node pack-check-testing.mjs "$fauxqs"
done
