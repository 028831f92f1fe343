"""crate_universe wiring of @cilium_jwt for the cilium/proxy WORKSPACE build.

Usage (cilium/proxy WORKSPACE, after envoy_dependency_imports(), which sets up rules_rust
and crate_universe; added by cilium-patches/proxy/0002):

    local_repository(name = "cilium_jwt", path = "cilium-jwt")
    load("@cilium_jwt//bazel:crates.bzl", "cilium_jwt_crate_repositories")
    cilium_jwt_crate_repositories()
    load("@cilium_jwt_crate_index//:defs.bzl", cilium_jwt_crates = "crate_repositories")
    cilium_jwt_crates()

The crate versions are those of this repository's Cargo.lock; the manifests of all workspace
members (crate_universe wants every one) are listed in cargo_manifests.bzl by bazel/stage.sh.
The rendering lock (bazel/cilium_jwt.Cargo.Bazel.lock) is written by crate_universe itself
and cannot be made on the development machine; (re)generate it whenever Cargo.lock changes,
as cilium/proxy does for its own index (Makefile target cargo-repin):

    CARGO_BAZEL_REPIN=workspace CARGO_BAZEL_REPIN_ONLY=cilium_jwt_crate_index \\
        bazel sync --only=cilium_jwt_crate_index
"""

load("@rules_rust//crate_universe:defs.bzl", "crate", "crates_repository")
load(":cargo_manifests.bzl", "CARGO_MANIFESTS")  # written by bazel/stage.sh

# cxx's C++ runtime (src/cxx.cc) as a cc_library, compiled with the proxy's C++ toolchain
# and standard library (libc++ or libstdc++), instead of by cxx's build script with
# whatever compiler defaults the build script sees. The header is included by cxx.cc as
# "../include/cxx.h"; C++ callers get rust/cxx.h from @cilium_jwt//cpp-bridge:headers.
_CXX_CC = """
cc_library(
    name = "cxx_cc",
    srcs = ["src/cxx.cc"],
    hdrs = ["include/cxx.h"],
    linkstatic = True,
    visibility = ["//visibility:public"],
)
"""

def cilium_jwt_crate_repositories():
    """Declares @cilium_jwt_crate_index, the crates of Cargo.lock for rules_rust."""
    crates_repository(
        name = "cilium_jwt_crate_index",
        cargo_lockfile = "@cilium_jwt//:Cargo.lock",
        lockfile = "@cilium_jwt//bazel:cilium_jwt.Cargo.Bazel.lock",
        manifests = CARGO_MANIFESTS,
        annotations = {
            "cxx": [crate.annotation(
                additive_build_file_content = _CXX_CC,
                extra_aliased_targets = {"cxx_cc": "cxx_cc"},
                # The runtime is :cxx_cc above; the build script would compile it again.
                gen_build_script = "off",
            )],
            # Its build script only adds -lstdc++, wrong with libc++ and redundant otherwise.
            "link-cplusplus": [crate.annotation(gen_build_script = "off")],
        },
        supported_platform_triples = [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
        ],
    )
