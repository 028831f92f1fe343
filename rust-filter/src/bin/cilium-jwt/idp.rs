//! `cilium-jwt idp`: a local identity provider for tests and demos, in place of the
//! seed's Auth0 tenant. Never a real IdP: keys live in memory or a local directory.
//!
//! - `GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json` (also `/keys`,
//!   the path of SPIRE's OIDC discovery provider);
//! - `POST /oauth/token`: Auth0's client-credentials grant (JSON or form body);
//! - with `--allow-test-tokens` only: `POST /test/token` (any claims, any expiry),
//!   `GET /token?aud=A` (a token as plain text) and `POST /admin/rotate`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use crate::serve::{self, Reply};

mod keys;

use keys::{KeyAlg, KeyStore};

/// Most tokens one `POST /test/token` mints.
const MAX_TEST_TOKENS: u64 = 100_000;

/// The secret every client id uses when no `--client` is given.
pub const DEFAULT_CLIENT_SECRET: &str = "cilium-jwt-lab-secret";

/// Token style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Auth0 style: RS256 access tokens, `sub` = `<client_id>@clients`.
    Auth0,
    /// SPIRE style: ES256 JWT-SVIDs, `sub` = `spiffe://<trust domain>/ns/default/sa/<client_id>`.
    Spire,
}

/// Arguments of `idp`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Issuer (`iss` of every token), e.g. `http://127.0.0.1:8080/` (Auth0 style: trailing slash).
    #[arg(long)]
    pub issuer: String,
    /// Token style.
    #[arg(long, value_enum, default_value = "auth0")]
    pub mode: Mode,
    /// Keep signing keys in DIR (keys.json), so a restarted IdP serves the same keys.
    #[arg(long, value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Token lifetime in seconds [default: 86400 (auth0), 300 (spire)].
    #[arg(long, value_name = "SECONDS")]
    pub token_ttl: Option<u64>,
    /// Rotate the signing key every SECONDS (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub rotate_every: u64,
    /// How long a replaced key stays published, in seconds [default: the token lifetime].
    #[arg(long, value_name = "SECONDS")]
    pub grace: Option<u64>,
    /// Trust domain of SPIFFE IDs (spire mode).
    #[arg(long, default_value = "example.org")]
    pub trust_domain: String,
    /// A client allowed to get tokens, as ID:SECRET (repeatable). Without any, every client
    /// id is accepted with the secret "cilium-jwt-lab-secret".
    #[arg(long = "client", value_name = "ID:SECRET")]
    pub clients: Vec<String>,
    /// Enable the test helpers (/test/token, /token, /admin/rotate): anyone can then mint
    /// any token, so never on a shared network.
    #[arg(long)]
    pub allow_test_tokens: bool,
}

/// The provider's state, shared by all connections.
pub struct Idp {
    args: Args,
    ttl: u64,
    clients: Vec<(String, String)>,
    keys: Mutex<KeyStore>,
}

