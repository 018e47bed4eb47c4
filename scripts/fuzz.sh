#!/usr/bin/env bash
# libFuzzer harnesses for the native flag-config parser, evaluator, cohort
# parser and regex subset (fuzz/*.cc), linked straight against native/core (no Node), built
# with clang -fsanitize=fuzzer,address,undefined into fuzz/build/.
#
#   scripts/fuzz.sh [seconds]      build, then fuzz each target for `seconds` (default 60)
#                                  in turn, new corpus entries into fuzz/build/corpus/<target>
#                                  (the seeds in fuzz/corpus/<target> are read, never written)
#   scripts/fuzz.sh --replay       build, then run every file of fuzz/corpus/<target> once (CI)
#   scripts/fuzz.sh --build        build only
#   FUZZ_TARGETS="snapshot cohort" limits the targets; FUZZ_JOBS (default 1) sets -fork (parallel children);
#   FUZZ_OUT (default fuzz/build) is the build and work directory.
#
# Needs clang and the compiler-rt fuzzer runtime (Debian: apt-get install clang-14 libclang-rt-14-dev).
# Crash inputs land in fuzz/build/artifacts/<target>/; copy them into
# fuzz/corpus/<target>/ once fixed so --replay keeps them fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(${FUZZ_TARGETS:-snapshot evaluator cohort regex})
mode=run
seconds=60
case "${1:-}" in
  --replay) mode=replay ;;
  --build) mode=build ;;
  "") ;;
  *) seconds="$1" ;;
esac

CXX="${FUZZ_CXX:-}"
if [ -z "$CXX" ]; then
  for c in clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
    if command -v "$c" >/dev/null; then CXX="$c"; break; fi
  done
fi
if [ -z "$CXX" ]; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

out="${FUZZ_OUT:-fuzz/build}"
mkdir -p "$out/obj"
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -Inative/core)
# Every Node-free source (native/core), compiled once (instrumented) and shared by all targets.
objs=()
for src in native/core/*.cc; do
  s=$(basename "$src" .cc)
  o="$out/obj/$s.o"
  if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find native/core -name '*.h' -newer "$o" 2>/dev/null | head -1)" ]; then
    "$CXX" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$src" -o "$o"
  fi
  objs+=("$o")
done
for t in "${targets[@]}"; do
  bin="$out/fuzz_$t"
  if [ ! -f "$bin" ] || [ "fuzz/fuzz_$t.cc" -nt "$bin" ] || [ fuzz/fuzz_host.h -nt "$bin" ] ||
     [ -n "$(find "${objs[@]}" -newer "$bin" | head -1)" ]; then
    "$CXX" "${flags[@]}" "fuzz/fuzz_$t.cc" "${objs[@]}" -o "$bin"
  fi
done
[ "$mode" = build ] && exit 0

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Inputs up to 1 MB; a 2 GB allocation is a finding, not an OOM of the fuzzer.
common=(-max_len=1048576 -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)

status=0
for t in "${targets[@]}"; do
  seeds="fuzz/corpus/$t"
  if [ "$mode" = replay ]; then
    echo "== replay $t: $(ls "$seeds" | wc -l) inputs"
    # -runs=0 with directories: execute every input once, then exit.
    if "$out/fuzz_$t" "${common[@]}" -runs=0 "$seeds" >"$out/replay-$t.log" 2>&1; then
      tail -n 1 "$out/replay-$t.log"
    else
      tail -n 60 "$out/replay-$t.log"
      echo "== replay $t FAILED" >&2
      status=1
    fi
  else
    work="$out/corpus/$t"
    mkdir -p "$work" "$out/artifacts/$t"
    dict=fuzz/flags.dict
    [ "$t" = cohort ] && dict=fuzz/cohort.dict
    [ "$t" = regex ] && dict=fuzz/regex.dict
    echo "== fuzz $t for ${seconds}s"
    # Fork mode: one child at a time (one core), and a crash is recorded in
    # artifacts/ without ending the run, so one finding does not stop the others.
    "$out/fuzz_$t" "${common[@]}" -max_len=65536 -max_total_time="$seconds" -fork="${FUZZ_JOBS:-1}" \
      -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -dict="$dict" -artifact_prefix="$out/artifacts/$t/" -print_final_stats=1 "$work" "$seeds" \
      >"$out/$t.log" 2>&1 || status=1
    tail -n 12 "$out/$t.log"
    ls "$out/artifacts/$t" 2>/dev/null | sed "s|^|   artifact: $out/artifacts/$t/|"
  fi
done
exit $status
