#!/bin/sh
# Tarball install test, on the host platform:
#   A. npm pack; npm install the tarball into a fresh project with NO compiler
#      on PATH (node, npm, sh and coreutils only): the prebuild is used, no
#      build step runs, flags evaluate on the native engine (diagnose says so);
#   B. the same tarball installed with --ignore-scripts: still native;
#   C. the tarball with prebuilds/ removed, same PATH: the install still
#      succeeds (one warning), flags evaluate on the JS engine, and the answers
#      equal A's exactly;
#   D. (SOURCE_BUILD=1, the default) the tarball without prebuilds, with the
#      normal PATH: the install warns (cmake-js is a devDependency, not installed
#      for users); the command the warning names is run as printed, it builds
#      from source and the native engine loads from build/Release.
# A also checks the light install: at most MAX_PACKAGES (20) packages, no build tool.
# usage: sh scripts/test-pack.sh      (from the repo root; builds dist and the host prebuild if missing)
# env:   KEEP=1 keeps the temp dir; REBUILD=1 rebuilds the host prebuild first; SOURCE_BUILD=0 skips D
# Needs the dependencies in the npm cache (or registry access): installs use --prefer-offline.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
T0=$(date +%s)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aen-pack.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "test-pack: kept $TMP"; else rm -rf "$TMP"; fi; }
trap cleanup EXIT
say() { echo "test-pack: $*"; }
fail() { echo "test-pack: FAIL $*" >&2; exit 1; }
now_ms() { node -p 'Date.now()'; }

