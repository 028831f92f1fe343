//! The answer for one request, in the form the proxy needs to act on it.

use crate::status::Status;

/// The decision for one request: allow (and how to rewrite it) or deny (and what to reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Why: [`Status::Ok`] when allowed.
    pub status: Status,
    /// `WWW-Authenticate` value of a denial, as jwt_authn sends it.
    pub www_authenticate: Option<String>,
    /// Headers to remove before forwarding an allowed request (the token's, unless `forward`).
    pub remove_headers: Vec<String>,
    /// Headers to set (replace) before forwarding an allowed request: `:path` without the
    /// token's query parameter, unless `forward`.
    pub set_headers: Vec<(String, String)>,
}

impl Verdict {
    /// An allowed request, with the rewrites that strip its token.
    pub fn allow(remove_headers: Vec<String>, set_headers: Vec<(String, String)>) -> Self {
        Verdict { status: Status::Ok, www_authenticate: None, remove_headers, set_headers }
    }

    /// A denial with jwt_authn's `WWW-Authenticate`: `Bearer realm="<uri>"`, plus
    /// `, error="invalid_token"` unless the token is missing.
    pub fn deny(status: Status, realm: &str) -> Self {
        let mut challenge = format!("Bearer realm=\"{realm}\"");
        if status != Status::JwtMissed {
            challenge.push_str(", error=\"invalid_token\"");
        }
        Verdict { status, www_authenticate: Some(challenge), remove_headers: Vec::new(), set_headers: Vec::new() }
    }

    /// Whether the request may proceed.
    pub fn allowed(&self) -> bool {
        self.status.is_ok()
    }

    /// HTTP status of the reply: 200 when allowed, 403 for a disallowed audience, else 401.
    pub fn http_status(&self) -> u16 {
        self.status.http_status()
    }

    /// Body of the local reply: the status message, empty when allowed.
    pub fn body(&self) -> &'static str {
        if self.allowed() { "" } else { self.status.message() }
    }
}
