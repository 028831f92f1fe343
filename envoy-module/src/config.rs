//! The filter configuration: the JSON carried in `DynamicModuleFilter.filter_config`
//! (a `google.protobuf.StringValue`).
//!
//! ```json
//! {"policy": "<CiliumNetworkPolicy YAML>", "engine": {"maxWaitMs": 3000}}
//! {"rules": [{"issuer": "https://idp/", "jwksUrl": "https://idp/jwks.json"}]}
//! ```
//!
//! Exactly one of `policy` (policy documents, every `matchJWT` rule in them applies) or
//! `rules` (`matchJWT` objects) is required; `engine` is optional. Unknown fields are
//! errors, and every error names the field, so a rejected config says what to fix.

use std::time::Duration;

use cilium_jwt::jwks_cache::JwksOptions;
use cilium_jwt::{ConfigError, EngineOptions, MatchJwt, PolicySet};
use serde_json::{Map, Value};

/// Where the `matchJWT` rules come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// Rules found in policy documents, with their location in the policy (for logs).
    Policy(Vec<(String, MatchJwt)>),
    /// Rules given directly, in order.
    Rules(Vec<MatchJwt>),
}

impl RuleSource {
    /// The requirements, in order, each with a label for logs.
    pub fn rules(&self) -> Vec<(String, MatchJwt)> {
        match self {
            RuleSource::Policy(rules) => rules.clone(),
            RuleSource::Rules(rules) => {
                rules.iter().enumerate().map(|(i, r)| (format!("rules[{i}]"), r.clone())).collect()
            }
        }
    }
}

/// Engine bounds, as configured (milliseconds and counts). Configs with equal settings
/// share one engine (see [`crate::engines`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngineSettings {
    /// Longest a request waits for keys before failing closed (0: never wait).
    pub max_wait_ms: u64,
    /// Deadline of one key set fetch.
    pub fetch_timeout_ms: u64,
    /// Largest key set body accepted.
    pub max_jwks_bytes: u64,
    /// Largest token accepted.
    pub max_token_bytes: u64,
    /// Capacity of the verified-token cache (0 disables it).
    pub token_cache_capacity: u64,
    /// How long past its cache duration a key set keeps serving while refetches fail.
    pub max_stale_ms: u64,
    /// Least time between two refetches triggered by unknown `kid`s, per key set URL.
    pub kid_refetch_interval_ms: u64,
    /// Least time between two fetch attempts of one URL.
    pub min_fetch_interval_ms: u64,
    /// Longest delay between retries while the provider fails.
    pub max_retry_interval_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings::from_options(&EngineOptions::default())
    }
}

/// One setting: JSON name, bounds, and where it lives in [`EngineSettings`].
struct Setting {
    name: &'static str,
    min: u64,
    max: u64,
    field: fn(&mut EngineSettings) -> &mut u64,
}

const HOUR_MS: u64 = 3_600_000;

const SETTINGS: [Setting; 9] = [
    Setting { name: "maxWaitMs", min: 0, max: 60_000, field: |s| &mut s.max_wait_ms },
    Setting { name: "fetchTimeoutMs", min: 10, max: 60_000, field: |s| &mut s.fetch_timeout_ms },
    Setting { name: "maxJwksBytes", min: 1024, max: 16 << 20, field: |s| &mut s.max_jwks_bytes },
    Setting { name: "maxTokenBytes", min: 256, max: 1 << 20, field: |s| &mut s.max_token_bytes },
    Setting { name: "tokenCacheCapacity", min: 0, max: 10_000_000, field: |s| &mut s.token_cache_capacity },
    Setting { name: "maxStaleMs", min: 0, max: 24 * HOUR_MS, field: |s| &mut s.max_stale_ms },
    Setting { name: "kidRefetchIntervalMs", min: 100, max: HOUR_MS, field: |s| &mut s.kid_refetch_interval_ms },
    Setting { name: "minFetchIntervalMs", min: 100, max: HOUR_MS, field: |s| &mut s.min_fetch_interval_ms },
    Setting { name: "maxRetryIntervalMs", min: 100, max: HOUR_MS, field: |s| &mut s.max_retry_interval_ms },
];

