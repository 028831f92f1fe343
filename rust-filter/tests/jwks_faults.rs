//! The key set cache against a real local HTTP server that misbehaves: down, slow, 500,
//! garbage, huge, rotating, and flooded with unknown kids. Whatever the provider does, a
//! verdict arrives within the bound and nothing is allowed that should be denied.

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cilium_jwt::jwks_cache::JwksOptions;
use cilium_jwt::{CheckStart, Engine, EngineOptions, MatchJwt, Request, Requirement, Status, Verdict};
use common::*;
use serde_json::json;
use url::Url;

const ISS: &str = "https://idp.test/";

fn options() -> EngineOptions {
    EngineOptions {
        fetch_timeout: Duration::from_millis(500),
        max_wait: Duration::from_millis(800),
        max_jwks_bytes: 64 * 1024,
        jwks: JwksOptions {
            max_stale: Duration::from_secs(2),
            kid_refetch_interval: Duration::from_secs(30),
            min_fetch_interval: Duration::from_millis(200),
            max_retry_interval: Duration::from_millis(400),
        },
        ..EngineOptions::default()
    }
}

fn requirement(server: &JwksServer) -> MatchJwt {
    MatchJwt::new(ISS, Url::parse(&server.url()).unwrap())
}

fn check(engine: &Engine, requirement: &Requirement, token: &str) -> Verdict {
    let bearer = format!("Bearer {token}");
    let headers = [("host", "svc"), ("authorization", bearer.as_str())];
    engine.check(requirement, &Request::new("/", &headers))
}

fn token(key: &TestKey, kid: &str) -> String {
    key.token(&json!({"alg": "ES256", "kid": kid}), &claims(ISS, "svc"))
}

/// A check never waits much longer than max_wait, and then fails closed.
fn assert_bounded_failure(engine: &Engine, requirement: &Requirement, token: &str) {
    let started = Instant::now();
    let verdict = check(engine, requirement, token);
    let took = started.elapsed();
    assert_eq!(verdict.status, Status::JwksFetchFail, "{verdict:?}");
    assert_eq!(verdict.body(), "Jwks remote fetch is failed");
    assert!(took < engine.options().max_wait + Duration::from_millis(400), "took {took:?}");
}

