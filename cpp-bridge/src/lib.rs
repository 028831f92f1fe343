//! # cilium-jwt-bridge
//!
//! The C++ face of the [`cilium_jwt`] engine, for cilium-envoy's `cilium.l7policy` /
//! NPDS code. C++ includes only `cilium_jwt/bridge.h` (under `include/`), which pulls in
//! the header `cxxbridge` generates from the [`ffi`] module below.
//!
//! - [`ffi::new_engine`] starts an engine (one per process in the proxy: its key set
//!   cache and verified-token cache are shared by all workers and all policies);
//! - [`Engine::requirement`] compiles the fields of an NPDS `JwtRequirement`
//!   ([`ffi::JwtRequirementSpec`]); an invalid spec is an error naming the proto field,
//!   which cxx turns into a `rust::Error` exception;
//! - [`Requirement::check`] authenticates one request (thread-safe, blocking at most the
//!   engine's `max_wait` while keys are fetched) and returns an [`ffi::Verdict`] with
//!   Envoy `jwt_authn`'s status, body and `WWW-Authenticate`.
//!
//! No panic crosses the boundary (cxx would abort the proxy): every entry point runs
//! under [`std::panic::catch_unwind`] and maps a panic to an error or a denial.

#![warn(missing_docs)]

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use cilium_jwt::{ConfigError, EngineOptions, MatchJwt, Request, Status};
use serde_json::{Map, Value, json};

/// Field path prefix of errors about a spec: the NPDS field holding the requirement.
pub const SPEC_PATH: &str = "jwt_requirement";

/// The types and functions shared with C++ (namespace `cilium_jwt`).
#[cxx::bridge(namespace = "cilium_jwt")]
pub mod ffi {
    /// Kind of identity provider, numbered as NPDS' `JwtRequirement.Provider`.
    #[derive(Debug)]
    #[repr(i32)]
    enum Provider {
        /// Any OpenID Connect provider.
        Oidc = 0,
        /// Auth0.
        Auth0 = 1,
        /// SPIRE (JWT-SVIDs; `sub` must be a SPIFFE ID).
        Spire = 2,
    }

    /// A request header a token may be read from (NPDS `JwtHeader`).
    #[derive(Clone, Debug)]
    struct JwtHeader {
        /// Header name.
        name: String,
        /// Text preceding the token in the value, e.g. `Bearer `; empty: the whole value.
        value_prefix: String,
    }

    /// The fields of an NPDS `JwtRequirement`, as C++ reads them from the proto.
    #[derive(Clone, Debug)]
    struct JwtRequirementSpec {
        /// Kind of identity provider.
        provider: Provider,
        /// Required `iss`.
        issuer: String,
        /// URL of the provider's JSON Web Key Set.
        jwks_uri: String,
        /// Allowed audiences; empty allows any.
        audiences: Vec<String>,
        /// Headers to read the token from.
        from_headers: Vec<JwtHeader>,
        /// Query parameters to read the token from.
        from_params: Vec<String>,
        /// Keep the token in the forwarded request.
        forward: bool,
        /// Whether `clock_skew_seconds` is set (unset: 60 s).
        has_clock_skew: bool,
        /// Tolerance for `exp`/`nbf`, in seconds.
        clock_skew_seconds: u32,
        /// Whether `cache_duration_ms` is set (unset: 600 s).
        has_cache_duration: bool,
        /// How long a fetched key set is used, in milliseconds.
        cache_duration_ms: u64,
    }

    /// Engine-wide settings; 0 selects the engine's default.
    #[derive(Clone, Copy, Debug)]
    struct EngineSettings {
        /// Deadline of one key set HTTP request (default 3000).
        fetch_timeout_ms: u32,
        /// Longest a check waits for keys being fetched (default 3000).
        max_wait_ms: u32,
    }

