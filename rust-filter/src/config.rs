//! The `matchJWT` requirement: its fields, defaults and validation.
//!
//! Validation walks a generic JSON/YAML value so every error names the exact field path
//! (`spec.ingress[0].toPorts[0].rules.http[1].matchJWT.jwksUrl: ...`), which serde's
//! derive cannot do.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

/// Default tolerance for `exp`/`nbf`, the same as jwt_authn's.
pub const DEFAULT_CLOCK_SKEW_SECONDS: u32 = 60;
/// Largest accepted clock skew: more would make `exp` meaningless.
pub const MAX_CLOCK_SKEW_SECONDS: u32 = 300;
/// Default JWKS cache duration, the same as jwt_authn's `remote_jwks.cache_duration`.
pub const DEFAULT_CACHE_DURATION: Duration = Duration::from_secs(600);
/// Shortest accepted cache duration: shorter hammers the identity provider.
pub const MIN_CACHE_DURATION: Duration = Duration::from_secs(30);
/// Longest accepted cache duration: longer delays key revocation too much.
pub const MAX_CACHE_DURATION: Duration = Duration::from_secs(24 * 3600);

/// A configuration error, naming the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending field, e.g. `spec.ingress[0].toPorts[0].rules.http[1].matchJWT.issuer`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl std::error::Error for ConfigError {}

/// The kind of identity provider. It documents intent and selects provider-specific checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Provider {
    /// Any OpenID Connect provider (the default).
    #[default]
    Oidc,
    /// Auth0: an OIDC provider whose issuer ends with `/`.
    Auth0,
    /// SPIRE: JWT-SVIDs, whose `sub` must be a SPIFFE ID (`spiffe://trust-domain/path`).
    Spire,
}

impl Provider {
    /// The name used in policies.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Oidc => "OIDC",
            Provider::Auth0 => "AUTH0",
            Provider::Spire => "SPIRE",
        }
    }

    /// Parses a policy's provider name (exact, upper case).
    pub fn from_name(name: &str) -> Option<Provider> {
        match name {
            "OIDC" => Some(Provider::Oidc),
            "AUTH0" => Some(Provider::Auth0),
            "SPIRE" => Some(Provider::Spire),
            _ => None,
        }
    }
}

/// A request header the token may be read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderLocation {
    /// Header name, lower-cased (HTTP header names are case-insensitive).
    pub name: String,
    /// Text that must precede the token in the value (case-sensitive), e.g. `Bearer `.
    pub value_prefix: String,
}

/// A validated `matchJWT` requirement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchJwt {
    /// Kind of identity provider.
    pub provider: Provider,
    /// Required value of the token's `iss` claim.
    pub issuer: String,
    /// Where the provider publishes its JSON Web Key Set.
    pub jwks_url: Url,
    /// Allowed audiences; empty allows any.
    pub audiences: Vec<String>,
    /// Headers to read the token from.
    pub from_headers: Vec<HeaderLocation>,
    /// Query parameters to read the token from.
    pub from_params: Vec<String>,
    /// Keep the token in the request forwarded upstream.
    pub forward: bool,
    /// Tolerance for `exp` and `nbf`, in seconds.
    pub clock_skew_seconds: u32,
    /// How long a fetched key set is used before it is fetched again.
    pub cache_duration: Duration,
}

impl MatchJwt {
    /// A requirement with jwt_authn's defaults: token in `Authorization: Bearer` or the
    /// `access_token` query parameter, any audience, 60 s skew, 10 min cache.
    pub fn new(issuer: impl Into<String>, jwks_url: Url) -> Self {
        MatchJwt {
            provider: Provider::Oidc,
            issuer: issuer.into(),
            jwks_url,
            audiences: Vec::new(),
            from_headers: Vec::new(),
            from_params: Vec::new(),
            forward: false,
            clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
            cache_duration: DEFAULT_CACHE_DURATION,
        }
    }

