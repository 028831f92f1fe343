//! The adapter against a fake stream, with real tokens and a real key set server.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::config::ModuleConfig;
use crate::stream::Scheduler;

// ---------------------------------------------------------------- keys and tokens

struct SigningKey {
    kid: String,
    pkcs8: Vec<u8>,
    jwk: Value,
}

fn signing_key(kid: &str) -> SigningKey {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    SigningKey { kid: kid.into(), pkcs8: pkcs8.as_ref().to_vec(), jwk }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

const ISSUER: &str = "https://idp.test/";

fn token(key: &SigningKey, aud: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    let claims = json!({"iss": ISSUER, "sub": "client@clients", "aud": aud, "iat": now(), "exp": now() + 600});
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_ec_der(&key.pkcs8)).unwrap()
}

// ---------------------------------------------------------------- key set server

/// Serves one key set on 127.0.0.1 after an optional delay.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn jwks_server(keys: &[&SigningKey], delay: Duration) -> JwksServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    let body = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(mut connection) = connection else { continue };
            let body = body.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match connection.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(delay);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = connection.write_all(response.as_bytes());
            });
        }
    });
    JwksServer { url, hits }
}

/// A URL where nothing listens.
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/jwks", listener.local_addr().unwrap())
}

// ---------------------------------------------------------------- fake stream

#[derive(Default)]
struct SchedulerLog {
    commits: Mutex<Vec<u64>>,
    alive: AtomicIsize,
    created: AtomicUsize,
}

struct FakeScheduler(Arc<SchedulerLog>);

impl Scheduler for FakeScheduler {
    fn commit(&self, event_id: u64) {
        self.0.commits.lock().unwrap().push(event_id);
    }
}

impl Drop for FakeScheduler {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    details: String,
}

struct FakeStream {
    headers: Vec<(String, String)>,
    changes: RefCell<Vec<(String, Option<String>)>>,
    replies: RefCell<Vec<Reply>>,
    continued: Cell<usize>,
    schedulers: Arc<SchedulerLog>,
    can_schedule: bool,
}

impl FakeStream {
    fn new(path: &str, headers: &[(&str, &str)]) -> FakeStream {
        let mut all = vec![
            (":path".to_string(), path.to_string()),
            (":scheme".to_string(), "http".to_string()),
            (":authority".to_string(), "web:7070".to_string()),
        ];
        all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        FakeStream {
            headers: all,
            changes: RefCell::default(),
            replies: RefCell::default(),
            continued: Cell::new(0),
            schedulers: Arc::default(),
            can_schedule: true,
        }
    }

    fn bearer(path: &str, token: &str) -> FakeStream {
        FakeStream::new(path, &[("authorization", &format!("Bearer {token}"))])
    }

    fn reply(&self) -> Reply {
        let replies = self.replies.borrow();
        assert_eq!(replies.len(), 1, "exactly one local reply expected: {replies:?}");
        replies[0].clone()
    }