PLATFORM=$(node -p 'process.platform + "-" + process.arch')
# The file node-gyp-build picks here (Linux: the .glibc or .musl one; prebuilds/ may hold both).
HOST_PREBUILD=$(node -p '
  const libc = process.platform !== "linux" ? "" : process.report.getReport().header.glibcVersionRuntime ? ".glibc" : ".musl";
  `prebuilds/${process.platform}-${process.arch}/amplitude-experiment-native${libc}.node`')

# ---- inputs: compiled TS and the host prebuild -------------------------------
if [ -f scripts/build-ts.js ]; then npm run --silent build:ts; else npx --no-install tsc -p .; fi
[ -f dist/cjs/engine/index.js ] || fail "dist/cjs/engine/index.js missing after the TS build"
if [ ! -f "$HOST_PREBUILD" ] || [ "${REBUILD:-0}" = 1 ]; then
  say "building the $PLATFORM prebuild"
  node scripts/prebuild.js
fi

# ---- a PATH with node, npm, sh and coreutils but no compiler or build tool ---
BIN="$TMP/bin"
mkdir -p "$BIN"
NODE_BIN=$(command -v node)
ln -s "$NODE_BIN" "$BIN/node"
ln -s "$(command -v npm)" "$BIN/npm"
ln -s "$(command -v npx)" "$BIN/npx"
for tool in sh bash env cat cp mv rm ln ls mkdir rmdir chmod touch dirname basename readlink realpath \
  uname id date sleep head tail tr cut sort uniq wc grep sed awk tar gzip printf test true false expr mktemp; do
  p=$(command -v "$tool" 2>/dev/null || true)
  case "$p" in /*) ln -s "$p" "$BIN/$tool" ;; esac
done
for tool in cc c++ gcc g++ clang clang++ make cmake ninja ld as; do
  PATH="$BIN" command -v "$tool" >/dev/null 2>&1 && fail "$tool is reachable on the restricted PATH"
done
NOCC_PATH="$BIN"

# ---- tarballs ----------------------------------------------------------------
TGZ=$(npm pack --silent --pack-destination "$TMP" | tail -1)
TGZ="$TMP/$TGZ"
tar -tzf "$TGZ" > "$TMP/contents.txt"
grep -q "^package/$HOST_PREBUILD$" "$TMP/contents.txt" || fail "tarball has no $HOST_PREBUILD"
grep -q '^package/scripts/install.js$' "$TMP/contents.txt" || fail "tarball has no scripts/install.js"
grep -q '^package/build/' "$TMP/contents.txt" && fail "tarball contains build/"
say "packed $(basename "$TGZ"): $(wc -c < "$TGZ") bytes, $(wc -l < "$TMP/contents.txt") files;" \
  "prebuilds: $(sed -n 's|^package/prebuilds/||p' "$TMP/contents.txt" | tr '\n' ' ')"

mkdir -p "$TMP/noprebuild"
tar -xzf "$TGZ" -C "$TMP/noprebuild"
rm -rf "$TMP/noprebuild/package/prebuilds"
TGZ_NOPB="$TMP/noprebuild.tgz"
tar -czf "$TGZ_NOPB" -C "$TMP/noprebuild" package

# ---- install into a fresh project with no compiler ---------------------------
install_into() { # <dir> <tarball> [npm args...]
  dir=$1 tgz=$2
  shift 2
  mkdir -p "$dir"
  printf '{"name":"%s","version":"1.0.0","private":true}\n' "$(basename "$dir")" > "$dir/package.json"
  t=$(now_ms)
  (cd "$dir" && PATH="$NOCC_PATH" npm install --prefer-offline --no-audit --no-fund --foreground-scripts "$@" "$tgz") \
    > "$dir.install.log" 2>&1 || { cat "$dir.install.log"; fail "npm install into $(basename "$dir") failed"; }
  echo $(( $(now_ms) - t ))
}

run_smoke() { # <dir> <expected engine>
  (cd "$1" && PATH="$NOCC_PATH" node "$ROOT/scripts/smoke-eval.js" --pkg "$1/node_modules/amplitude-experiment-native" \
    --expect "$2" --json) 2> "$1.smoke.err" > "$1.smoke.json" || { cat "$1.smoke.err" "$1.smoke.json"; fail "smoke test on the $2 engine in $(basename "$1")"; }
}

# A: prebuild, install scripts on
ms=$(install_into "$TMP/app-native" "$TGZ")
PKG_A="$TMP/app-native/node_modules/amplitude-experiment-native"
[ -d "$PKG_A/build" ] && fail "A: a build/ directory appeared: the install built from source instead of using the prebuild"
grep -qi "warning: no native engine" "$TMP/app-native.install.log" && fail "A: the install script warned: $(grep -i warning "$TMP/app-native.install.log")"
run_smoke "$TMP/app-native" native
# every installed package (nested ones too), less the app itself
npkgs=$(cd "$TMP/app-native" && PATH="$NOCC_PATH" npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l)
for tool in cmake-js node-addon-api node-gyp prebuild-install; do
  [ -d "$TMP/app-native/node_modules/$tool" ] && fail "A: the build tool $tool was installed for a user whose prebuild loads"
done
[ "$npkgs" -le "${MAX_PACKAGES:-20}" ] || fail "A: the install brought $npkgs packages (at most ${MAX_PACKAGES:-20})"
say "A   install size: $npkgs packages, $(du -sk "$TMP/app-native/node_modules" | cut -f1) KB in node_modules, no build tool"
say "A ok: install ${ms} ms, native engine from the prebuild, no build step"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const d = r.diagnosis || {};
  console.log("test-pack:   diagnose(): engine=" + d.engine + " binary=" + d.binary + " libc=" + d.libc + " napi=" + d.napiVersion);
  if (d.engine !== undefined && d.engine !== "native") process.exit(1);
  if (d.binary && !d.binary.replace(/\\/g, "/").endsWith(process.argv[2])) { console.error("binary is not " + process.argv[2] + ": " + d.binary); process.exit(1); }
' "$TMP/app-native.smoke.json" "$HOST_PREBUILD" || fail "A: diagnose() does not report the native prebuild $HOST_PREBUILD"

# B: prebuild, install scripts disabled
ms=$(install_into "$TMP/app-noscripts" "$TGZ" --ignore-scripts)
run_smoke "$TMP/app-noscripts" native
say "B ok: install ${ms} ms with --ignore-scripts, native engine"

# C: no prebuild, no compiler: install succeeds with one warning, JS engine, same answers
ms=$(install_into "$TMP/app-js" "$TGZ_NOPB")
n=$(grep -ci "warning: no native engine" "$TMP/app-js.install.log" || true)
[ "$n" = 1 ] || { cat "$TMP/app-js.install.log"; fail "C: expected exactly one install warning, got $n"; }
say "C   install warning: $(grep -i 'warning: no native engine' "$TMP/app-js.install.log" | cut -c1-200)…"
[ -d "$TMP/app-js/node_modules/amplitude-experiment-native/build" ] && fail "C: a failed build left build/ behind"
run_smoke "$TMP/app-js" js
node -e '
  const fs = require("fs");
  const a = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const c = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const canon = (v) => Array.isArray(v) ? v.map(canon) : v && typeof v === "object"
    ? Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => [k, canon(v[k])])) : v;
  for (const k of ["results", "all", "buckets"]) {
    if (JSON.stringify(canon(a[k])) !== JSON.stringify(canon(c[k]))) { console.error("answers differ in " + k); process.exit(1); }
  }
  const d = c.diagnosis || {};
  console.log("test-pack:   diagnose(): engine=" + d.engine + " fallbackReason=" + d.fallbackReason);
' "$TMP/app-native.smoke.json" "$TMP/app-js.smoke.json" || fail "C: JS engine answers differ from the native engine"
say "C ok: install ${ms} ms, JS engine, same answers as native"

# D: no prebuild, compiler on PATH: the warning names the command for a source
# build; run it exactly as printed.
if [ "${SOURCE_BUILD:-1}" = 1 ]; then
  ms=$(NOCC_PATH="$PATH" install_into "$TMP/app-source" "$TGZ_NOPB")
  cmd=$(sed -n 's/.*WARNING: no native engine.*then run: `\([^`]*\)`.*/\1/p' "$TMP/app-source.install.log" | head -1)
  [ -n "$cmd" ] || { cat "$TMP/app-source.install.log"; fail "D: the install warning names no command for a source build"; }
  say "D   the warning says to run: $cmd"
  t=$(now_ms)
  (cd "$TMP/app-source" && npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false \
    npm_config_foreground_scripts=true sh -c "$cmd") > "$TMP/app-source.build.log" 2>&1 ||
    { cat "$TMP/app-source.build.log"; fail "D: '$cmd' failed"; }
  grep -qi "warning: no native engine" "$TMP/app-source.build.log" && { cat "$TMP/app-source.build.log"; fail "D: the source build failed"; }
  ls "$TMP/app-source/node_modules/amplitude-experiment-native/build/Release/"*.node >/dev/null 2>&1 || fail "D: no build/Release/*.node"
  NOCC_PATH="$PATH" run_smoke "$TMP/app-source" native
  say "D ok: install ${ms} ms, then the source build in $(( $(now_ms) - t )) ms, native engine from build/Release"
fi

say "PASS ($(( $(date +%s) - T0 )) s)"
