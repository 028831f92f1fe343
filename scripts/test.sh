#!/usr/bin/env bash
# Runs every test of the project: the README's test command (`make test`) and CI's job.
# Each step prints its wall time; the summary at the end lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

summary=()
run_step() {
  local name="$1"; shift
  printf '\n======== %s\n' "$name"
  local start=$SECONDS
  if "$@"; then
    summary+=("ok    $(printf '%4ds' $((SECONDS - start)))  $name")
  else
    summary+=("FAIL  $(printf '%4ds' $((SECONDS - start)))  $name")
    printf '\n%s\n' "${summary[@]}"
    echo "FAILED: $name"
    exit 1
  fi
}

pytest() { "$CILIUM_JWT_VENV/bin/pytest" -q "$@"; }

run_step "rust: format and lints" bash -c 'cargo fmt --all --check && cargo clippy --release --workspace --all-targets --locked -q -- -D warnings'
run_step "rust: unit and integration tests" cargo test --release --workspace --locked -q
run_step "rust: benchmarks compile" cargo bench --workspace --locked --no-run -q
run_step "differential: cilium-jwt check vs Envoy jwt_authn" pytest tests/differential
run_step "e2e: Envoy + our module + local IdP" pytest tests/e2e
run_step "c++: cxx bridge, GoogleTest (plain and ASan+UBSan)" cpp-bridge/test.sh
run_step "bazel: bridge workspace and generated-files drift" tests/bazel/run.sh
run_step "cilium patches: apply, generate, build, test, validate manifests" cilium-patches/verify.sh
run_step "cilium/proxy C++ patches: apply, format, labels" cilium-patches/verify-proxy-cpp.sh
run_step "fuzz: every target, ${FUZZ_SECONDS:-20}s each" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

printf '\n%s\n' "${summary[@]}"
echo "ALL TESTS PASSED"