    /// One request header entry, as bytes: HTTP allows non-UTF-8 values (obs-text), and
    /// building a `rust::Str` from them would throw on the request path.
    #[derive(Clone, Copy, Debug)]
    struct HeaderView<'a> {
        /// Header name (pseudo-headers such as `:authority` included).
        name: &'a [u8],
        /// Header value.
        value: &'a [u8],
    }

    /// A header to set on an allowed request before it is forwarded.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct HeaderValue {
        /// Header name (`:path` when a query parameter token is stripped).
        name: String,
        /// New value.
        value: String,
    }

    /// The decision for one request.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Verdict {
        /// Whether the request may proceed.
        allowed: bool,
        /// HTTP status: 200 allowed, 403 audience not allowed, else 401.
        status: u16,
        /// Local reply body of a denial (jwt_authn's message), empty when allowed.
        body: String,
        /// `WWW-Authenticate` of a denial, empty when allowed.
        www_authenticate: String,
        /// Headers to remove from an allowed request (its token, unless `forward`).
        remove_headers: Vec<String>,
        /// Headers to set on an allowed request.
        set_headers: Vec<HeaderValue>,
        /// Why it was denied, for access logs (the body, plus detail such as the last
        /// key set fetch error); empty when allowed.
        reason: String,
        /// Denied because no token was found (jwt_authn's `JwtMissed`): with several
        /// requirements, a token that was found and rejected explains more.
        missing: bool,
    }

    extern "Rust" {
        /// A JWT engine: shared key set and token caches plus the fetch thread.
        type Engine;
        /// A compiled requirement, bound to its engine.
        type Requirement;

        /// Starts an engine. Errors if its runtime or HTTP client cannot start.
        fn new_engine(settings: &EngineSettings) -> Result<Box<Engine>>;

        /// Compiles `spec`; identical specs share one compiled requirement and key set.
        /// Starts fetching the key set. Errors name the invalid field.
        fn requirement(self: &Engine, spec: &JwtRequirementSpec) -> Result<Box<Requirement>>;

        /// Authenticates a request (`path`: `:path` with its query).
        fn check(self: &Requirement, path: &[u8], headers: &[HeaderView]) -> Verdict;

        /// Waits at most `timeout_ms` for the first key set fetch; whether keys are usable.
        fn wait_for_keys(self: &Requirement, timeout_ms: u32) -> bool;
    }
}

/// An engine handle for C++ (one per process in the proxy).
pub struct Engine {
    inner: cilium_jwt::Engine,
}

/// A compiled requirement for C++; keeps its engine alive.
pub struct Requirement {
    engine: cilium_jwt::Engine,
    inner: Arc<cilium_jwt::Requirement>,
}

// C++ shares engines and requirements between Envoy worker threads.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Engine>();
    shareable::<Requirement>();
};

/// Runs `f`; a panic yields `fallback()` instead of unwinding into C++.
fn guard<T>(f: impl FnOnce() -> T, fallback: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| fallback())
}

/// Starts an engine with `settings` (0 = the engine's default).
pub fn new_engine(settings: &ffi::EngineSettings) -> Result<Box<Engine>, String> {
    guard(
        || {
            let mut options = EngineOptions::default();
            if settings.fetch_timeout_ms > 0 {
                options.fetch_timeout = Duration::from_millis(u64::from(settings.fetch_timeout_ms));
            }
            if settings.max_wait_ms > 0 {
                options.max_wait = Duration::from_millis(u64::from(settings.max_wait_ms));
            }
            cilium_jwt::Engine::new(options).map(|inner| Box::new(Engine { inner })).map_err(|e| e.to_string())
        },
        || Err("internal error starting the JWT engine".to_string()),
    )
}

impl Engine {
    /// Compiles `spec` (see [`match_jwt_from_spec`]).
    pub fn requirement(&self, spec: &ffi::JwtRequirementSpec) -> Result<Box<Requirement>, String> {
        guard(
            || {
                let config = match_jwt_from_spec(spec).map_err(|e| e.to_string())?;
                let inner = self.inner.requirement(&config);
                Ok(Box::new(Requirement { engine: self.inner.clone(), inner }))
            },
            || Err(format!("{SPEC_PATH}: internal error compiling the requirement")),
        )
    }
}

impl Requirement {
    /// Authenticates one request. Never panics; a bug inside is a denial.
    pub fn check(&self, path: &[u8], headers: &[ffi::HeaderView<'_>]) -> ffi::Verdict {
        guard(|| self.check_inner(path, headers), || internal_denial(path, headers))
    }

    fn check_inner(&self, path: &[u8], headers: &[ffi::HeaderView<'_>]) -> ffi::Verdict {
        let path = String::from_utf8_lossy(path);
        let owned = text_headers(headers);
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect();
        let verdict = self.engine.check(&self.inner, &Request::new(&path, &pairs));
        let detail = (verdict.status == Status::JwksFetchFail)
            .then(|| {
                let jwks = self.inner.jwks();
                jwks.last_error().map(|error| format!("{}: {error}", jwks.url()))
            })
            .flatten();
        to_ffi(verdict, detail)
    }

    /// Waits at most `timeout_ms` for the first fetch of this requirement's key set.
    pub fn wait_for_keys(&self, timeout_ms: u32) -> bool {
        guard(|| self.engine.wait_for_keys(&self.inner, Duration::from_millis(u64::from(timeout_ms))), || false)
    }
}

/// Header entries as text. Invalid UTF-8 is replaced (U+FFFD), which no token or
/// configured prefix contains, so such a value can only fail to authenticate.
fn text_headers<'h>(headers: &[ffi::HeaderView<'h>]) -> Vec<(Cow<'h, str>, Cow<'h, str>)> {
    headers.iter().map(|h| (String::from_utf8_lossy(h.name), String::from_utf8_lossy(h.value))).collect()
}

