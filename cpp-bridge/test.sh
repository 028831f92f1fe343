#!/usr/bin/env bash
# Builds and tests the C++ side of the bridge twice, as CI does:
#   1. normal build         ($CILIUM_JWT_HOME/build/<checkout>/cpp-bridge)
#   2. ASan + UBSan build   ($CILIUM_JWT_HOME/build/<checkout>/cpp-bridge-asan, -DCILIUM_JWT_SANITIZE=ON)
# plus the bridge crate's Rust unit tests. Build directories live outside the repository
# and are kept between runs (a warm run only re-runs cargo's freshness check and ctest).
#
# Environment: CILIUM_JWT_HOME (default ~/.cache/cilium-jwt), JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
jobs="${JOBS:-$(nproc)}"
start=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

step "cxxbridge output is current (generated/)"
cpp-bridge/generated.sh check

step "cargo test -p cilium-jwt-bridge"
cargo test --release --locked -p cilium-jwt-bridge --lib

# CMake caches are bound to their source directory: one build tree per checkout.
checkout="$(pwd -P | sha256sum | cut -c1-12)"
for variant in normal sanitize; do
  build="$CILIUM_JWT_HOME/build/$checkout/cpp-bridge"
  flags=()
  if [ "$variant" = sanitize ]; then
    build="$build-asan"
    flags=(-DCILIUM_JWT_SANITIZE=ON)
  fi
  step "cmake ($variant): $build"
  cmake -S cpp-bridge -B "$build" "${flags[@]}" >/dev/null
  cmake --build "$build" -j "$jobs"
  step "ctest ($variant)"
  ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 180
done

printf '\ncpp-bridge/test.sh: OK (%ss)\n' "$(($(date +%s) - start))"
