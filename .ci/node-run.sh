#!/usr/bin/env bash
# One Node version's part of .ci/run, on the `node` first on PATH: lint, types, build, the packed
# tarball, then the README's test command. Every step runs even if an earlier one failed; each
# failed step that reported no test counts of its own adds one failure to
# $SQS_STREAMS_TEST_SUMMARY (the test reporter adds Jest's counts there), so the total that
# .ci/run prints last never says "0 failed" for a version that failed.
set -uo pipefail
cd "$(dirname "$0")/.."
summary="${SQS_STREAMS_TEST_SUMMARY:?set by .ci/run}"
echo "======== Node $(node --version) ($(command -v node)), npm $(npm --version)"
failed=()

step() {
  local name="$1"
  shift
  local before
  before="$(wc -l <"$summary")"
  echo "== $name"
  if ! "$@"; then
    failed+=("$name")
    [ "$(wc -l <"$summary")" != "$before" ] || echo '{"passed":0,"failed":1,"skipped":0}' >>"$summary"
  fi
}

step "lint and format" npm run lint
step "types" npm run typecheck
step "build" npm run build
step "package: require and import from the packed tarball" bash .ci/pack-check.sh
step "tests (the README's test command)" npm test

if [ "${#failed[@]}" -gt 0 ]; then
  printf '== Node %s: failed: %s\n' "$(node --version)" "$(IFS=,; echo "${failed[*]}")"
  exit 1
fi
