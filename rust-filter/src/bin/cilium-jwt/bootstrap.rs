//! Envoy bootstraps that put a policy's `matchJWT` rules in front of an upstream: with
//! our dynamic module, with Envoy's own `jwt_authn` (for differential tests and the
//! benchmark), or with no authentication at all (the benchmark's ceiling).
//!
//! Rendered as JSON (a bootstrap Envoy reads as YAML), so the policy text embedded in
//! the module's filter config needs no hand escaping.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use cilium_jwt::MatchJwt;
use serde_json::{Value, json};

/// Name under which Envoy finds `lib<name>.so` in `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`.
pub const MODULE_NAME: &str = "cilium_jwt_envoy";
/// The module's file name.
pub const MODULE_FILE: &str = "libcilium_jwt_envoy.so";

/// Deadline of a `jwt_authn` key set fetch, the same as the engine's default.
const JWT_AUTHN_FETCH_TIMEOUT: &str = "3s";

/// The authentication filter in front of the router.
pub enum Auth<'a> {
    /// Our dynamic module, with its filter config JSON.
    Module {
        /// The filter config (`{"policy": ..., "engine": ...}`).
        filter_config: String,
    },
    /// Envoy's `jwt_authn`, one provider per rule.
    JwtAuthn {
        /// The rules, in policy order.
        rules: &'a [MatchJwt],
        /// Enable jwt_authn's verified-token cache.
        jwt_cache: bool,
    },
    /// No authentication.
    None,
}

/// Renders a bootstrap: one listener on `listen` routing everything to `upstream`,
/// admin on 127.0.0.1 with an ephemeral port.
pub fn render(listen: SocketAddr, upstream: SocketAddr, auth: &Auth<'_>) -> Value {
    let mut clusters = vec![static_cluster("upstream", upstream, "1s")];
    let mut http_filters = Vec::new();
    match auth {
        Auth::Module { filter_config } => http_filters.push(json!({
            "name": "envoy.filters.http.dynamic_modules",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
                // do_not_close: engine threads may outlive a config; never unload the code.
                "dynamic_module_config": {"name": MODULE_NAME, "do_not_close": true},
                "filter_name": "cilium-jwt",
                "filter_config": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": filter_config},
            },
        })),
        Auth::JwtAuthn { rules, jwt_cache } => {
            let (filter, jwks_clusters) = jwt_authn(rules, *jwt_cache);
            http_filters.push(filter);
            clusters.extend(jwks_clusters);
        }
        Auth::None => {}
    }
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }));
    json!({
        "admin": {"address": socket_address("127.0.0.1", 0)},
        "static_resources": {
            "listeners": [{
                "name": "cilium-jwt",
                "address": socket_address(&listen.ip().to_string(), listen.port()),
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "ingress",
                        "route_config": {"virtual_hosts": [{
                            "name": "all",
                            "domains": ["*"],
                            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}],
                        }]},
                        "http_filters": http_filters,
                    },
                }]}],
            }],
            "clusters": clusters,
        },
    })
}

fn socket_address(address: &str, port: u16) -> Value {
    json!({"socket_address": {"address": address, "port_value": port}})
}

fn static_cluster(name: &str, address: SocketAddr, connect_timeout: &str) -> Value {
    json!({
        "name": name,
        "connect_timeout": connect_timeout,
        "type": "STATIC",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": {
            "address": socket_address(&address.ip().to_string(), address.port()),
        }}]}]},
    })
}