/// What a panic inside a check turns into: a denial, as jwt_authn fails closed.
fn internal_denial(path: &[u8], headers: &[ffi::HeaderView<'_>]) -> ffi::Verdict {
    let realm = guard(
        || {
            let path = String::from_utf8_lossy(path);
            let owned = text_headers(headers);
            let pairs: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect();
            Request::new(&path, &pairs).original_uri()
        },
        String::new,
    );
    let mut verdict = to_ffi(cilium_jwt::Verdict::deny(Status::JwtVerificationFail, &realm), None);
    verdict.reason = format!("{} (internal error in the JWT engine)", verdict.reason);
    verdict
}

fn to_ffi(verdict: cilium_jwt::Verdict, detail: Option<String>) -> ffi::Verdict {
    let allowed = verdict.allowed();
    let body = verdict.body().to_string();
    let reason = match detail {
        _ if allowed => String::new(),
        Some(detail) => format!("{body} ({detail})"),
        None => body.clone(),
    };
    ffi::Verdict {
        allowed,
        status: verdict.http_status(),
        body,
        www_authenticate: verdict.www_authenticate.unwrap_or_default(),
        remove_headers: verdict.remove_headers,
        set_headers: verdict.set_headers.into_iter().map(|(name, value)| ffi::HeaderValue { name, value }).collect(),
        reason,
        missing: verdict.status == Status::JwtMissed,
    }
}

/// Validates `spec` into the engine's requirement type. Errors name the NPDS field
/// (`jwt_requirement.jwks_uri: must be an absolute http(s) URL`).
///
/// The spec goes through the engine's own validator (the one behind `matchJWT` in
/// policies), so NPDS and CRD input obey exactly the same rules.
pub fn match_jwt_from_spec(spec: &ffi::JwtRequirementSpec) -> Result<MatchJwt, ConfigError> {
    let provider = match spec.provider {
        ffi::Provider::Oidc => "OIDC",
        ffi::Provider::Auth0 => "AUTH0",
        ffi::Provider::Spire => "SPIRE",
        other => {
            return Err(ConfigError {
                path: format!("{SPEC_PATH}.provider"),
                message: format!("unsupported value {}: must be one of OIDC (0), AUTH0 (1), SPIRE (2)", other.repr),
            });
        }
    };
    let mut object = Map::new();
    object.insert("provider".into(), json!(provider));
    object.insert("issuer".into(), json!(spec.issuer));
    object.insert("jwksUrl".into(), json!(spec.jwks_uri));
    object.insert("audiences".into(), json!(spec.audiences));
    let headers: Vec<Value> =
        spec.from_headers.iter().map(|h| json!({"name": h.name, "valuePrefix": h.value_prefix})).collect();
    object.insert("fromHeaders".into(), Value::Array(headers));
    object.insert("fromParams".into(), json!(spec.from_params));
    object.insert("forward".into(), json!(spec.forward));
    if spec.has_clock_skew {
        object.insert("clockSkewSeconds".into(), json!(spec.clock_skew_seconds));
    }
    if spec.has_cache_duration {
        object.insert("cacheDuration".into(), json!(format!("{}ms", spec.cache_duration_ms)));
    }
    MatchJwt::from_value(&Value::Object(object), SPEC_PATH).map_err(|mut error| {
        error.path = proto_field_path(&error.path);
        error
    })
}

/// Renames the policy (camelCase) field names in an error path to the NPDS proto names.
fn proto_field_path(path: &str) -> String {
    const NAMES: [(&str, &str); 6] = [
        ("jwksUrl", "jwks_uri"),
        ("fromHeaders", "from_headers"),
        ("valuePrefix", "value_prefix"),
        ("fromParams", "from_params"),
        ("clockSkewSeconds", "clock_skew_seconds"),
        ("cacheDuration", "cache_duration"),
    ];
    path.split('.')
        .map(|segment| {
            let (name, index) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
            let name = NAMES.iter().find(|(policy, _)| *policy == name).map_or(name, |(_, proto)| proto);
            format!("{name}{index}")
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ffi::JwtRequirementSpec {
        ffi::JwtRequirementSpec {
            provider: ffi::Provider::Auth0,
            issuer: "https://idp.example/".into(),
            jwks_uri: "https://idp.example/.well-known/jwks.json".into(),
            audiences: vec!["a".into(), "b".into()],
            from_headers: vec![],
            from_params: vec![],
            forward: false,
            has_clock_skew: false,
            clock_skew_seconds: 0,
            has_cache_duration: false,
            cache_duration_ms: 0,
        }
    }

    fn error(change: impl FnOnce(&mut ffi::JwtRequirementSpec)) -> String {
        let mut s = spec();
        change(&mut s);
        match match_jwt_from_spec(&s) {
            Ok(m) => panic!("expected an error, got {m:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_follow_jwt_authn() {
        let m = match_jwt_from_spec(&spec()).unwrap();
        assert_eq!(m.provider, cilium_jwt::Provider::Auth0);
        assert_eq!(m.clock_skew_seconds, 60);
        assert_eq!(m.cache_duration, Duration::from_secs(600));
        assert_eq!(m.audiences, vec!["a", "b"]);
        assert_eq!(m.effective_params(), vec!["access_token"]);
    }

    #[test]
    fn explicit_values() {
        let mut s = spec();
        s.provider = ffi::Provider::Spire;
        s.from_headers = vec![ffi::JwtHeader { name: "X-Jwt".into(), value_prefix: "".into() }];
        s.from_params = vec!["t".into()];
        s.forward = true;
        (s.has_clock_skew, s.clock_skew_seconds) = (true, 0);
        (s.has_cache_duration, s.cache_duration_ms) = (true, 90_500);
        let m = match_jwt_from_spec(&s).unwrap();
        assert_eq!(m.provider, cilium_jwt::Provider::Spire);
        assert_eq!(m.from_headers[0].name, "x-jwt");
        assert_eq!(m.clock_skew_seconds, 0);
        assert_eq!(m.cache_duration, Duration::from_millis(90_500));
        assert!(m.forward);
    }

    #[test]
    fn errors_name_the_proto_field() {
        assert_eq!(error(|s| s.jwks_uri = "/jwks".into()), "jwt_requirement.jwks_uri: must be an absolute http(s) URL");
        assert_eq!(error(|s| s.issuer.clear()), "jwt_requirement.issuer: must not be empty");
        assert_eq!(
            error(|s| s.audiences = vec!["a".into(), "a".into()]),
            "jwt_requirement.audiences[1]: duplicate audience \"a\""
        );
        assert_eq!(
            error(|s| s.from_headers = vec![ffi::JwtHeader { name: "bad name".into(), value_prefix: "".into() }]),
            "jwt_requirement.from_headers[0].name: \"bad name\" is not a valid HTTP header name"
        );
        assert_eq!(error(|s| s.from_params = vec!["".into()]), "jwt_requirement.from_params[0]: must not be empty");
        assert!(
            error(|s| (s.has_clock_skew, s.clock_skew_seconds) = (true, 301))
                .starts_with("jwt_requirement.clock_skew_seconds: ")
        );
        assert_eq!(
            error(|s| (s.has_cache_duration, s.cache_duration_ms) = (true, 0)),
            "jwt_requirement.cache_duration: must be between 30s and 24h"
        );
        assert_eq!(
            error(|s| s.provider = ffi::Provider { repr: 7 }),
            "jwt_requirement.provider: unsupported value 7: must be one of OIDC (0), AUTH0 (1), SPIRE (2)"
        );
    }

    #[test]
    fn a_panic_becomes_the_fallback() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let got = guard(|| -> u32 { panic!("boom") }, || 7);
        std::panic::set_hook(previous);
        assert_eq!(got, 7);
    }

    #[test]
    fn internal_denial_is_a_401_with_realm() {
        let headers = [ffi::HeaderView { name: b":authority", value: b"svc:7070" }];
        let v = internal_denial(b"/p?q", &headers);
        assert!(!v.allowed);
        assert_eq!(v.status, 401);
        assert_eq!(v.body, "Jwt verification fails");
        assert_eq!(v.www_authenticate, "Bearer realm=\"http://svc:7070/p?q\", error=\"invalid_token\"");
        assert!(v.reason.contains("internal error"));
    }

    #[test]
    fn non_utf8_headers_are_replaced_not_rejected() {
        let headers = [ffi::HeaderView { name: b"authorization", value: b"Bearer \xff.\xfe.\xfd" }];
        let text = text_headers(&headers);
        assert_eq!(text[0].1, "Bearer \u{fffd}.\u{fffd}.\u{fffd}");
    }
}
