#!/bin/sh
# Build every Linux prebuild a linux-x64 host can build, into prebuilds/ (prebuildify's layout):
#   linux-x64 glibc (host g++), linux-arm64 glibc (Debian's g++-aarch64-linux-gnu),
#   linux-x64 musl and linux-arm64 musl (the pinned Zig toolchain, scripts/zig.sh);
# then check them: the glibc baseline (scripts/check-glibc.sh) and the musl checks
# (scripts/test-musl.sh, which also replays the corpora on the core built with Zig).
# macOS and Windows prebuilds come from the GitHub workflow (.github/workflows/ci.yml).
# usage: sh scripts/prebuilds-all.sh        (npm run prebuilds:all)
# Needs: cmake, g++, g++-aarch64-linux-gnu, binutils, qemu-user-static (for the arm64 replay).
set -eu
cd "$(dirname "$0")/.."
T0=$(date +%s)
nice node scripts/prebuild.js
nice node scripts/prebuild.js --arch arm64
nice node scripts/prebuild.js --libc musl --arch x64
nice node scripts/prebuild.js --libc musl --arch arm64
sh scripts/check-glibc.sh
sh scripts/test-musl.sh
ls -l prebuilds/linux-*/
echo "prebuilds-all: PASS ($(( $(date +%s) - T0 )) s)"
