//! Audience matching as jwt_verify_lib's `CheckAudience` does it: an `http://` or
//! `https://` prefix and one trailing `/` are ignored on both sides.

use std::collections::HashSet;

/// The allowed audiences of a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audiences(HashSet<String>);

impl Audiences {
    /// The set of `allowed` audiences; empty allows any.
    pub fn new(allowed: &[String]) -> Self {
        Audiences(allowed.iter().map(|a| sanitize(a).to_string()).collect())
    }

    /// Whether one of the token's audiences is allowed (always, when none are configured).
    pub fn allows(&self, token_audiences: &[String]) -> bool {
        self.0.is_empty() || token_audiences.iter().any(|a| self.0.contains(sanitize(a)))
    }
}

fn sanitize(aud: &str) -> &str {
    let aud = aud.strip_prefix("https://").or_else(|| aud.strip_prefix("http://")).unwrap_or(aud);
    aud.strip_suffix('/').unwrap_or(aud)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn normalised_matching() {
        let a = Audiences::new(&s(&["https://svc.example/", "plain"]));
        assert!(a.allows(&s(&["http://svc.example"])));
        assert!(a.allows(&s(&["svc.example/"])));
        assert!(a.allows(&s(&["x", "plain"])));
        assert!(!a.allows(&s(&["Plain"])));
        assert!(!a.allows(&[]));
        assert!(Audiences::new(&[]).allows(&[]));
    }
}