impl EngineSettings {
    fn from_options(o: &EngineOptions) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        EngineSettings {
            max_wait_ms: ms(o.max_wait),
            fetch_timeout_ms: ms(o.fetch_timeout),
            max_jwks_bytes: o.max_jwks_bytes as u64,
            max_token_bytes: o.max_token_bytes as u64,
            token_cache_capacity: o.token_cache_capacity as u64,
            max_stale_ms: ms(o.jwks.max_stale),
            kid_refetch_interval_ms: ms(o.jwks.kid_refetch_interval),
            min_fetch_interval_ms: ms(o.jwks.min_fetch_interval),
            max_retry_interval_ms: ms(o.jwks.max_retry_interval),
        }
    }

    /// The engine options these settings stand for.
    pub fn options(&self) -> EngineOptions {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        EngineOptions {
            fetch_timeout: Duration::from_millis(self.fetch_timeout_ms),
            max_wait: Duration::from_millis(self.max_wait_ms),
            max_jwks_bytes: size(self.max_jwks_bytes),
            max_token_bytes: size(self.max_token_bytes),
            token_cache_capacity: size(self.token_cache_capacity),
            jwks: JwksOptions {
                max_stale: Duration::from_millis(self.max_stale_ms),
                kid_refetch_interval: Duration::from_millis(self.kid_refetch_interval_ms),
                min_fetch_interval: Duration::from_millis(self.min_fetch_interval_ms),
                max_retry_interval: Duration::from_millis(self.max_retry_interval_ms),
            },
        }
    }

    fn parse(value: &Value, path: &str) -> Result<Self, ConfigError> {
        let object = value.as_object().ok_or_else(|| error(path, "must be an object"))?;
        let known: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        reject_unknown(object, &known, path)?;
        let mut settings = EngineSettings::default();
        for setting in &SETTINGS {
            let Some(value) = object.get(setting.name) else { continue };
            let field = format!("{path}.{}", setting.name);
            match value.as_u64() {
                Some(n) if (setting.min..=setting.max).contains(&n) => *(setting.field)(&mut settings) = n,
                _ => {
                    return Err(error(field, format!("must be an integer from {} to {}", setting.min, setting.max)));
                }
            }
        }
        Ok(settings)
    }
}

/// A parsed and validated filter configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleConfig {
    /// The `matchJWT` rules, in order.
    pub source: RuleSource,
    /// Engine bounds.
    pub engine: EngineSettings,
}

/// An error at `path` (the engine's `ConfigError::new` is crate-private).
fn error(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.into(), message: message.into() }
}

