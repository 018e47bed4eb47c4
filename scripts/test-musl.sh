#!/bin/sh
# Verify the musl (Alpine) prebuilds as far as a glibc x64 host allows (no musl Node here):
#   1. each prebuilds/linux-{x64,arm64}/*.musl.node: the right ELF machine, no glibc symbol
#      versions, nothing NEEDED but musl's libc (the musl loader resolves "libc.so" to itself),
#      only the Node-API entry points exported; and it loads (dlopen, initializers run) in a small
#      program run by musl's own dynamic loader (Debian's musl package; arm64 under qemu);
#   2. the engine core (native/core), built with the same Zig toolchain as static musl
#      executables, replays the fuzz corpus (fuzz/corpus/*, every input through each
#      libFuzzer harness) and the conformance corpus (every flag payload x user, the
#      evaluator's full trace), x64 natively and arm64 under qemu-aarch64-static; the
#      conformance output must equal the host glibc build's byte for byte.
# usage: sh scripts/test-musl.sh [x64] [arm64]      (default both; builds what is missing)
# env:   REBUILD=1 rebuilds the prebuilds; MUSL_OUT (default build-musl-core) for the executables
# Needs: binutils (readelf, objdump), g++ (the reference build), musl (Debian's, for its loader);
#        for arm64 also qemu-user-static and musl:arm64 (dpkg --add-architecture arm64).
set -eu
cd "$(dirname "$0")/.."
T0=$(date +%s)
ARCHES=${*:-x64 arm64}
OUT=${MUSL_OUT:-build-musl-core}
say() { echo "test-musl: $*"; }
fail() { echo "test-musl: FAIL $*" >&2; exit 1; }
ZIG=$(sh scripts/zig.sh)
mkdir -p "$OUT"

# ---- 1. the prebuilds --------------------------------------------------------
for arch in $ARCHES; do
  f=prebuilds/linux-$arch/amplitude-experiment-native.musl.node
  if [ ! -f "$f" ] || [ "${REBUILD:-0}" = 1 ]; then
    say "building $f"
    nice node scripts/prebuild.js --libc musl --arch "$arch"
  fi
  case $arch in x64) machine='Advanced Micro Devices X86-64' ;; arm64) machine=AArch64 ;; esac
  readelf -h "$f" | grep -q "Machine:.*$machine" || fail "$f is not $machine: $(readelf -h "$f" | grep Machine)"
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  for lib in $needed; do
    case $lib in libc.so | libc.musl-*.so.1 | ld-musl-*.so.1) ;; *) fail "$f needs $lib (only musl's libc may be needed)" ;; esac
  done
  glibc=$(objdump -T "$f" | grep -oE '(GLIBC|GLIBCXX|CXXABI)_[0-9.]+' | sort -u | tr '\n' ' ')
  [ -z "$glibc" ] || fail "$f has glibc symbol versions: $glibc"
  exports=$(objdump -T "$f" | awk '$2 == "g" && $4 != "*UND*" { print $NF }' | sort -u | tr '\n' ' ')
  [ "$exports" = "napi_register_module_v1 node_api_module_get_api_version_v1 " ] || fail "$f exports: $exports"
  say "ok   $f: $machine, NEEDED: ${needed:-none}, no glibc versions, exports: $exports($(wc -c < "$f") bytes)"
  # musl's own dynamic loader (Debian's musl 1.2.3) loads it the way Node does (dlopen): its libc imports
  # resolve, its initializers run. The Node-API imports come from stubs in the host program.
  case $arch in
    x64) triple=x86_64-linux-musl run= ldso=/lib/ld-musl-x86_64.so.1 pkg=musl ;;
    arm64) triple=aarch64-linux-musl run=qemu-aarch64-static ldso=/lib/ld-musl-aarch64.so.1 pkg='musl:arm64 (after dpkg --add-architecture arm64)' ;;
  esac
  [ -e "$ldso" ] || fail "$ldso not found (apt-get install $pkg)"
  stubs="$OUT/napi_stubs_$arch.c"
  { echo '#include <stdlib.h>'; objdump -T "$f" | awk '/\*UND\*/ && $NF ~ /^(napi_|node_api_)/ { print "void " $NF "(void) { abort(); }" }'; } > "$stubs"
  nice "$ZIG" build-exe -target "$triple" -dynamic -lc -rdynamic scripts/musl/load_check.c "$stubs" -femit-bin="$OUT/load_check_$arch"
  loaded=$($run "$OUT/load_check_$arch" "$f") || fail "$f does not load with musl's dynamic loader"
  say "ok   $f under musl's dynamic loader ($ldso): $loaded"
