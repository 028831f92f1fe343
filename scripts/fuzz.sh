#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while (default 20 s each). Corpora grow under
# $CILIUM_JWT_HOME/fuzz-corpus; crashes fail the run. Longer runs: scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
seconds="${1:-20}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
# cargo-fuzz needs nightly-only flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then toolchain=(+nightly); else export RUSTC_BOOTSTRAP=1; fi
export CARGO_TARGET_DIR="$CILIUM_JWT_HOME/target-fuzz"
cd rust-filter
for target in token jwks extractor policy; do
  corpus="$CILIUM_JWT_HOME/fuzz-corpus/$target"
  mkdir -p "$corpus"
  echo "== fuzz $target for ${seconds}s"
  log="$CILIUM_JWT_HOME/fuzz-$target.log"
  if ! cargo "${toolchain[@]}" fuzz run "$target" "$corpus" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz target $target FAILED (artifacts in rust-filter/fuzz/artifacts/$target)"
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$log" || true
done