/// jwt_authn with one provider per rule. One rule: `provider_name`; several:
/// `requires_any` (allowed if any allows; on denial jwt_authn reports the *last*
/// provider's error where the module reports the first rule's: a documented difference).
fn jwt_authn(rules: &[MatchJwt], jwt_cache: bool) -> (Value, Vec<Value>) {
    // One cluster per key set origin.
    let mut origins: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut providers = serde_json::Map::new();
    for (index, rule) in rules.iter().enumerate() {
        let url = &rule.jwks_url;
        let origin = url.origin().ascii_serialization();
        let next = origins.len();
        let cluster_name = origins
            .entry(origin)
            .or_insert_with(|| (format!("jwks_{next}"), jwks_cluster(&format!("jwks_{next}"), url)))
            .0
            .clone();
        let mut provider = json!({
            "issuer": rule.issuer,
            "audiences": rule.audiences,
            "remote_jwks": {
                "http_uri": {"uri": url.as_str(), "cluster": cluster_name, "timeout": JWT_AUTHN_FETCH_TIMEOUT},
                "cache_duration": format!("{}s", rule.cache_duration.as_secs()),
            },
            "forward": rule.forward,
            // The engine refuses tokens without `exp`; jwt_authn only with this.
            "require_expiration": true,
            // jwt_authn treats 0 as its default 60; the engine takes 0 literally.
            "clock_skew_seconds": rule.clock_skew_seconds,
        });
        if !rule.from_headers.is_empty() {
            provider["from_headers"] =
                rule.from_headers.iter().map(|h| json!({"name": h.name, "value_prefix": h.value_prefix})).collect();
        }
        if !rule.from_params.is_empty() {
            provider["from_params"] = json!(rule.from_params);
        }
        if rule.provider == cilium_jwt::Provider::Spire {
            // The engine requires a SPIFFE ID `sub`; this regex is the same grammar
            // except that it does not reject `.` and `..` path segments.
            provider["subjects"] = json!({"safe_regex": {"regex": "spiffe://[a-z0-9._-]+(/[A-Za-z0-9._-]+)*"}});
        }
        if jwt_cache {
            provider["jwt_cache_config"] = json!({"jwt_cache_size": 1000});
        }
        providers.insert(format!("rule{index}"), provider);
    }
    let requires = match rules.len() {
        1 => json!({"provider_name": "rule0"}),
        n => {
            json!({"requires_any": {"requirements": (0..n).map(|i| json!({"provider_name": format!("rule{i}")})).collect::<Vec<_>>()}})
        }
    };
    let filter = json!({
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": providers,
            "rules": [{"match": {"prefix": "/"}, "requires": requires}],
        },
    });
    (filter, origins.into_values().map(|(_, cluster)| cluster).collect())
}

/// A cluster reaching a key set URL's host (DNS unless it is an IP), with TLS (system
/// trust store, SNI) for https.
fn jwks_cluster(name: &str, url: &url::Url) -> Value {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    let mut cluster = json!({
        "name": name,
        "connect_timeout": JWT_AUTHN_FETCH_TIMEOUT,
        "type": if is_ip { "STATIC" } else { "STRICT_DNS" },
        "dns_lookup_family": "V4_PREFERRED",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": {
            "address": socket_address(&host, port),
        }}]}]},
    });
    if url.scheme() == "https" {
        let mut tls = json!({
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "common_tls_context": {},
        });
        if !is_ip {
            tls["sni"] = json!(host);
        }
        let ca = "/etc/ssl/certs/ca-certificates.crt";
        if std::path::Path::new(ca).exists() {
            tls["common_tls_context"]["validation_context"] = json!({"trusted_ca": {"filename": ca}});
        }
        cluster["transport_socket"] = json!({"name": "envoy.transport_sockets.tls", "typed_config": tls});
    }
    cluster
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: Value) -> MatchJwt {
        MatchJwt::from_value(&json, "m").unwrap()
    }

    #[test]
    fn module_bootstrap_embeds_the_config() {
        let listen = "127.0.0.1:10000".parse().unwrap();
        let upstream = "127.0.0.1:7070".parse().unwrap();
        let config = json!({"policy": "kind: X\nvalue: \"quoted\"\n"}).to_string();
        let boot = render(listen, upstream, &Auth::Module { filter_config: config.clone() });
        let filters =
            &boot["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"];
        assert_eq!(filters[0]["typed_config"]["filter_config"]["value"], json!(config));
        assert_eq!(filters[0]["typed_config"]["dynamic_module_config"]["name"], MODULE_NAME);
        assert_eq!(filters[1]["name"], "envoy.filters.http.router");
        assert_eq!(
            boot["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
                ["socket_address"]["port_value"],
            7070
        );
    }

    #[test]
    fn jwt_authn_bootstrap() {
        let rules = [
            rule(json!({"issuer": "https://a/", "jwksUrl": "http://127.0.0.1:9/jwks", "audiences": ["x"]})),
            rule(
                json!({"issuer": "https://b/", "jwksUrl": "https://idp.example/keys", "fromParams": ["t"], "forward": true}),
            ),
        ];
        let (filter, clusters) = jwt_authn(&rules, true);
        let providers = &filter["typed_config"]["providers"];
        assert_eq!(providers["rule0"]["remote_jwks"]["http_uri"]["cluster"], "jwks_0");
        assert_eq!(providers["rule0"]["audiences"], json!(["x"]));
        assert!(providers["rule0"].get("from_headers").is_none(), "defaults are jwt_authn's own");
        assert_eq!(providers["rule1"]["from_params"], json!(["t"]));
        assert_eq!(providers["rule1"]["forward"], true);
        assert_eq!(providers["rule1"]["jwt_cache_config"]["jwt_cache_size"], 1000);
        assert_eq!(
            filter["typed_config"]["rules"][0]["requires"]["requires_any"]["requirements"][1]["provider_name"],
            "rule1"
        );
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0]["type"], "STATIC");
        assert_eq!(clusters[1]["type"], "STRICT_DNS");
        assert_eq!(clusters[1]["transport_socket"]["typed_config"]["sni"], "idp.example");
    }
}
