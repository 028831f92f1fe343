#pragma once

// The C++ API of the cilium-jwt matchJWT engine. This is the only header C++ callers
// include; the types below the helpers come from the cxx bridge (cpp-bridge/src/lib.rs,
// generated into cilium_jwt/ffi.rs.h):
//
//   cilium_jwt::Engine              opaque engine: shared key set + verified-token caches
//   cilium_jwt::Requirement         opaque compiled requirement (keeps its engine alive)
//   cilium_jwt::JwtRequirementSpec  the fields of an NPDS JwtRequirement
//   cilium_jwt::Verdict             allowed / status / body / WWW-Authenticate / rewrites
//   cilium_jwt::new_engine()        throws rust::Error if the engine cannot start
//   Engine::requirement(spec)       throws rust::Error naming the invalid field
//   Requirement::check(path, hdrs)  thread-safe; never throws; blocks at most the engine's
//                                   max_wait while the key set is being fetched
//
// Everything here is safe to call from any thread.

#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "cilium_jwt/ffi.rs.h" // IWYU pragma: export
#include "rust/cxx.h"          // IWYU pragma: export

namespace cilium_jwt {

// Bytes of a string for the bridge (no copy, no UTF-8 check: header values may be
// obs-text, and rust::Str would throw on them).
inline ::rust::Slice<const std::uint8_t> bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// A header entry for Requirement::check(); both views must outlive the call.
inline HeaderView headerView(std::string_view name, std::string_view value) noexcept {
  return HeaderView{bytes(name), bytes(value)};
}

// A view of a string returned by the bridge.
inline std::string_view view(const ::rust::String& text) noexcept {
  return {text.data(), text.size()};
}

// Request headers collected for one check. Holds views only: the strings they point
// to must outlive check().
class RequestHeaders {
public:
  void add(std::string_view name, std::string_view value) {
    entries_.push_back(headerView(name, value));
  }
  ::rust::Slice<const HeaderView> slice() const noexcept {
    return {entries_.data(), entries_.size()};
  }
  size_t size() const noexcept { return entries_.size(); }

private:
  std::vector<HeaderView> entries_;
};

// Checks a request against `requirement`; see Requirement::check().
inline Verdict check(const Requirement& requirement, std::string_view path,
                     const RequestHeaders& headers) {
  return requirement.check(bytes(path), headers.slice());
}

// Settings of the proxy's engine. Checks run on Envoy worker threads and block while a key
// set is being fetched (first use after a policy update, unknown kid, identity provider
// down), so the wait is bounded at 1 s rather than the engine's default 3 s: a request that
// finds no keys within it is denied with "Jwks remote fetch is failed" while the fetch
// itself goes on (up to 3 s) and serves the requests after it.
inline constexpr EngineSettings kProxyEngineSettings{/*fetch_timeout_ms=*/3000, /*max_wait_ms=*/1000};

// The process-wide engine of the proxy, created on first use (thread-safe): every policy and
// every worker shares its key set cache and verified-token cache. Throws rust::Error if the
// engine cannot start (the next call tries again). Never destroyed: requirements may outlive
// static destructors at exit.
inline const Engine& processEngine() {
  static const Engine* const engine = new_engine(kProxyEngineSettings).into_raw();
  return *engine;
}

// Milliseconds of a google.protobuf.Duration for JwtRequirementSpec.cache_duration_ms;
// negative values become 0 and too large ones saturate, so that the engine rejects them
// (it accepts 30 s to 24 h) instead of silently using a wrapped value.
inline std::uint64_t durationMillis(std::int64_t seconds, std::int32_t nanos) noexcept {
  if (seconds < 0 || nanos < 0) {
    return 0;
  }
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  if (static_cast<std::uint64_t>(seconds) > max / 1000 - 1) {
    return max;
  }
  return static_cast<std::uint64_t>(seconds) * 1000 + static_cast<std::uint64_t>(nanos) / 1000000;
}

// Reads an NPDS cilium::JwtRequirement (cilium/api/npds.proto) into a spec. A template so
// that this header does not depend on the generated proto code; it uses exactly the
// accessors protoc generates for that message. Strings that are not UTF-8 (proto3 parsing
// already rejects them) are converted lossily rather than throwing.
template <class JwtRequirementProto>
JwtRequirementSpec specFromProto(const JwtRequirementProto& proto) {
  JwtRequirementSpec spec;
  spec.provider = static_cast<Provider>(static_cast<std::int32_t>(proto.provider()));
  spec.issuer = ::rust::String::lossy(proto.issuer());
  spec.jwks_uri = ::rust::String::lossy(proto.jwks_uri());
  for (const auto& audience : proto.audiences()) {
    spec.audiences.push_back(::rust::String::lossy(audience));
  }
  for (const auto& header : proto.from_headers()) {
    spec.from_headers.push_back(
        JwtHeader{::rust::String::lossy(header.name()), ::rust::String::lossy(header.value_prefix())});
  }
  for (const auto& param : proto.from_params()) {
    spec.from_params.push_back(::rust::String::lossy(param));
  }
  spec.forward = proto.forward();
  spec.has_clock_skew = proto.has_clock_skew_seconds();
  spec.clock_skew_seconds = spec.has_clock_skew ? proto.clock_skew_seconds().value() : 0;
  spec.has_cache_duration = proto.has_cache_duration();
  spec.cache_duration_ms =
      spec.has_cache_duration
          ? durationMillis(proto.cache_duration().seconds(), proto.cache_duration().nanos())
          : 0;
  return spec;
}

// Envoy jwt_authn's response code details for a failure message:
// "jwt_authn_access_denied{Jwt_is_missing}" (white space replaced, as
// StringUtil::replaceAllEmptySpace does, for log processors splitting on spaces).
inline std::string responseCodeDetails(std::string_view message) {
  std::string details = "jwt_authn_access_denied{";
  for (char c : message) {
    details.push_back(std::isspace(static_cast<unsigned char>(c)) ? '_' : c);
  }
  details.push_back('}');
  return details;
}

// The local reply for a denial, as Envoy's jwt_authn filter sends it.
struct LocalReply {
  // HTTP status: 401, or 403 when no audience is allowed.
  std::uint16_t status;
  // Body: jwt_authn's status message, e.g. "Jwt is missing".
  std::string body;
  // WWW-Authenticate header value: Bearer realm="<request URI>"[, error="invalid_token"].
  std::string www_authenticate;
  // Response code details, e.g. jwt_authn_access_denied{Jwt_is_missing}.
  std::string details;
};

// The reply for a denied verdict. An allowed verdict has no reply (status 200, rest empty).
inline LocalReply localReply(const Verdict& verdict) {
  if (verdict.allowed) {
    return LocalReply{200, "", "", ""};
  }
  return LocalReply{verdict.status, std::string(view(verdict.body)),
                    std::string(view(verdict.www_authenticate)),
                    responseCodeDetails(view(verdict.body))};
}

} // namespace cilium_jwt
