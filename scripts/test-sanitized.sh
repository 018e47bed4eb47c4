#!/usr/bin/env bash
# Runs the native-heavy tests against an ASan + UBSan build of the addon,
# with LeakSanitizer on:
#   1. cmake-js compile --out build-asan --CDEXPERIMENT_SANITIZE=ON (g++, -fsanitize=address,undefined)
#   2. a leak canary (scripts/sanitize/leak-canary.c) must be reported, proving
#      the suppressions do not hide an addon's leaks
#   3. vitest on the test files below with LD_PRELOAD=libasan.so in node and
#      AMPLITUDE_EXPERIMENT_NATIVE_BINARY=build-asan/Release/experiment_native.node
# Any ASan/UBSan report aborts the worker (halt_on_error), an LSan report at
# a worker's exit makes it exit non-zero; either fails the run.
#   SANITIZE_SKIP_BUILD=1   reuse build-asan
#   DIFF_EVALS (default 30000; fewer can miss the operator-coverage check) for the differential test
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
if [ "${SANITIZE_SKIP_BUILD:-0}" != 1 ] || [ ! -f build-asan/Release/experiment_native.node ]; then
  echo "== build-asan (ASan + UBSan)"
  mkdir -p build-asan
  npx cmake-js compile --out build-asan --CDEXPERIMENT_SANITIZE=ON >build-asan/build.log 2>&1 || { tail -30 build-asan/build.log; exit 1; }
fi
addon="$PWD/build-asan/Release/experiment_native.node"
ldd "$addon" | grep libasan >/dev/null || { echo "$addon is not an ASan build" >&2; exit 1; }
libasan=$(g++ -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "libasan.so not found (apt-get install g++)" >&2; exit 2; }
node_bin=$(readlink -f "$(command -v node)")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
supp="$work/lsan.supp"
cp scripts/sanitize/lsan-node.supp "$supp"
echo "leak:$node_bin" >>"$supp"

export ASAN_OPTIONS="detect_leaks=1:malloc_context_size=2:halt_on_error=1:abort_on_error=0:detect_odr_violation=0"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== leak canary"
node_include=$(dirname "$(find /usr/include/node "$HOME/.cmake-js" -name node_api.h 2>/dev/null | head -1)")
gcc -shared -fPIC -O1 -fsanitize=address -I"$node_include" scripts/sanitize/leak-canary.c -o "$work/canary.node"
if LD_PRELOAD="$libasan" node -e "require('$work/canary.node').leak()" >"$work/canary.log" 2>&1; then
  echo "leak canary: no leak reported; the sanitizer set-up would hide real leaks" >&2
  cat "$work/canary.log" >&2
  exit 1
fi
grep -q "detected memory leaks" "$work/canary.log" || { cat "$work/canary.log" >&2; exit 1; }
echo "   reported, as it must be"

files=(test/smoke.test.ts test/operators.test.ts test/differential.test.ts test/examples.test.ts test/native-engine.test.ts
       test/worker-threads.test.ts test/slot-values.test.ts test/simple-regex.test.ts
       test/local/cohorts.test.ts test/bad-inputs.test.ts)
present=()
for f in "${files[@]}"; do [ -f "$f" ] && present+=("$f"); done
echo "== vitest under ASan/UBSan/LSan: ${present[*]}"
log="$work/vitest.log"
set +e
AMPLITUDE_EXPERIMENT_NATIVE_BINARY="$addon" AMPLITUDE_EXPERIMENT_ENGINE=native DIFF_EVALS="${DIFF_EVALS:-30000}" \
  LD_PRELOAD="$libasan" npx vitest run "${present[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer" "$log"; then
  echo "sanitizer report (see above)" >&2
  rc=1
fi
echo "== test-sanitized: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start ))s"
exit $rc