done

# ---- 2. the core as static musl executables ---------------------------------
core_sources=$(ls native/core/*.cc)
build_core() { # <out dir> <compiler...>: objects once, then the four executables
  dir=$1
  shift
  mkdir -p "$dir"
  objs=""
  for s in $core_sources; do
    o="$dir/$(basename "$s" .cc).o"
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find native/core -name '*.h' -newer "$o" | head -1)" ]; then
      nice "$@" -std=c++17 -O2 -Inative/core -c "$s" -o "$o"
    fi
    objs="$objs $o"
  done
  for t in snapshot evaluator cohort; do
    nice "$@" -std=c++17 -O2 -Inative/core -Ifuzz "fuzz/fuzz_$t.cc" scripts/musl/replay_main.cc $objs -o "$dir/fuzz_$t"
  done
  nice "$@" -std=c++17 -O2 -Inative/core -Ifuzz scripts/musl/conformance.cc $objs -o "$dir/conformance"
}
payloads="$(ls fuzz/corpus/snapshot/*.json) examples/flags.json"
users=$(ls fuzz/corpus/evaluator/*.json)
# ASan+UBSan in the reference: a memory bug in the core or in the drivers (reading freed memory
# happens to work with glibc's allocator, while musl's unmaps it) is reported here, with a stack.
say "reference: the core built with the host's g++ (glibc), ASan+UBSan"
build_core "$OUT/host" g++ -fsanitize=address,undefined -fno-sanitize-recover=undefined
"$OUT/host/conformance" $payloads -- $users > "$OUT/conformance.host.txt"
for arch in $ARCHES; do
  case $arch in x64) triple=x86_64-linux-musl run= ;; arm64) triple=aarch64-linux-musl run=qemu-aarch64-static ;; esac
  if [ -n "$run" ] && ! command -v "$run" >/dev/null; then fail "$run not found (apt-get install qemu-user-static)"; fi
  say "building the core for $triple (zig c++ -static)"
  build_core "$OUT/$arch" "$ZIG" c++ -target "$triple" -static
  exe="$OUT/$arch/conformance"
  # static: no program interpreter and no shared library needed
  if readelf -l "$exe" | grep -q INTERP || readelf -d "$exe" 2>/dev/null | grep -q NEEDED; then
    fail "$exe is not a static executable"
  fi
  for t in snapshot evaluator cohort; do
    printf 'test-musl: %s fuzz_%s: ' "$arch" "$t"
    $run "$OUT/$arch/fuzz_$t" "fuzz/corpus/$t" || fail "$arch fuzz_$t replay"
  done
  $run "$exe" $payloads -- $users > "$OUT/conformance.$arch.txt"
  cmp -s "$OUT/conformance.host.txt" "$OUT/conformance.$arch.txt" ||
    { diff "$OUT/conformance.host.txt" "$OUT/conformance.$arch.txt" | head -5; fail "$arch conformance output differs from the host build"; }
  say "ok   $arch: fuzz corpus replayed, conformance identical to the host build ($(wc -l < "$OUT/conformance.$arch.txt") lines)"
done
say "PASS ($(( $(date +%s) - T0 )) s)"
