"""Macros that assemble the bridge library and its tests from this package.

Native rules only (loadable by Bazel 4 and 7). The Rust static library is a parameter
because it is built differently by the two users of these macros:
  - cilium/proxy (bazel/cilium_jwt.BUILD.bazel): rules_rust's rust_static_library;
  - tests/bazel: cc_import of the archive cargo builds.
The bridge's C++ half (generated/cilium_jwt/ffi.rs.cc) is compiled here, once, in both.
"""

def cilium_jwt_bridge_library(name, rust_library, deps = [], **kwargs):
    """The C++ API of the engine: <cilium_jwt/bridge.h> plus everything it links.

    Args:
      name: target name.
      rust_library: the static library holding the engine and the bridge's Rust side
        (crate cilium-jwt-bridge) and cxx's C++ runtime (cxx.cc).
      deps: further dependencies (e.g. cxx's runtime when built as its own cc_library).
        They are linked before `rust_library`: with an order-sensitive linker (GNU ld)
        the single cxx.o is then pulled in by the bridge's references, and the Rust
        archive after it resolves what both need.
      **kwargs: passed to cc_library (visibility, tags...).
    """
    native.cc_library(
        name = name,
        srcs = [Label("//cpp-bridge:generated/cilium_jwt/ffi.rs.cc")],
        deps = [Label("//cpp-bridge:headers")] + deps + [rust_library],
        # No shared-library variant: its Rust symbols are only resolved at the final link.
        linkstatic = True,
        **kwargs
    )

def cilium_jwt_test_support(name, crypto, **kwargs):
    """Test helpers of cpp-bridge/tests/test_support.h: keys, tokens, a JWKS server.

    Args:
      name: target name.
      crypto: libcrypto to link: a label list (e.g. BoringSSL in Envoy), or [] with
        linkopts = ["-lcrypto"] for the system OpenSSL.
      **kwargs: passed to cc_library.
    """
    native.cc_library(
        name = name,
        testonly = True,
        srcs = [Label("//cpp-bridge:tests/test_support.cc")],
        hdrs = [Label("//cpp-bridge:tests/test_support.h")],
        deps = crypto,
        **kwargs
    )

def cilium_jwt_bridge_test(name, bridge, test_support, **kwargs):
    """cpp-bridge/tests/bridge_test.cc as a cc_test (gtest_main from `deps`)."""
    native.cc_test(
        name = name,
        srcs = [
            Label("//cpp-bridge:tests/bridge_test.cc"),
            Label("//cpp-bridge:tests/test_support.h"),
        ],
        deps = [bridge, test_support] + kwargs.pop("deps", []),
        **kwargs
    )
