//! Reading `matchJWT` rules out of CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy
//! documents (YAML or JSON, one or many documents, `spec` or `specs`, ingress and egress).

use serde::Deserialize;
use serde_json::Value;

use crate::config::{ConfigError, MatchJwt};

/// Which way traffic flows for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Traffic into the selected endpoints.
    Ingress,
    /// Traffic out of the selected endpoints.
    Egress,
}

/// A port a rule applies to, as written in `toPorts[].ports[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortProtocol {
    /// Port number or name (`"7070"`, `"http"`); empty means any.
    pub port: String,
    /// `TCP`, `UDP`, `ANY`…; empty means ANY.
    pub protocol: String,
}

/// One `matchJWT` found in a policy, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRule {
    /// Position of the policy's document in the file, from 1.
    pub document: usize,
    /// `kind` of the policy document.
    pub kind: String,
    /// `namespace/name` of the policy (`name` alone for clusterwide policies).
    pub policy: String,
    /// Path of the HTTP rule inside the document, e.g. `spec.ingress[0].toPorts[0].rules.http[1]`.
    pub path: String,
    /// Direction of the enclosing rule.
    pub direction: Direction,
    /// Ports of the enclosing `toPorts` entry.
    pub ports: Vec<PortProtocol>,
    /// The validated requirement.
    pub requirement: MatchJwt,
}

/// Every `matchJWT` rule of a set of policy documents, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySet {
    /// The rules, in the order they appear.
    pub rules: Vec<JwtRule>,
}

const POLICY_KINDS: [&str; 2] = ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"];