impl ModuleConfig {
    /// Parses the filter configuration bytes.
    pub fn parse(bytes: &[u8]) -> Result<ModuleConfig, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(error(
                "filter_config",
                "is empty: expected JSON {\"policy\": \"<CiliumNetworkPolicy YAML>\"} or {\"rules\": [<matchJWT>, ...]}",
            ));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| error("filter_config", format!("invalid JSON: {e}")))?;
        let object = value.as_object().ok_or_else(|| error("filter_config", "must be a JSON object"))?;
        reject_unknown(object, &["policy", "rules", "engine"], "filter_config")?;

        let source = match (object.get("policy"), object.get("rules")) {
            (Some(_), Some(_)) => {
                return Err(error("filter_config", "give either \"policy\" or \"rules\", not both"));
            }
            (None, None) => return Err(error("filter_config", "\"policy\" or \"rules\" is required")),
            (Some(Value::String(text)), None) => {
                let set = PolicySet::parse(text).map_err(|e| prefixed("policy", e))?;
                RuleSource::Policy(
                    set.rules.into_iter().map(|r| (format!("{} {}", r.policy, r.path), r.requirement)).collect(),
                )
            }
            (Some(_), None) => return Err(error("policy", "must be a string (the policy YAML text)")),
            (None, Some(Value::Array(items))) => RuleSource::Rules(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| MatchJwt::from_value(item, &format!("rules[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            (None, Some(_)) => return Err(error("rules", "must be a list of matchJWT objects")),
        };
        if source.rules().is_empty() {
            let what = match source {
                RuleSource::Policy(_) => {
                    "policy: no matchJWT rule in any CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy"
                }
                RuleSource::Rules(_) => "rules: must not be empty",
            };
            return Err(error("", what));
        }
        let engine = match object.get("engine") {
            None | Some(Value::Null) => EngineSettings::default(),
            Some(value) => EngineSettings::parse(value, "engine")?,
        };
        Ok(ModuleConfig { source, engine })
    }
}

fn prefixed(prefix: &str, mut error: ConfigError) -> ConfigError {
    error.path = if error.path.is_empty() { prefix.to_string() } else { format!("{prefix}: {}", error.path) };
    error
}

fn reject_unknown(object: &Map<String, Value>, known: &[&str], path: &str) -> Result<(), ConfigError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => {
            Err(error(format!("{path}.{unknown}"), format!("unknown field (expected one of: {})", known.join(", "))))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: default}
spec:
  ingress:
  - toPorts:
    - ports: [{port: "7070", protocol: TCP}]
      rules:
        http:
        - matchJWT: {issuer: "https://idp/", jwksUrl: "http://127.0.0.1:9/jwks", audiences: [a]}
"#;

    fn parse(v: Value) -> Result<ModuleConfig, String> {
        ModuleConfig::parse(v.to_string().as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn policy_and_engine_settings() {
        let config =
            parse(json!({"policy": POLICY, "engine": {"maxWaitMs": 250, "kidRefetchIntervalMs": 1000}})).unwrap();
        let rules = config.source.rules();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].0, "default/p spec.ingress[0].toPorts[0].rules.http[0]");
        assert_eq!(rules[0].1.audiences, vec!["a".to_string()]);
        assert_eq!(config.engine.max_wait_ms, 250);
        assert_eq!(config.engine.options().jwks.kid_refetch_interval, Duration::from_secs(1));
        assert_eq!(config.engine.fetch_timeout_ms, EngineSettings::default().fetch_timeout_ms);
    }

    #[test]
    fn rules() {
        let config = parse(json!({"rules": [{"issuer": "i", "jwksUrl": "http://127.0.0.1:9/k"}]})).unwrap();
        assert_eq!(config.source.rules()[0].0, "rules[0]");
        assert_eq!(config.engine, EngineSettings::default());
    }

    #[test]
    fn default_settings_round_trip() {
        let defaults = EngineOptions::default();
        let options = EngineSettings::default().options();
        assert_eq!(options.max_wait, defaults.max_wait);
        assert_eq!(options.jwks.max_stale, defaults.jwks.max_stale);
        assert_eq!(options.token_cache_capacity, defaults.token_cache_capacity);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!({}), "filter_config: \"policy\" or \"rules\" is required"),
            (json!({"policy": POLICY, "rules": []}), "filter_config: give either \"policy\" or \"rules\", not both"),
            (json!({"policy": 1}), "policy: must be a string (the policy YAML text)"),
            (json!({"rules": {}}), "rules: must be a list of matchJWT objects"),
            (json!({"rules": []}), "rules: must not be empty"),
            (json!({"rules": [{"issuer": "i"}]}), "rules[0].jwksUrl: is required"),
            (json!({"polcy": "x"}), "filter_config.polcy: unknown field (expected one of: policy, rules, engine)"),
            (
                json!({"policy": POLICY, "engine": {"maxWaitMs": -1}}),
                "engine.maxWaitMs: must be an integer from 0 to 60000",
            ),
            (
                json!({"policy": POLICY, "engine": {"maxWaitMs": "1s"}}),
                "engine.maxWaitMs: must be an integer from 0 to 60000",
            ),
            (json!({"policy": POLICY, "engine": []}), "engine: must be an object"),
            (
                json!({"policy": "kind: Service"}),
                "policy: no matchJWT rule in any CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input.clone()).unwrap_err(), expected, "for {input}");
        }
        let bad_policy = POLICY.replace("http://127.0.0.1:9/jwks", "not a url");
        assert_eq!(
            parse(json!({"policy": bad_policy})).unwrap_err(),
            "policy: spec.ingress[0].toPorts[0].rules.http[0].matchJWT.jwksUrl: must be an absolute http(s) URL"
        );
        assert!(
            parse(json!({"engine": {"fetchTimeoutMs": 5}, "rules": [{"issuer": "i", "jwksUrl": "http://h/k"}]}))
                .unwrap_err()
                .starts_with("engine.fetchTimeoutMs")
        );
        assert!(ModuleConfig::parse(b"").unwrap_err().to_string().starts_with("filter_config: is empty"));
        assert!(ModuleConfig::parse(b"{").unwrap_err().to_string().starts_with("filter_config: invalid JSON"));
    }
}