#[test]
fn provider_down_at_cold_start_then_recovers() {
    let key = TestKey::ec("P-256");
    let mut server = JwksServer::new(Behaviour::Serve(jwks(&[key.jwk("k1", None)])));
    server.stop();
    let engine = Engine::new(options()).unwrap();
    let m = engine.requirement(&requirement(&server));
    assert_bounded_failure(&engine, &m, &token(&key, "k1"));
    server.start();
    // The retry loop fetches again within its backoff; the next check succeeds.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let verdict = check(&engine, &m, &token(&key, "k1"));
        if verdict.allowed() {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {verdict:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn slow_provider_fails_closed_at_the_bound() {
    let key = TestKey::ec("P-256");
    let server = JwksServer::new(Behaviour::Slow(Duration::from_secs(5), jwks(&[key.jwk("k1", None)])));
    let engine = Engine::new(options()).unwrap();
    assert_bounded_failure(&engine, &engine.requirement(&requirement(&server)), &token(&key, "k1"));
}

#[test]
fn error_status_garbage_huge_and_hangup_fail_closed() {
    let key = TestKey::ec("P-256");
    let behaviours = [
        Behaviour::Status(500),
        Behaviour::Status(302),
        Behaviour::Serve("this is not json".into()),
        Behaviour::Serve(r#"{"keys":[{"kty":"RSA","n":"AQAB"}]}"#.into()),
        Behaviour::Serve(r#"{"keys":"nope"}"#.into()),
        Behaviour::Huge(200 * 1024),
        Behaviour::Hangup,
    ];
    for behaviour in behaviours {
        let server = JwksServer::new(behaviour.clone());
        let engine = Engine::new(options()).unwrap();
        let m = engine.requirement(&requirement(&server));
        assert_bounded_failure(&engine, &m, &token(&key, "k1"));
        let entry = engine.jwks_entry(&server.url()).unwrap();
        assert!(entry.last_error().is_some(), "{behaviour:?}");
    }
}

#[test]
fn last_good_keys_serve_while_down_for_a_bounded_time() {
    let key = TestKey::ec("P-256");
    let mut server = JwksServer::new(Behaviour::Serve(jwks(&[key.jwk("k1", None)])));
    let engine = Engine::new(options()).unwrap();
    let mut m = requirement(&server);
    m.cache_duration = Duration::from_secs(1);
    let m = engine.requirement(&m);
    assert!(check(&engine, &m, &token(&key, "k1")).allowed());
    server.stop();
    // Past cacheDuration, within max_stale: still served (a fresh token: no cache hit).
    std::thread::sleep(Duration::from_millis(1500));
    assert!(check(&engine, &m, &token(&key, "k1")).allowed());
    // Past cacheDuration + max_stale: the keys are no longer trusted.
    std::thread::sleep(Duration::from_millis(2000));
    assert_bounded_failure(&engine, &m, &token(&key, "k1"));
}

#[test]
fn rotation_to_a_new_kid_is_picked_up_without_waiting_for_expiry() {
    let (old, new) = (TestKey::ec("P-256"), TestKey::ec("P-256"));
    let server = JwksServer::new(Behaviour::Serve(jwks(&[old.jwk("old", None)])));
    let engine = Engine::new(options()).unwrap();
    let m = engine.requirement(&requirement(&server));
    assert!(check(&engine, &m, &token(&old, "old")).allowed());
    server.set(Behaviour::Serve(jwks(&[old.jwk("old", None), new.jwk("new", None)])));
    let verdict = check(&engine, &m, &token(&new, "new"));
    assert!(verdict.allowed(), "{verdict:?}");
    assert!(check(&engine, &m, &token(&old, "old")).allowed());
}

#[test]
fn random_kids_cannot_flood_the_provider() {
    let key = TestKey::ec("P-256");
    let server = JwksServer::new(Behaviour::Serve(jwks(&[key.jwk("k1", None)])));
    let engine = Engine::new(options()).unwrap();
    let m = engine.requirement(&requirement(&server));
    assert!(check(&engine, &m, &token(&key, "k1")).allowed());
    let before = server.count();
    for i in 0..500 {
        let verdict = check(&engine, &m, &token(&key, &format!("random-{i}")));
        assert_eq!(verdict.status, Status::JwksKidAlgMismatch);
    }
    // One refetch per kid_refetch_interval (30 s here) at most.
    assert!(server.count() - before <= 1, "{} fetches", server.count() - before);
}

#[test]
fn concurrent_cold_misses_share_one_fetch() {
    let key = TestKey::ec("P-256");
    let server = JwksServer::new(Behaviour::Slow(Duration::from_millis(300), jwks(&[key.jwk("k1", None)])));
    let engine = Engine::new(options()).unwrap();
    let requirement = engine.requirement(&requirement(&server));
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (engine, requirement, barrier) = (engine.clone(), requirement.clone(), barrier.clone());
            let token = format!("Bearer {}", token(&key, "k1"));
            std::thread::spawn(move || {
                barrier.wait();
                let headers = [("authorization", token.as_str())];
                engine.check(&requirement, &Request::new("/", &headers)).allowed()
            })
        })
        .collect();
    for thread in threads {
        assert!(thread.join().unwrap());
    }
    assert_eq!(server.count(), 1);
}

/// Starts a non-blocking check while the key server takes `delay` to answer; returns
/// the engine, the request's verdict after the callback, and how long the callback took.
fn pending_check(delay: Duration) -> (Verdict, Duration, Engine, Arc<Requirement>, String) {
    let key = TestKey::ec("P-256");
    let server = JwksServer::new(Behaviour::Slow(delay, jwks(&[key.jwk("k1", None)])));
    let engine = Engine::new(options()).unwrap();
    let requirement = engine.requirement(&requirement(&server));
    let bearer = format!("Bearer {}", token(&key, "k1"));
    let headers = [("authorization", bearer.as_str())];
    let request = Request::new("/", &headers);
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    match engine.start_check(&requirement, &request, Box::new(move || tx.send(()).unwrap())) {
        CheckStart::Pending => {}
        CheckStart::Done(verdict) => panic!("expected pending, got {verdict:?}"),
    }
    rx.recv_timeout(Duration::from_secs(3)).unwrap();
    let waited = started.elapsed();
    (engine.finish_check(&requirement, &request), waited, engine, requirement, bearer)
}

#[test]
fn non_blocking_check_calls_back_once_keys_arrive() {
    let (verdict, _, engine, requirement, bearer) = pending_check(Duration::from_millis(200));
    assert!(verdict.allowed(), "{verdict:?}");
    // Now cached: decided at once.
    let headers = [("authorization", bearer.as_str())];
    let request = Request::new("/", &headers);
    assert!(matches!(engine.start_check(&requirement, &request, Box::new(|| {})), CheckStart::Done(v) if v.allowed()));
}

#[test]
fn non_blocking_check_times_out_and_fails_closed() {
    let (verdict, waited, ..) = pending_check(Duration::from_secs(5));
    assert!(waited < Duration::from_millis(1200), "{waited:?}");
    assert_eq!(verdict.status, Status::JwksFetchFail);
}
