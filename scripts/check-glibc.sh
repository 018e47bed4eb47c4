#!/bin/sh
# Check Linux prebuilds for portability:
#   - no symbol needs a glibc version above $MAX (default 2.28, Node 20's own floor)
#   - libstdc++ is not linked dynamically (it is linked in with -static-libstdc++)
#   - only the Node-API entry points are exported
# usage: sh scripts/check-glibc.sh [file.node ...]   (default: prebuilds/linux-*/*.glibc.node)
# Needs objdump (binutils); it reads aarch64 ELF files too.
set -u
MAX=${MAX:-2.28}
if [ $# -eq 0 ]; then
  set -- prebuilds/linux-*/*.glibc.node
  [ -e "$1" ] || { echo "check-glibc: no Linux prebuilds in prebuilds/linux-*/" >&2; exit 1; }
fi
command -v objdump >/dev/null 2>&1 || { echo "check-glibc: objdump not found (apt-get install binutils)" >&2; exit 2; }
rc=0
for f in "$@"; do
  dyn=$(objdump -T "$f" 2>&1) || { echo "FAIL $f: objdump -T failed: $dyn"; rc=1; continue; }
  hdr=$(objdump -p "$f")
  hi=$(printf '%s\n' "$dyn" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sed 's/GLIBC_//' | sort -uV | tail -1)
  hi=${hi:-none}
  bad=0
  if [ "$hi" != none ] && [ "$(printf '%s\n%s\n' "$hi" "$MAX" | sort -V | tail -1)" != "$MAX" ]; then
    echo "FAIL $f needs GLIBC_$hi (> $MAX); symbols above $MAX:"
    printf '%s\n' "$dyn" | awk -v max="$MAX" '
      match($0, /GLIBC_[0-9.]+/) {
        v = substr($0, RSTART + 6, RLENGTH - 6); split(v, a, "."); split(max, b, ".")
        if (a[1] > b[1] || (a[1] == b[1] && a[2] + 0 > b[2] + 0)) print "    " v "  " $NF
      }' | sort -u
    echo "    -> add a shim for these to native/compat/glibc_compat.c"
    bad=1
  fi
  needed=$(printf '%s\n' "$hdr" | awk '$1 == "NEEDED" { printf "%s ", $2 }')
  case "$needed" in
    *libstdc++*) echo "FAIL $f links libstdc++ dynamically (NEEDED: $needed)"; bad=1 ;;
  esac
  exports=$(printf '%s\n' "$dyn" | awk '$2 == "g" && $4 != "*UND*" { print $NF }' | sort -u | tr '\n' ' ')
  nexp=$(printf '%s\n' "$dyn" | awk '$2 == "g" && $4 != "*UND*"' | wc -l)
  if [ "$nexp" -gt 2 ]; then
    echo "FAIL $f exports $nexp symbols (expected only the Node-API entry points): $(echo "$exports" | cut -c1-300)"
    bad=1
  fi
  # Undefined, unversioned and not weak: only Node-API's functions, which the host process defines. Anything else
  # (a glibc_compat.c shim whose .symver was lost, say) fails at load time under LD_BIND_NOW, or at first call.
  unbound=$(printf '%s\n' "$dyn" | awk '/\*UND\*/ && /[ \t]Base[ \t]/ && $2 != "w" && $NF !~ /^(napi_|node_api_)/ { print $NF }' | sort -u | tr '\n' ' ')
  [ -n "$unbound" ] && { echo "FAIL $f has undefined symbols nothing will define: $(echo "$unbound" | cut -c1-300)"; bad=1; }
  gxx=$(printf '%s\n' "$dyn" | grep -oE '(GLIBCXX|CXXABI)_[0-9.]+' | sort -uV | tail -1)
  [ -n "$gxx" ] && { echo "FAIL $f references $gxx symbols (dynamic libstdc++)"; bad=1; }
  if [ $bad -eq 0 ]; then
    echo "ok   $f max GLIBC_$hi, NEEDED: ${needed:-none}, exports: $exports"
  else
    rc=1
  fi
done
exit $rc