impl PolicySet {
    /// Parses policy text: YAML (several `---` documents allowed; JSON is YAML too).
    /// Documents of other kinds (a Deployment next to the policy) are skipped; a
    /// `kind: List` is opened. Any invalid `matchJWT` fails the whole set, naming the field.
    pub fn parse(text: &str) -> Result<PolicySet, ConfigError> {
        let mut set = PolicySet::default();
        let mut documents = Vec::new();
        for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let value = serde_yaml::Value::deserialize(document)
                .map_err(|e| ConfigError::new(document_label(index, text), format!("invalid YAML: {e}")))?;
            let value: Value = serde_json::to_value(&value)
                .map_err(|e| ConfigError::new(document_label(index, text), format!("unsupported YAML: {e}")))?;
            documents.push(value);
        }
        let many = documents.len() > 1;
        for (index, document) in documents.iter().enumerate() {
            set.add_document(document, index + 1, "").map_err(|mut e| {
                if many {
                    e.path = format!("document {}: {}", index + 1, e.path);
                }
                e
            })?;
        }
        Ok(set)
    }

    fn add_document(&mut self, document: &Value, number: usize, prefix: &str) -> Result<(), ConfigError> {
        if document.is_null() {
            return Ok(());
        }
        let kind = document.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind == "List" {
            let items = document.get("items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                self.add_document(item, number, &format!("{prefix}items[{i}]."))?;
            }
            return Ok(());
        }
        if !POLICY_KINDS.contains(&kind) {
            return Ok(());
        }
        let metadata = document.get("metadata");
        let name = metadata.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("");
        let policy = match metadata.and_then(|m| m.get("namespace")).and_then(Value::as_str) {
            Some(ns) if kind == "CiliumNetworkPolicy" => format!("{ns}/{name}"),
            _ => name.to_string(),
        };
        if let Some(spec) = document.get("spec") {
            self.add_rule(number, kind, &policy, spec, &format!("{prefix}spec"))?;
        }
        if let Some(specs) = document.get("specs") {
            let specs = specs.as_array().ok_or_else(|| ConfigError::new(format!("{prefix}specs"), "must be a list"))?;
            for (i, spec) in specs.iter().enumerate() {
                self.add_rule(number, kind, &policy, spec, &format!("{prefix}specs[{i}]"))?;
            }
        }
        Ok(())
    }

    fn add_rule(
        &mut self,
        document: usize,
        kind: &str,
        policy: &str,
        rule: &Value,
        path: &str,
    ) -> Result<(), ConfigError> {
        for (key, direction) in [("ingress", Direction::Ingress), ("egress", Direction::Egress)] {
            let Some(sections) = rule.get(key) else {
                continue;
            };
            let sections =
                sections.as_array().ok_or_else(|| ConfigError::new(format!("{path}.{key}"), "must be a list"))?;
            for (i, section) in sections.iter().enumerate() {
                let Some(to_ports) = section.get("toPorts") else {
                    continue;
                };
                let to_ports = to_ports
                    .as_array()
                    .ok_or_else(|| ConfigError::new(format!("{path}.{key}[{i}].toPorts"), "must be a list"))?;
                for (j, port_rule) in to_ports.iter().enumerate() {
                    let port_path = format!("{path}.{key}[{i}].toPorts[{j}]");
                    let ports = parse_ports(port_rule.get("ports"), &port_path)?;
                    let Some(http) = port_rule.get("rules").and_then(|r| r.get("http")) else {
                        continue;
                    };
                    let http = http
                        .as_array()
                        .ok_or_else(|| ConfigError::new(format!("{port_path}.rules.http"), "must be a list"))?;
                    for (k, http_rule) in http.iter().enumerate() {
                        let Some(match_jwt) = http_rule.get("matchJWT") else {
                            continue;
                        };
                        let rule_path = format!("{port_path}.rules.http[{k}]");
                        let requirement = MatchJwt::from_value(match_jwt, &format!("{rule_path}.matchJWT"))?;
                        self.rules.push(JwtRule {
                            document,
                            kind: kind.to_string(),
                            policy: policy.to_string(),
                            path: rule_path,
                            direction,
                            ports: ports.clone(),
                            requirement,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn parse_ports(ports: Option<&Value>, path: &str) -> Result<Vec<PortProtocol>, ConfigError> {
    let Some(ports) = ports else {
        return Ok(Vec::new());
    };
    let ports = ports.as_array().ok_or_else(|| ConfigError::new(format!("{path}.ports"), "must be a list"))?;
    Ok(ports
        .iter()
        .map(|p| PortProtocol {
            port: match p.get("port") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            },
            protocol: p.get("protocol").and_then(Value::as_str).unwrap_or_default().to_string(),
        })
        .collect())
}

fn document_label(index: usize, text: &str) -> String {
    // A single-document file gets no label, as in the field paths.
    if text.contains("\n---") || text.starts_with("---") { format!("document {}", index + 1) } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: other}
---
apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: client-identity
  namespace: default
spec:
  endpointSelector:
    matchLabels:
      component: webserver
  ingress:
  - toPorts:
    - ports:
      - port: "7070"
        protocol: TCP
      rules:
        http:
        - method: GET
        - matchJWT:
            provider: AUTH0
            issuer: "https://idp.example/"
            jwksUrl: "https://idp.example/.well-known/jwks.json"
            audiences: [Thales-accuknox-1st, Thales-accuknox-2nd]
"#;

    #[test]
    fn finds_rules_with_positions() {
        let set = PolicySet::parse(SEED).unwrap();
        assert_eq!(set.rules.len(), 1);
        let rule = &set.rules[0];
        assert_eq!(rule.policy, "default/client-identity");
        assert_eq!(rule.path, "spec.ingress[0].toPorts[0].rules.http[1]");
        assert_eq!(rule.ports, vec![PortProtocol { port: "7070".into(), protocol: "TCP".into() }]);
        assert_eq!(rule.requirement.audiences.len(), 2);
    }

    #[test]
    fn specs_egress_and_json() {
        let json = r#"{"kind":"CiliumClusterwideNetworkPolicy","metadata":{"name":"c"},
            "specs":[{"egress":[{"toPorts":[{"ports":[{"port":80}],"rules":{"http":[{"matchJWT":
            {"issuer":"i","jwksUrl":"http://127.0.0.1:1/k"}}]}}]}]}]}"#;
        let set = PolicySet::parse(json).unwrap();
        assert_eq!(set.rules[0].path, "specs[0].egress[0].toPorts[0].rules.http[0]");
        assert_eq!(set.rules[0].direction, Direction::Egress);
        assert_eq!(set.rules[0].ports[0].port, "80");
    }

    #[test]
    fn error_names_document_and_field() {
        let bad = SEED.replace("https://idp.example/.well-known/jwks.json", "not a url");
        let err = PolicySet::parse(&bad).unwrap_err().to_string();
        assert_eq!(
            err,
            "document 2: spec.ingress[0].toPorts[0].rules.http[1].matchJWT.jwksUrl: must be an absolute http(s) URL"
        );
    }
}