    fn wait_for_commit(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.schedulers.commits.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "scheduled hook never committed");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Stream for FakeStream {
    fn request_header(&self, name: &str, index: usize) -> (Option<&[u8]>, usize) {
        let values: Vec<&String> = self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        (values.get(index).map(|v| v.as_bytes()), values.len())
    }
    fn set_request_header(&self, name: &str, value: Option<&str>) {
        self.changes.borrow_mut().push((name.to_string(), value.map(str::to_string)));
    }
    fn send_response(&self, status: u16, headers: &[(&str, &str)], body: &str, details: &str) {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        self.replies.borrow_mut().push(Reply { status, headers, body: body.into(), details: details.into() });
    }
    fn continue_decoding(&self) {
        self.continued.set(self.continued.get() + 1);
    }
    fn new_scheduler(&self) -> Option<Box<dyn Scheduler>> {
        if !self.can_schedule {
            return None;
        }
        self.schedulers.alive.fetch_add(1, Ordering::SeqCst);
        self.schedulers.created.fetch_add(1, Ordering::SeqCst);
        Some(Box::new(FakeScheduler(self.schedulers.clone())))
    }
}

// ---------------------------------------------------------------- helpers

fn rule(jwks_url: &str, audiences: &[&str]) -> Value {
    json!({"issuer": ISSUER, "jwksUrl": jwks_url, "audiences": audiences})
}

fn settings() -> Value {
    json!({"maxWaitMs": 2000, "minFetchIntervalMs": 100, "maxRetryIntervalMs": 200})
}

fn filter_config(rules: Value) -> Arc<FilterConfig> {
    let text = json!({"rules": rules, "engine": settings()}).to_string();
    Arc::new(FilterConfig::new(&ModuleConfig::parse(text.as_bytes()).unwrap()).unwrap())
}

fn warm(config: &FilterConfig) {
    for rule in &config.rules {
        assert!(config.engine.wait_for_keys(rule, Duration::from_secs(5)), "keys never arrived");
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn missing_token_gets_jwt_authn_reply() {
    let config = filter_config(json!([rule(&dead_url(), &["a"])]));
    let filter = Filter::new(config);
    let stream = FakeStream::new("/index.html?q=1", &[]);
    assert_eq!(filter.on_request_headers(&stream), HeadersAction::Stop);
    assert_eq!(
        stream.reply(),
        Reply {
            status: 401,
            headers: vec![("www-authenticate".into(), "Bearer realm=\"http://web:7070/index.html?q=1\"".into())],
            body: "Jwt is missing".into(),
            details: "jwt_authn_access_denied{Jwt_is_missing}".into(),
        }
    );
    assert_eq!(filter.on_request_body(), BodyAction::Drop);
    assert!(!filter.on_request_trailers());
    assert!(stream.changes.borrow().is_empty());
}

#[test]
fn cold_keys_hold_everything_then_allow_and_strip_the_token() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::from_millis(300));
    let config = filter_config(json!([rule(&server.url, &["a"])]));
    let filter = Filter::new(config);
    let stream = FakeStream::bearer("/", &token(&key, "a"));

    assert_eq!(filter.on_request_headers(&stream), HeadersAction::Wait);
    assert_eq!(filter.on_request_body(), BodyAction::Hold, "the body must not pass while pending");
    assert!(!filter.on_request_trailers(), "trailers must not pass while pending");
    stream.wait_for_commit();
    filter.on_scheduled(&stream);

    assert_eq!(filter.phase(), Phase::Allowed);
    assert_eq!(stream.continued.get(), 1);
    assert!(stream.replies.borrow().is_empty());
    assert_eq!(*stream.changes.borrow(), vec![("authorization".to_string(), None)]);
    assert_eq!(filter.on_request_body(), BodyAction::Continue);
    assert!(filter.on_request_trailers());
    assert_eq!(stream.schedulers.alive.load(Ordering::SeqCst), 0, "scheduler released after commit");
    filter.on_scheduled(&stream); // a stray event changes nothing
    assert_eq!(stream.continued.get(), 1);
    assert!(server.hits.load(Ordering::SeqCst) >= 1);
}

#[test]
fn warm_keys_decide_at_once_and_strip_a_query_token() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::ZERO);
    let config = filter_config(json!([rule(&server.url, &["a"])]));
    warm(&config);
    let filter = Filter::new(config);
    let stream = FakeStream::new(&format!("/p?access_token={}&x=1", token(&key, "a")), &[]);
    assert_eq!(filter.on_request_headers(&stream), HeadersAction::Continue);
    assert_eq!(*stream.changes.borrow(), vec![(":path".to_string(), Some("/p?x=1".to_string()))]);
    assert_eq!(stream.schedulers.created.load(Ordering::SeqCst), 0, "no scheduler when nothing waits");
}

#[test]
fn any_rule_allows_otherwise_the_first_rules_denial() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::ZERO);
    let mut other_issuer = rule(&server.url, &["a"]);
    other_issuer["issuer"] = json!("https://other.test/");
    let config = filter_config(json!([other_issuer, rule(&server.url, &["a"])]));
    warm(&config);

    let allowed = FakeStream::bearer("/", &token(&key, "a"));
    assert_eq!(Filter::new(config.clone()).on_request_headers(&allowed), HeadersAction::Continue);

    let denied = FakeStream::bearer("/", &token(&key, "zzz"));
    assert_eq!(Filter::new(config).on_request_headers(&denied), HeadersAction::Stop);
    let reply = denied.reply();
    assert_eq!((reply.status, reply.body.as_str()), (401, "Jwt issuer is not configured"));
    assert_eq!(reply.headers[0].1, "Bearer realm=\"http://web:7070/\", error=\"invalid_token\"");
}

