#!/usr/bin/env bash
# Builds and tests the C++ bridge with Bazel 4 (Debian bazel-bootstrap), offline:
#
#   1. cargo builds the Rust static library (engine + bridge Rust side + cxx runtime);
#   2. bazel/stage.sh stages the repository as @cilium_jwt (as for cilium/proxy);
#   3. bazel test: the bridge tests, linked like cilium/proxy links the bridge
#      (cpp-bridge/bridge.bzl, @cilium_jwt//cpp-bridge:headers, committed cxxbridge
#      output), and @cilium_jwt//cpp-bridge:generated_test (cxxbridge drift check);
#   4. proves the drift check fails: the same test on a stage whose generated .cc was
#      altered must fail.
#
# Output base, stage and archive live under $CILIUM_JWT_HOME/bazel/<checkout> (kept between runs).
# Environment: CILIUM_JWT_HOME, BAZEL (default bazel-4, else bazel), CXXBRIDGE,
# BAZEL_FLAGS (extra flags, e.g. --spawn_strategy=local where sandboxing is unavailable).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$repo"
. scripts/env.sh
start=$(date +%s)
step() { printf '\n== %s\n' "$*"; }

# An output base belongs to one workspace directory: one per checkout.
work="$CILIUM_JWT_HOME/bazel/$(pwd -P | sha256sum | cut -c1-12)"
stage="$work/stage/cilium-jwt"
drift_stage="$work/stage-drift/cilium-jwt"
archive="$work/cargo-archive"
mkdir -p "$work"

bazel="${BAZEL:-$(command -v bazel-4 || command -v bazel)}"
want_cxx="$(sed -n 's/^cxx = "=\([0-9.]*\)".*/\1/p' cpp-bridge/Cargo.toml)"
cxxbridge="${CXXBRIDGE:-$CILIUM_JWT_HOME/tools/cxxbridge-$want_cxx/bin/cxxbridge}"
if [ ! -x "$cxxbridge" ]; then
  echo "run.sh: cxxbridge $want_cxx not found at $cxxbridge (scripts/setup.sh installs it)" >&2
  exit 2
fi

startup=(--nohome_rc --nosystem_rc "--output_base=$work/output_base" --max_idle_secs=120)
# Debian's bazel-bootstrap keeps its install base in /usr/share/bazel and reads it from
# /etc/bazel/bazelrc, which Bazel 4 itself does not load (it reads /etc/bazel.bazelrc).
if [ -f /usr/share/bazel/A-server.jar ]; then
  startup+=(--install_base=/usr/share/bazel --trust_install_base)
fi
flags=(
  --experimental_repository_disable_download # offline: every repository is local
  --host_javabase=@local_jdk//:jdk
  --symlink_prefix=/ # no bazel-* links in the source tree
  --jobs=2 --local_cpu_resources=2
  --compilation_mode=opt --copt=-g1
  --cxxopt=-std=c++20 --host_cxxopt=-std=c++20 # Envoy's standard; Bazel 4 defaults to c++0x
  "--override_repository=cilium_jwt=$stage"
  "--override_repository=cilium_jwt_cargo=$archive"
  "--test_env=CXXBRIDGE=$cxxbridge"
  --test_output=errors
)
read -r -a extra <<<"${BAZEL_FLAGS:-}"
flags+=("${extra[@]}")

step "cargo build -p cilium-jwt-bridge (Rust static library)"
cargo build --release --locked -p cilium-jwt-bridge

step "stage @cilium_jwt: $stage"
bazel/stage.sh "$stage"
# The archive as a local repository (cc_import), like rules_rust's rust_static_library
# provides it in the cilium/proxy build.
mkdir -p "$archive"
ln -sfn "$repo/target/release/libcilium_jwt_bridge.a" "$archive/libcilium_jwt_bridge.a"
echo 'workspace(name = "cilium_jwt_cargo")' >"$archive/WORKSPACE"
cat >"$archive/BUILD.bazel" <<'EOF'
# cargo build --release -p cilium-jwt-bridge (written by tests/bazel/run.sh).
cc_import(
    name = "archive",
    # Not alwayslink: the bridge's C++ pulls what it uses from the 100+ MB archive.
    static_library = "libcilium_jwt_bridge.a",
)

cc_library(
    name = "cilium_jwt_bridge_rs",
    # What the Rust standard library needs (cargo rustc -- --print native-static-libs).
    linkopts = ["-lpthread", "-ldl", "-lm", "-lrt", "-lutil"],
    visibility = ["//visibility:public"],
    deps = [":archive"],
)
EOF

cd tests/bazel
step "bazel test //:all_tests"
"$bazel" "${startup[@]}" test "${flags[@]}" //:all_tests

step "the drift check fails on altered generated files"
rm -rf "$(dirname "$drift_stage")"
mkdir -p "$(dirname "$drift_stage")"
cp -a "$stage" "$drift_stage"
echo "// drift" >>"$drift_stage/cpp-bridge/generated/cilium_jwt/ffi.rs.cc"
set +e
"$bazel" "${startup[@]}" test "${flags[@]}" "--override_repository=cilium_jwt=$drift_stage" \
  @cilium_jwt//cpp-bridge:generated_test >"$work/drift.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 3 ] || ! grep -q "generated_test.*FAILED" "$work/drift.log"; then
  cat "$work/drift.log" >&2
  echo "run.sh: FAILED: the drift check did not fail on an altered ffi.rs.cc (bazel exit $rc)" >&2
  exit 1
fi
echo "generated_test fails on the altered stage, as it must (bazel exit 3)"

printf '\ntests/bazel/run.sh: OK (%ss)\n' "$(($(date +%s) - start))"