    /// Parses and validates a JSON document (the `matchJWT` object alone).
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ConfigError::new("matchJWT", format!("invalid JSON: {e}")))?;
        Self::from_value(&value, "matchJWT")
    }

    /// Validates a `matchJWT` object found at `path`.
    pub fn from_value(value: &Value, path: &str) -> Result<Self, ConfigError> {
        let object = value.as_object().ok_or_else(|| ConfigError::new(path, "must be an object"))?;
        let field = |name: &str| format!("{path}.{name}");
        const KNOWN: [&str; 9] = [
            "provider",
            "issuer",
            "jwksUrl",
            "audiences",
            "fromHeaders",
            "fromParams",
            "forward",
            "clockSkewSeconds",
            "cacheDuration",
        ];
        reject_unknown(object, &KNOWN, path)?;

        let provider = match object.get("provider") {
            None | Some(Value::Null) => Provider::default(),
            Some(Value::String(name)) => Provider::from_name(name).ok_or_else(|| {
                ConfigError::new(
                    field("provider"),
                    format!("unsupported value {name:?}: must be one of AUTH0, SPIRE, OIDC"),
                )
            })?,
            Some(_) => return Err(ConfigError::new(field("provider"), "must be a string")),
        };

        let issuer = required_string(object, "issuer", path)?;
        if issuer.trim() != issuer {
            return Err(ConfigError::new(field("issuer"), "must not have leading or trailing white space"));
        }

        let jwks_text = required_string(object, "jwksUrl", path)?;
        let jwks_url = parse_jwks_url(&jwks_text).map_err(|m| ConfigError::new(field("jwksUrl"), m))?;

        let audiences = string_list(object, "audiences", path)?;
        for (i, aud) in audiences.iter().enumerate() {
            if audiences[..i].contains(aud) {
                return Err(ConfigError::new(format!("{path}.audiences[{i}]"), format!("duplicate audience {aud:?}")));
            }
        }

        let from_headers = match object.get("fromHeaders") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| header_location(item, &format!("{path}.fromHeaders[{i}]")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ConfigError::new(field("fromHeaders"), "must be a list")),
        };

        let from_params = string_list(object, "fromParams", path)?;

        let forward = match object.get("forward") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(ConfigError::new(field("forward"), "must be a boolean")),
        };

        let clock_skew_seconds = match object.get("clockSkewSeconds") {
            None | Some(Value::Null) => DEFAULT_CLOCK_SKEW_SECONDS,
            Some(v) => match v.as_u64() {
                Some(n) if n <= u64::from(MAX_CLOCK_SKEW_SECONDS) => n as u32,
                _ => {
                    return Err(ConfigError::new(
                        field("clockSkewSeconds"),
                        format!("must be an integer from 0 to {MAX_CLOCK_SKEW_SECONDS}"),
                    ));
                }
            },
        };

        let cache_duration = match object.get("cacheDuration") {
            None | Some(Value::Null) => DEFAULT_CACHE_DURATION,
            Some(Value::String(text)) => {
                let d = parse_go_duration(text).ok_or_else(|| {
                    ConfigError::new(
                        field("cacheDuration"),
                        format!("invalid duration {text:?}: use a form like \"10m\" or \"90s\""),
                    )
                })?;
                if !(MIN_CACHE_DURATION..=MAX_CACHE_DURATION).contains(&d) {
                    return Err(ConfigError::new(field("cacheDuration"), "must be between 30s and 24h"));
                }
                d
            }
            Some(_) => {
                return Err(ConfigError::new(field("cacheDuration"), "must be a duration string such as \"10m\""));
            }
        };

        Ok(MatchJwt {
            provider,
            issuer,
            jwks_url,
            audiences,
            from_headers,
            from_params,
            forward,
            clock_skew_seconds,
            cache_duration,
        })
    }

    /// Header locations in effect: the configured ones, or jwt_authn's default
    /// (`Authorization: Bearer <token>`) when neither headers nor parameters are configured.
    pub fn effective_headers(&self) -> Vec<HeaderLocation> {
        if self.from_headers.is_empty() && self.from_params.is_empty() {
            vec![HeaderLocation { name: "authorization".into(), value_prefix: "Bearer ".into() }]
        } else {
            self.from_headers.clone()
        }
    }

    /// Query parameters in effect: the configured ones, or jwt_authn's default
    /// (`access_token`) when neither headers nor parameters are configured.
    pub fn effective_params(&self) -> Vec<String> {
        if self.from_headers.is_empty() && self.from_params.is_empty() {
            vec!["access_token".into()]
        } else {
            self.from_params.clone()
        }
    }
}

/// Checks a key set URL: absolute, `http` or `https`, with a host, no credentials or fragment.
pub fn parse_jwks_url(text: &str) -> Result<Url, String> {
    const MUST: &str = "must be an absolute http(s) URL";
    let url = Url::parse(text).map_err(|_| MUST.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(MUST.into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    Ok(url)
}

fn reject_unknown(object: &Map<String, Value>, known: &[&str], path: &str) -> Result<(), ConfigError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(ConfigError::new(
            format!("{path}.{unknown}"),
            format!("unknown field (expected one of: {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn required_string(object: &Map<String, Value>, name: &str, path: &str) -> Result<String, ConfigError> {
    match object.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ConfigError::new(format!("{path}.{name}"), "must not be empty")),
        None | Some(Value::Null) => Err(ConfigError::new(format!("{path}.{name}"), "is required")),
        Some(_) => Err(ConfigError::new(format!("{path}.{name}"), "must be a string")),
    }
}

fn string_list(object: &Map<String, Value>, name: &str, path: &str) -> Result<Vec<String>, ConfigError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                Value::String(_) => Err(ConfigError::new(format!("{path}.{name}[{i}]"), "must not be empty")),
                _ => Err(ConfigError::new(format!("{path}.{name}[{i}]"), "must be a string")),
            })
            .collect(),
        Some(_) => Err(ConfigError::new(format!("{path}.{name}"), "must be a list of strings")),
    }
}