impl Idp {
    /// Validates the arguments and opens (or creates) the keys.
    pub fn new(args: Args) -> Result<Idp, String> {
        url::Url::parse(&args.issuer)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| format!("--issuer {:?}: must be an absolute http(s) URL", args.issuer))?;
        let clients = args
            .clients
            .iter()
            .map(|c| match c.split_once(':') {
                Some((id, secret)) if valid_client_id(id) && !secret.is_empty() => {
                    Ok((id.to_string(), secret.to_string()))
                }
                _ => Err(format!("--client {c:?}: expected ID:SECRET, ID of letters, digits, '.', '-', '_'")),
            })
            .collect::<Result<_, _>>()?;
        let (alg, default_ttl) = match args.mode {
            Mode::Auth0 => (KeyAlg::Rs256, 86_400),
            Mode::Spire => (KeyAlg::Es256, 300),
        };
        let ttl = args.token_ttl.unwrap_or(default_ttl);
        let grace = Duration::from_secs(args.grace.unwrap_or(ttl));
        let keys = KeyStore::open(alg, args.keys_dir.as_deref(), grace, unix_now())?;
        Ok(Idp { args, ttl, clients, keys: Mutex::new(keys) })
    }

    /// The key set URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.args.issuer.trim_end_matches('/'))
    }

    /// Signs a token for `client_id` and `audience` with the current key.
    pub fn issue(&self, client_id: &str, audience: &str) -> Result<String, String> {
        let now = unix_now();
        let mut claims = self.base_claims(client_id, now);
        claims.insert("aud".into(), self.audience_claim(audience));
        self.sign(&Value::Object(claims))
    }

    /// Signs arbitrary claims: the defaults (`iss`, `sub`, `iat`, `exp`) overridden by
    /// `overrides`, where `null` removes a claim.
    pub fn mint(&self, overrides: &Map<String, Value>, expires_in: Option<i64>) -> Result<String, String> {
        let now = unix_now();
        let mut claims = self.base_claims("test-client", now);
        if let Some(expires_in) = expires_in {
            claims.insert("exp".into(), json!(now.saturating_add_signed(expires_in)));
        }
        for (name, value) in overrides {
            if value.is_null() {
                claims.remove(name);
            } else {
                claims.insert(name.clone(), value.clone());
            }
        }
        self.sign(&Value::Object(claims))
    }

    fn base_claims(&self, client_id: &str, now: u64) -> Map<String, Value> {
        let sub = match self.args.mode {
            Mode::Auth0 => format!("{client_id}@clients"),
            Mode::Spire => format!("spiffe://{}/ns/default/sa/{client_id}", self.args.trust_domain),
        };
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.args.issuer));
        claims.insert("sub".into(), json!(sub));
        if self.args.mode == Mode::Auth0 {
            claims.insert("azp".into(), json!(client_id));
            claims.insert("gty".into(), json!("client-credentials"));
        }
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + self.ttl));
        claims
    }

    fn audience_claim(&self, audience: &str) -> Value {
        // JWT-SVIDs carry `aud` as a list; Auth0 access tokens as a string.
        match self.args.mode {
            Mode::Auth0 => json!(audience),
            Mode::Spire => json!([audience]),
        }
    }

    fn sign(&self, claims: &Value) -> Result<String, String> {
        let keys = self.keys.lock();
        keys.current().ok_or("no signing key")?.sign(claims)
    }

    /// Starts signing with a new key; returns the published key ids, newest first.
    pub fn rotate(&self) -> Result<Vec<String>, String> {
        let mut keys = self.keys.lock();
        keys.rotate(unix_now())?;
        Ok(keys.kids())
    }

    fn jwks(&self) -> Value {
        let mut keys = self.keys.lock();
        keys.prune(unix_now());
        keys.jwks()
    }

    fn discovery(&self) -> Value {
        let base = self.args.issuer.trim_end_matches('/');
        let alg = match self.args.mode {
            Mode::Auth0 => "RS256",
            Mode::Spire => "ES256",
        };
        json!({
            "issuer": self.args.issuer,
            "jwks_uri": self.jwks_url(),
            "token_endpoint": format!("{base}/oauth/token"),
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [alg],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })
    }

    fn client_allowed(&self, id: &str, secret: &str) -> bool {
        if self.clients.is_empty() {
            return secret == DEFAULT_CLIENT_SECRET;
        }
        self.clients.iter().any(|(i, s)| i == id && s == secret)
    }

    /// Answers one request.
    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Reply {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or_default().to_string();
        let test = self.args.allow_test_tokens;
        match (method, path.as_str()) {
            (Method::GET, "/.well-known/openid-configuration") => serve::json(StatusCode::OK, &self.discovery()),
            (Method::GET, "/.well-known/jwks.json" | "/keys") => serve::json(StatusCode::OK, &self.jwks()),
            (Method::GET, "/healthz") => serve::text(StatusCode::OK, "ok\n"),
            (Method::POST, "/oauth/token") => match serve::read_body(request).await {
                Ok((parts, body)) => self.token_endpoint(&parts.headers, &body),
                Err(reply) => reply,
            },
            (Method::POST, "/test/token") if test => match serve::read_body(request).await {
                Ok((_, body)) => self.test_token(&body),
                Err(reply) => reply,
            },
            (Method::GET, "/token") if test => self.plain_token(&query),
            (Method::POST, "/admin/rotate") if test => match self.rotate() {
                Ok(kids) => serve::json(StatusCode::OK, &json!({"kid": kids.first(), "published": kids})),
                Err(e) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
            },
            (_, "/.well-known/openid-configuration" | "/.well-known/jwks.json" | "/keys" | "/oauth/token") => {
                oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "method not allowed")
            }
            _ => oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
        }
    }

    /// Auth0's `POST /oauth/token` with `grant_type=client_credentials`.
    fn token_endpoint(&self, headers: &hyper::HeaderMap, body: &[u8]) -> Reply {
        let content_type = headers.get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let fields: Map<String, Value> = if content_type.starts_with("application/x-www-form-urlencoded") {
            url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), json!(v))).collect()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "body must be a JSON object or a form",
                    );
                }
            }
        };
        let field = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
        if field("grant_type") != "client_credentials" {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
        let (client_id, secret, audience) = (field("client_id"), field("client_secret"), field("audience"));
        if !valid_client_id(client_id) || audience.is_empty() {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "client_id and audience are required");
        }
        if !self.client_allowed(client_id, secret) {
            return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
        }
        match self.issue(client_id, audience) {
            Ok(token) => serve::json(
                StatusCode::OK,
                &json!({"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}),
            ),
            Err(e) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
        }
    }

    /// `POST /test/token` `{"claims": {...}, "expiresIn": -3600}` → `{"access_token": ...}`;
    /// with `"count": N`, `{"tokens": [...]}`.
    fn test_token(&self, body: &[u8]) -> Reply {
        let request: Value = match serde_json::from_slice(body) {
            Ok(value @ Value::Object(_)) => value,
            _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "body must be a JSON object"),
        };
        let empty = Map::new();
        let claims = match request.get("claims") {
            None => &empty,
            Some(Value::Object(claims)) => claims,
            Some(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "claims must be an object"),
        };
        let expires_in = match request.get("expiresIn") {
            None => None,
            Some(v) => match v.as_i64() {
                Some(n) => Some(n),
                None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "expiresIn must be an integer"),
            },
        };
        // `count`: that many distinct tokens (a `jti` each), e.g. for benchmarks.
        let count = match request.get("count") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=MAX_TEST_TOKENS) => Some(n),
                _ => {
                    let message = format!("count must be an integer from 1 to {MAX_TEST_TOKENS}");
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &message);
                }
            },
        };
        let Some(count) = count else {
            return match self.mint(claims, expires_in) {
                Ok(token) => serve::json(StatusCode::OK, &json!({"access_token": token, "token_type": "Bearer"})),
                Err(e) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
            };
        };
        let mut tokens = Vec::new();
        for n in 0..count {
            let mut claims = claims.clone();
            claims.entry("jti").or_insert_with(|| json!(format!("{n}-{}", unix_now())));
            match self.mint(&claims, expires_in) {
                Ok(token) => tokens.push(token),
                Err(e) => return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
            }
        }
        serve::json(StatusCode::OK, &json!({"tokens": tokens}))
    }

    /// `GET /token?aud=A[&client=C]`: a token as plain text (for shell scripts).
    fn plain_token(&self, query: &str) -> Reply {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let Some(audience) = param("aud").filter(|a| !a.is_empty()) else {
            return serve::text(StatusCode::BAD_REQUEST, "aud is required\n");
        };
        let client = param("client").unwrap_or("test-client");
        if !valid_client_id(client) {
            return serve::text(StatusCode::BAD_REQUEST, "invalid client\n");
        }
        match self.issue(client, audience) {
            Ok(token) => serve::text(StatusCode::OK, format!("{token}\n")),
            Err(e) => serve::text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        }
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Reply {
    serve::json(status, &json!({"error": error, "error_description": description}))
}

/// Client ids become SPIFFE path segments: keep them to safe characters.
fn valid_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Serves the provider on an already bound listener until `shutdown`; rotates keys on
/// schedule if asked.
pub async fn serve_idp(
    idp: Arc<Idp>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    if idp.args.rotate_every > 0 {
        let every = Duration::from_secs(idp.args.rotate_every);
        let rotating = Arc::downgrade(&idp);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                ticks.tick().await;
                let Some(idp) = rotating.upgrade() else { return };
                match idp.rotate() {
                    Ok(kids) => eprintln!("cilium-jwt idp: rotated; published kids, newest (signing) first: {kids:?}"),
                    Err(e) => eprintln!("cilium-jwt idp: rotation failed: {e}"),
                }
            }
        });
    }
    let handler = idp.clone();
    serve::serve(listener, move |request| handler.clone().handle(request), shutdown).await;
}

