#!/usr/bin/env bash
# The C++ half of the cxx bridge is generated from src/lib.rs by the cxxbridge CLI and
# committed under generated/ (Bazel and CMake compile those files; cargo never does).
#
#   cpp-bridge/generated.sh write   regenerate generated/ after changing src/lib.rs
#   cpp-bridge/generated.sh check   fail if generated/ differs from cxxbridge's output
#
# cxxbridge must be the version of the `cxx` crate in Cargo.lock (a different version can
# emit different code); it is taken from $CXXBRIDGE, else PATH, else where
# scripts/setup.sh installs it ($CILIUM_JWT_HOME/tools/cxxbridge-<version>/bin).
# Usable from Bazel: `check` also accepts the three inputs as arguments
#   generated.sh check <lib.rs> <ffi.rs.h> <ffi.rs.cc> <cxx.h>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
mode="${1:-}"
shift || true

lib_rs="${1:-$here/src/lib.rs}"
header="${2:-$here/generated/cilium_jwt/ffi.rs.h}"
source_cc="${3:-$here/generated/cilium_jwt/ffi.rs.cc}"
cxx_h="${4:-$here/generated/rust/cxx.h}"

# The cxx version the bridge is built with (Cargo.lock when available, else Cargo.toml's pin).
want=""
if [ -f "$here/../Cargo.lock" ]; then
  want="$(awk '/^name = "cxx"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$here/../Cargo.lock")"
fi
if [ -z "$want" ] && [ -f "$here/Cargo.toml" ]; then
  want="$(sed -n 's/^cxx = "=\([0-9.]*\)".*/\1/p' "$here/Cargo.toml")"
fi

tool="${CXXBRIDGE:-}"
if [ -z "$tool" ]; then
  if command -v cxxbridge >/dev/null 2>&1; then
    tool="$(command -v cxxbridge)"
  elif [ -n "$want" ]; then
    tool="${CILIUM_JWT_HOME:-$HOME/.cache/cilium-jwt}/tools/cxxbridge-$want/bin/cxxbridge"
  fi
fi
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
  echo "generated.sh: cxxbridge${want:+ $want} not found (set CXXBRIDGE, or run scripts/setup.sh:" >&2
  echo "  cargo install cxxbridge-cmd --version ${want:-<cxx version>} --locked)" >&2
  # ctest marks the check skipped (not passed) when the tool is absent; test.sh and
  # tests/bazel/run.sh require it.
  [ "${CXXBRIDGE_MISSING_OK:-0}" = 1 ] && exit 77
  exit 2
fi
have="$("$tool" --version | awk '{print $2}')"
if [ -n "$want" ] && [ "$have" != "$want" ]; then
  echo "generated.sh: $tool is cxxbridge $have but the bridge uses cxx $want" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$tool" "$lib_rs" --header >"$tmp/ffi.rs.h"
"$tool" "$lib_rs" >"$tmp/ffi.rs.cc"
"$tool" --header >"$tmp/cxx.h"

case "$mode" in
  write)
    mkdir -p "$(dirname "$header")" "$(dirname "$cxx_h")"
    cp "$tmp/ffi.rs.h" "$header"
    cp "$tmp/ffi.rs.cc" "$source_cc"
    cp "$tmp/cxx.h" "$cxx_h"
    echo "generated.sh: wrote $header, $source_cc, $cxx_h (cxxbridge $have)"
    ;;
  check)
    status=0
    for pair in "ffi.rs.h:$header" "ffi.rs.cc:$source_cc" "cxx.h:$cxx_h"; do
      fresh="$tmp/${pair%%:*}" committed="${pair#*:}"
      if ! diff -u "$committed" "$fresh" >"$tmp/diff"; then
        echo "generated.sh: $committed differs from cxxbridge $have output:" >&2
        head -n 40 "$tmp/diff" >&2
        status=1
      fi
    done
    if [ "$status" -ne 0 ]; then
      echo "generated.sh: run cpp-bridge/generated.sh write and commit generated/" >&2
      exit 1
    fi
    echo "generated.sh: generated/ matches cxxbridge $have output for $(basename "$lib_rs")"
    ;;
  *)
    echo "usage: generated.sh write|check [lib.rs ffi.rs.h ffi.rs.cc cxx.h]" >&2
    exit 2
    ;;
esac