#[test]
fn wrong_audience_is_403() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::ZERO);
    let config = filter_config(json!([rule(&server.url, &["a"])]));
    warm(&config);
    let stream = FakeStream::bearer("/", &token(&key, "b"));
    assert_eq!(Filter::new(config).on_request_headers(&stream), HeadersAction::Stop);
    let reply = stream.reply();
    assert_eq!((reply.status, reply.body.as_str()), (403, "Audiences in Jwt are not allowed"));
    assert_eq!(reply.details, "jwt_authn_access_denied{Audiences_in_Jwt_are_not_allowed}");
}

#[test]
fn destroyed_while_pending_releases_the_scheduler_and_is_never_woken() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::from_millis(400));
    let config = filter_config(json!([rule(&server.url, &["a"])]));
    let filter = Filter::new(config);
    let stream = FakeStream::bearer("/", &token(&key, "a"));
    assert_eq!(filter.on_request_headers(&stream), HeadersAction::Wait);
    assert_eq!(stream.schedulers.alive.load(Ordering::SeqCst), 1);
    filter.on_destroy();
    drop(filter);
    assert_eq!(stream.schedulers.alive.load(Ordering::SeqCst), 0);
    std::thread::sleep(Duration::from_millis(900));
    assert!(stream.schedulers.commits.lock().unwrap().is_empty(), "a destroyed stream must not be committed");
    assert_eq!(stream.schedulers.alive.load(Ordering::SeqCst), 0, "released exactly once");
}

#[test]
fn unreachable_keys_fail_closed_after_the_wait() {
    let key = signing_key("k1");
    let config = filter_config(json!([rule(&dead_url(), &["a"])]));
    let filter = Filter::new(config);
    let stream = FakeStream::bearer("/", &token(&key, "a"));
    assert_eq!(filter.on_request_headers(&stream), HeadersAction::Wait);
    stream.wait_for_commit();
    filter.on_scheduled(&stream);
    let reply = stream.reply();
    assert_eq!((reply.status, reply.body.as_str()), (401, "Jwks remote fetch is failed"));
    assert_eq!(stream.continued.get(), 0, "a denied request is never resumed");
    assert_eq!(filter.on_request_body(), BodyAction::Drop);
}

#[test]
fn without_a_scheduler_decides_with_the_keys_at_hand() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::from_millis(500));
    let config = filter_config(json!([rule(&server.url, &["a"])]));
    let filter = Filter::new(config);
    let mut stream = FakeStream::bearer("/", &token(&key, "a"));
    stream.can_schedule = false;
    assert_eq!(filter.on_request_headers(&stream), HeadersAction::Stop);
    assert_eq!(stream.reply().body, "Jwks remote fetch is failed");
}

#[test]
fn fail_closed_replies_500_once() {
    let config = filter_config(json!([rule(&dead_url(), &["a"])]));
    let filter = Filter::new(config);
    let stream = FakeStream::new("/", &[]);
    filter.fail_closed(&stream);
    filter.fail_closed(&stream);
    assert_eq!(stream.reply().status, 500);
    assert_eq!(filter.on_request_body(), BodyAction::Drop);
}

#[test]
fn reads_every_value_of_repeated_token_headers() {
    let key = signing_key("k1");
    let server = jwks_server(&[&key], Duration::ZERO);
    let mut custom = rule(&server.url, &["a"]);
    custom["fromHeaders"] = json!([{"name": "x-jwt"}]);
    let config = filter_config(json!([custom]));
    warm(&config);
    let good = token(&key, "a");
    // Every value must verify: a good token next to a bad one is denied, as in jwt_authn.
    let stream = FakeStream::new("/", &[("x-jwt", good.as_str()), ("x-jwt", "bad")]);
    assert_eq!(Filter::new(config.clone()).on_request_headers(&stream), HeadersAction::Stop);
    let stream = FakeStream::new("/", &[("x-jwt", good.as_str()), ("x-jwt", good.as_str())]);
    assert_eq!(Filter::new(config).on_request_headers(&stream), HeadersAction::Continue);
}