/// `cilium-jwt idp`.
pub fn run(args: Args) -> Result<std::process::ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listen = args.listen;
        let allow_test = args.allow_test_tokens;
        let idp = Arc::new(Idp::new(args)?);
        let listener = serve::bind(listen).await?;
        let kid = idp.keys.lock().current().map(|k| k.kid.clone()).unwrap_or_default();
        eprintln!(
            "cilium-jwt idp: listening on http://{} (issuer {}, {:?} mode, kid {kid}, jwks {}){}",
            listener.local_addr().map_or(listen, |a| a),
            idp.args.issuer,
            idp.args.mode,
            idp.jwks_url(),
            if allow_test { "; TEST TOKEN ENDPOINTS ENABLED" } else { "" }
        );
        if idp.args.mode == Mode::Auth0 && !idp.args.issuer.ends_with('/') {
            eprintln!(
                "cilium-jwt idp: note: Auth0 issuers end with '/'; policies must use {:?} exactly",
                idp.args.issuer
            );
        }
        serve_idp(idp, listener, serve::shutdown_signal()).await;
        Ok(std::process::ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp(mode: Mode, clients: &[&str]) -> Idp {
        Idp::new(Args {
            listen: "127.0.0.1:0".parse().unwrap(),
            issuer: "http://127.0.0.1:1/".into(),
            mode,
            keys_dir: None,
            token_ttl: None,
            rotate_every: 0,
            grace: None,
            trust_domain: "example.org".into(),
            clients: clients.iter().map(|c| c.to_string()).collect(),
            allow_test_tokens: true,
        })
        .unwrap()
    }

    fn claims(token: &str) -> Value {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn auth0_and_spire_claims() {
        let token = idp(Mode::Auth0, &[]).issue("web", "Thales-accuknox-1st").unwrap();
        let c = claims(&token);
        assert_eq!(c["iss"], "http://127.0.0.1:1/");
        assert_eq!(c["aud"], "Thales-accuknox-1st");
        assert_eq!(c["sub"], "web@clients");
        assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 86_400);

        let token = idp(Mode::Spire, &[]).issue("web", "spiffe://example.org/webserver").unwrap();
        let c = claims(&token);
        assert_eq!(c["sub"], "spiffe://example.org/ns/default/sa/web");
        assert_eq!(c["aud"], json!(["spiffe://example.org/webserver"]));
        assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 300);
    }

    #[test]
    fn clients_and_secrets() {
        let open = idp(Mode::Auth0, &[]);
        assert!(open.client_allowed("anyone", DEFAULT_CLIENT_SECRET));
        assert!(!open.client_allowed("anyone", "wrong"));
        let listed = idp(Mode::Auth0, &["web:s3cret"]);
        assert!(listed.client_allowed("web", "s3cret"));
        assert!(!listed.client_allowed("web", DEFAULT_CLIENT_SECRET));
        assert!(!listed.client_allowed("other", "s3cret"));
        let bad = Idp::new(Args { clients: vec!["no-secret".into()], ..idp(Mode::Auth0, &[]).args.clone() });
        assert!(bad.err().unwrap().contains("expected ID:SECRET"));
    }

    #[test]
    fn mint_overrides_and_removes_claims() {
        let provider = idp(Mode::Auth0, &[]);
        let mut overrides = Map::new();
        overrides.insert("aud".into(), json!(["x", "y"]));
        overrides.insert("sub".into(), Value::Null);
        let c = claims(&provider.mint(&overrides, Some(-3600)).unwrap());
        assert_eq!(c["aud"], json!(["x", "y"]));
        assert!(c.get("sub").is_none());
        assert!(c["exp"].as_u64().unwrap() < unix_now() - 3000);
    }

    #[test]
    fn token_endpoint_accepts_json_and_form_and_rejects_wrong_secrets() {
        let provider = idp(Mode::Auth0, &[]);
        let json_headers = hyper::HeaderMap::new();
        let body = json!({"grant_type": "client_credentials", "client_id": "c", "client_secret": DEFAULT_CLIENT_SECRET, "audience": "a"});
        assert_eq!(provider.token_endpoint(&json_headers, body.to_string().as_bytes()).status(), StatusCode::OK);
        let mut form_headers = hyper::HeaderMap::new();
        form_headers.insert(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap());
        let form =
            format!("grant_type=client_credentials&client_id=c&client_secret={DEFAULT_CLIENT_SECRET}&audience=a");
        assert_eq!(provider.token_endpoint(&form_headers, form.as_bytes()).status(), StatusCode::OK);
        let wrong = "grant_type=client_credentials&client_id=c&client_secret=nope&audience=a";
        assert_eq!(provider.token_endpoint(&form_headers, wrong.as_bytes()).status(), StatusCode::UNAUTHORIZED);
        let grant = "grant_type=password&client_id=c&client_secret=x&audience=a";
        assert_eq!(provider.token_endpoint(&form_headers, grant.as_bytes()).status(), StatusCode::BAD_REQUEST);
    }
}
