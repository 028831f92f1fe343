#!/usr/bin/env bash
# Stages this repository as the Bazel repository @cilium_jwt at <dest>:
#
#   bazel/stage.sh <dest>     e.g. bazel/stage.sh "$PROXY_TREE/cilium-jwt"
#
# <dest> gets the Cargo workspace (Cargo.toml, Cargo.lock, every member: rust-filter/,
# cpp-bridge/, ...), bazel/ plus bazel/cargo_manifests.bzl (the members' manifests as labels,
# for crates_repository), a WORKSPACE file, and the root BUILD.bazel
# (bazel/cilium_jwt.BUILD.bazel: the repository's root holds no BUILD file itself). cilium/proxy's WORKSPACE
# then declares it with local_repository(name = "cilium_jwt", path = "cilium-jwt") (patch
# cilium-patches/proxy/0002); tests/bazel/run.sh passes it with --override_repository.
# Build outputs (target/) are not copied. <dest> is replaced.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
dest="${1:?usage: bazel/stage.sh <dest>}"
case "$(cd "$(dirname "$dest")" 2>/dev/null && pwd -P)/" in
  "$src/"*) echo "stage.sh: <dest> must be outside the repository" >&2; exit 2 ;;
esac

tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$src/Cargo.toml" "$src/Cargo.lock" "$tmp/"
# Every workspace member, whole: cargo metadata (crate_universe) wants every declared target.
members="$(python3 -c 'import sys, tomllib; print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["workspace"]["members"]))' "$src/Cargo.toml")"
for dir in $members bazel; do
  (cd "$src" && tar --exclude=target --exclude='*.pyc' --exclude=__pycache__ \
    --exclude=rust-filter/fuzz/corpus --exclude=rust-filter/fuzz/artifacts -cf - "$dir") | (cd "$tmp" && tar -xf -)
done
cp "$src/bazel/cilium_jwt.BUILD.bazel" "$tmp/BUILD.bazel"
# crate_universe needs the manifest of every workspace member, as labels of the staged tree.
python3 - "$tmp" $members >"$tmp/bazel/cargo_manifests.bzl" <<'PY'
import os, sys
root, members = sys.argv[1], sys.argv[2:]
def label(path):
    # The package is the nearest directory (up to the root) with a BUILD file.
    pkg = os.path.dirname(path)
    while pkg and not any(os.path.exists(os.path.join(root, pkg, b)) for b in ("BUILD", "BUILD.bazel")):
        pkg = os.path.dirname(pkg)
    return f"@cilium_jwt//{pkg}:{os.path.relpath(path, pkg) if pkg else path}"
print('"""Written by bazel/stage.sh: the Cargo workspace manifests, for crates_repository."""')
print()
print("CARGO_MANIFESTS = [")
for path in ["Cargo.toml"] + [f"{m}/Cargo.toml" for m in members]:
    print(f'    "{label(path)}",')
print("]")
PY
cat >"$tmp/WORKSPACE" <<'WS'
# Staged by bazel/stage.sh: the matchJWT engine and its C++ bridge (@cilium_jwt).
workspace(name = "cilium_jwt")
WS
rm -rf "$dest"
mv "$tmp" "$dest"