fn header_location(item: &Value, path: &str) -> Result<HeaderLocation, ConfigError> {
    let object =
        item.as_object().ok_or_else(|| ConfigError::new(path, "must be an object with name and valuePrefix"))?;
    reject_unknown(object, &["name", "valuePrefix"], path)?;
    let name = required_string(object, "name", path)?;
    if !name.bytes().all(is_header_name_byte) {
        return Err(ConfigError::new(format!("{path}.name"), format!("{name:?} is not a valid HTTP header name")));
    }
    let value_prefix = match object.get("valuePrefix") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ConfigError::new(format!("{path}.valuePrefix"), "must be a string"));
        }
    };
    Ok(HeaderLocation { name: name.to_ascii_lowercase(), value_prefix })
}

/// RFC 9110 `tchar`.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses a Go `time.Duration` string as Kubernetes serialises it (`10m`, `1h30m`,
/// `600s`, `1.5h`); only non-negative durations with units h, m, s, ms.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e12 {
        return None;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<MatchJwt, ConfigError> {
        MatchJwt::from_value(&v, "m")
    }

    #[test]
    fn defaults() {
        let m = parse(json!({"issuer": "https://idp/", "jwksUrl": "https://idp/jwks"})).unwrap();
        assert_eq!(m.provider, Provider::Oidc);
        assert_eq!(m.clock_skew_seconds, 60);
        assert_eq!(m.cache_duration, Duration::from_secs(600));
        assert_eq!(m.effective_headers()[0].value_prefix, "Bearer ");
        assert_eq!(m.effective_params(), vec!["access_token"]);
    }

    #[test]
    fn full() {
        let m = parse(json!({
            "provider": "AUTH0", "issuer": "https://idp/", "jwksUrl": "http://127.0.0.1:1/jwks",
            "audiences": ["a", "b"], "fromHeaders": [{"name": "X-Jwt", "valuePrefix": "T "}],
            "fromParams": ["t"], "forward": true, "clockSkewSeconds": 0, "cacheDuration": "1m30s"
        }))
        .unwrap();
        assert_eq!(m.provider, Provider::Auth0);
        assert_eq!(m.from_headers, vec![HeaderLocation { name: "x-jwt".into(), value_prefix: "T ".into() }]);
        assert_eq!(m.effective_params(), vec!["t"]);
        assert_eq!(m.clock_skew_seconds, 0);
        assert_eq!(m.cache_duration, Duration::from_secs(90));
    }

    #[test]
    fn errors_name_the_field() {
        let base = json!({"issuer": "https://idp/", "jwksUrl": "https://idp/jwks"});
        let with = |k: &str, v: Value| {
            let mut o = base.clone();
            o[k] = v;
            parse(o).unwrap_err().to_string()
        };
        assert_eq!(with("jwksUrl", json!("/relative")), "m.jwksUrl: must be an absolute http(s) URL");
        assert_eq!(with("jwksUrl", json!("ftp://x/")), "m.jwksUrl: must be an absolute http(s) URL");
        assert_eq!(with("issuer", json!("")), "m.issuer: must not be empty");
        assert!(with("provider", json!("auth0")).starts_with("m.provider: unsupported value"));
        assert_eq!(with("audiences", json!(["a", "a"])), "m.audiences[1]: duplicate audience \"a\"");
        assert_eq!(with("audiences", json!("a")), "m.audiences: must be a list of strings");
        assert!(with("jwksURL", json!("x")).starts_with("m.jwksURL: unknown field"));
        assert_eq!(
            with("fromHeaders", json!([{"name": "bad name"}])),
            "m.fromHeaders[0].name: \"bad name\" is not a valid HTTP header name"
        );
        assert!(with("clockSkewSeconds", json!(301)).starts_with("m.clockSkewSeconds"));
        assert_eq!(with("cacheDuration", json!("5s")), "m.cacheDuration: must be between 30s and 24h");
        assert_eq!(parse(json!({"jwksUrl": "https://x/"})).unwrap_err().to_string(), "m.issuer: is required");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h0m0s"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("600"), None);
        assert_eq!(parse_go_duration("-5m"), None);
        assert_eq!(parse_go_duration("5d"), None);
    }
}
