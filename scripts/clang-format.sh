#!/bin/sh
# clang-format over the C++ sources (native/, fuzz/, scripts/musl/): --write rewrites them, --check lists the ones that differ
# and fails. Uses clang-format, or Debian's clang-format-14 (apt-get install clang-format-14).
set -eu
cd "$(dirname "$0")/.."
mode=${1:---check}
CF=$(command -v clang-format || command -v clang-format-14 || true)
if [ -z "$CF" ]; then
  echo "clang-format not found: install it (Debian/Ubuntu: apt-get install clang-format-14; macOS: brew install clang-format)" >&2
  exit 1
fi
files=$(find native fuzz scripts/musl -name '*.cc' -o -name '*.h' | sort)
case "$mode" in
  --write) "$CF" -i --style=file $files ;;
  --check) "$CF" --dry-run -Werror --style=file $files ;;
  *) echo "usage: $0 --write|--check" >&2; exit 2 ;;
esac
