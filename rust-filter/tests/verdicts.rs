//! End-to-end verdicts through the engine: keys generated here, the key set served over
//! real HTTP, every algorithm and every denial kind.

mod common;

use std::time::Duration;

use cilium_jwt::{Engine, EngineOptions, MatchJwt, Request, Status, Verdict};
use common::*;
use serde_json::{Value, json};
use url::Url;

const ISS: &str = "https://idp.test/";
const AUD: &str = "svc-a";

struct Fixture {
    engine: Engine,
    server: JwksServer,
    rsa: TestKey,
    p256: TestKey,
    p384: TestKey,
    p521: TestKey,
    ed: TestKey,
    hmac: TestKey,
}

fn fixture() -> Fixture {
    let (rsa, p256, p384, p521, ed, hmac) = (
        TestKey::rsa(),
        TestKey::ec("P-256"),
        TestKey::ec("P-384"),
        TestKey::ec("P-521"),
        TestKey::ed(),
        TestKey::hmac(),
    );
    let body = jwks(&[
        rsa.jwk("rsa", None),
        p256.jwk("p256", Some("ES256")),
        p384.jwk("p384", None),
        p521.jwk("p521", Some("ES512")),
        ed.jwk("ed", Some("EdDSA")),
        hmac.jwk("oct", Some("HS256")),
    ]);
    let server = JwksServer::new(Behaviour::Serve(body));
    let engine = Engine::new(EngineOptions::default()).unwrap();
    Fixture { engine, server, rsa, p256, p384, p521, ed, hmac }
}

impl Fixture {
    fn requirement(&self) -> MatchJwt {
        let mut m = MatchJwt::new(ISS, Url::parse(&self.server.url()).unwrap());
        m.audiences = vec![AUD.into(), "https://other.test/".into()];
        m
    }

    fn check_with(&self, m: &MatchJwt, path: &str, headers: &[(&str, &str)]) -> Verdict {
        let requirement = self.engine.requirement(m);
        let mut all = vec![("host", "svc.test:7070")];
        all.extend_from_slice(headers);
        self.engine.check(&requirement, &Request::new(path, &all))
    }

    fn check(&self, token: &str) -> Verdict {
        let bearer = format!("Bearer {token}");
        self.check_with(&self.requirement(), "/api", &[("authorization", &bearer)])
    }
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "kid": kid, "typ": "JWT"})
}

fn denied(verdict: &Verdict, status: Status) {
    assert_eq!(verdict.status, status, "{verdict:?}");
    assert!(!verdict.allowed());
}

#[test]
fn every_algorithm_verifies() {
    let f = fixture();
    let c = claims(ISS, AUD);
    let cases: Vec<(&TestKey, &str, &str)> = vec![
        (&f.rsa, "RS256", "rsa"),
        (&f.rsa, "RS384", "rsa"),
        (&f.rsa, "RS512", "rsa"),
        (&f.rsa, "PS256", "rsa"),
        (&f.rsa, "PS384", "rsa"),
        (&f.rsa, "PS512", "rsa"),
        (&f.p256, "ES256", "p256"),
        (&f.p384, "ES384", "p384"),
        (&f.p521, "ES512", "p521"),
        (&f.ed, "EdDSA", "ed"),
        (&f.hmac, "HS256", "oct"),
    ];
    for (key, alg, kid) in cases {
        let verdict = f.check(&key.token(&header(alg, kid), &c));
        assert!(verdict.allowed(), "{alg}: {verdict:?}");
        assert_eq!(verdict.http_status(), 200);
        assert_eq!(verdict.body(), "");
        assert_eq!(verdict.remove_headers, vec!["authorization"]);
    }
    // Without kid every candidate key is tried.
    assert!(f.check(&f.p521.token(&json!({"alg": "ES512"}), &c)).allowed());
}

#[test]
fn missing_token_is_401_without_error_attribute() {
    let f = fixture();
    let verdict = f.check_with(&f.requirement(), "/api?x=1", &[]);
    denied(&verdict, Status::JwtMissed);
    assert_eq!(verdict.http_status(), 401);
    assert_eq!(verdict.body(), "Jwt is missing");
    assert_eq!(verdict.www_authenticate.as_deref(), Some("Bearer realm=\"http://svc.test:7070/api?x=1\""));
}

#[test]
fn audience_mismatch_is_the_only_403() {
    let f = fixture();
    let verdict = f.check(&f.rsa.token(&header("RS256", "rsa"), &claims(ISS, "someone-else")));
    denied(&verdict, Status::JwtAudienceNotAllowed);
    assert_eq!(verdict.http_status(), 403);
    assert_eq!(
        verdict.www_authenticate.as_deref(),
        Some("Bearer realm=\"http://svc.test:7070/api\", error=\"invalid_token\"")
    );
    // Normalised: scheme prefix and trailing slash do not matter.
    assert!(f.check(&f.rsa.token(&header("RS256", "rsa"), &claims(ISS, "http://other.test"))).allowed());
}

#[test]
fn time_and_issuer_checks_in_order() {
    let f = fixture();
    let t = |c: Value| f.check(&f.rsa.token(&header("RS256", "rsa"), &c));
    let now = now();
    let mut c = claims(ISS, AUD);
    c["exp"] = json!(now - 61);
    denied(&t(c.clone()), Status::JwtExpired);
    c["exp"] = json!(now - 30); // within the 60 s skew
    assert!(t(c.clone()).allowed());
    c["nbf"] = json!(now + 120);
    denied(&t(c.clone()), Status::JwtNotYetValid);
    // Issuer is checked before time and audience.
    c["iss"] = json!("https://evil.test/");
    c["aud"] = json!("nobody");
    denied(&t(c.clone()), Status::JwtUnknownIssuer);
    // Time before audience.
    let mut c = claims(ISS, "nobody");
    c["exp"] = json!(now - 3600);
    denied(&t(c), Status::JwtExpired);
    // No exp: refused (jwt_authn's require_expiration).
    let mut c = claims(ISS, AUD);
    c.as_object_mut().unwrap().remove("exp");
    denied(&t(c), Status::JwtVerificationFail);
}

#[test]
fn signature_and_key_selection_failures() {
    let f = fixture();
    let c = claims(ISS, AUD);
    let good = f.rsa.token(&header("RS256", "rsa"), &c);

    let (signed, sig) = good.rsplit_once('.').unwrap();
    let mut tampered_sig = cilium_jwt::base64url::decode(sig).unwrap();
    tampered_sig[10] ^= 1;
    let tampered = format!("{signed}.{}", cilium_jwt::base64url::encode(&tampered_sig));
    denied(&f.check(&tampered), Status::JwtVerificationFail);

    let truncated = &good[..good.len() - 10];
    denied(&f.check(truncated), Status::JwtVerificationFail);

    // Payload swapped under a valid signature.
    let other_payload =
        cilium_jwt::base64url::encode(json!({"iss": ISS, "aud": AUD, "exp": now() + 9999}).to_string().as_bytes());
    let parts: Vec<&str> = good.split('.').collect();
    denied(&f.check(&format!("{}.{}.{}", parts[0], other_payload, parts[2])), Status::JwtVerificationFail);

    denied(&f.check(&f.rsa.token(&header("RS256", "unknown-kid"), &c)), Status::JwksKidAlgMismatch);

    // alg none is not implemented.
    let none = format!(
        "{}.{}.c2ln",
        cilium_jwt::base64url::encode(br#"{"alg":"none"}"#),
        cilium_jwt::base64url::encode(c.to_string().as_bytes())
    );
    denied(&f.check(&none), Status::JwtHeaderNotImplementedAlg);

    // HS256 "signed" with the RSA public key as the secret: the RSA key never does HMAC.
    let rsa_jwk = f.rsa.jwk("rsa", None);
    let n = cilium_jwt::base64url::decode(rsa_jwk["n"].as_str().unwrap()).unwrap();
    let confused = TestKey::Hmac(n).token(&header("HS256", "rsa"), &c);
    denied(&f.check(&confused), Status::JwtVerificationFail);

    // ECDSA with r = s = 0.
    let zero = format!(
        "{}.{}",
        good.rsplit_once('.')
            .unwrap()
            .0
            .replace(parts[0], &cilium_jwt::base64url::encode(header("ES256", "p256").to_string().as_bytes())),
        cilium_jwt::base64url::encode(&[0u8; 64])
    );
    denied(&f.check(&zero), Status::JwtVerificationFail);

    // The token's alg must fit the key: an ES384 label with the P-256 key's kid.
    denied(&f.check(&f.p256.token(&header("ES384", "p256"), &c)), Status::JwksKidAlgMismatch);

    denied(&f.check("not-a-token"), Status::JwtBadFormat);
}

#[test]
fn embedded_keys_in_headers_are_ignored() {
    let f = fixture();
    let attacker = TestKey::rsa();
    let c = claims(ISS, AUD);
    for extra in ["jwk", "jku", "x5u"] {
        let mut h = header("RS256", "attacker");
        h[extra] = match extra {
            "jwk" => attacker.jwk("attacker", Some("RS256")),
            _ => json!("http://127.0.0.1:1/evil"),
        };
        denied(&f.check(&attacker.token(&h, &c)), Status::JwksKidAlgMismatch);
    }
}

#[test]
fn all_tokens_must_be_valid() {
    let f = fixture();
    let good = f.rsa.token(&header("RS256", "rsa"), &claims(ISS, AUD));
    let mut expired = claims(ISS, AUD);
    expired["exp"] = json!(now() - 3600);
    let expired = f.rsa.token(&header("RS256", "rsa"), &expired);
    let bearer = format!("Bearer {good}");
    let m = f.requirement();
    // Header good, query expired: the query token (found last) decides.
    let verdict = f.check_with(&m, &format!("/api?access_token={expired}"), &[("authorization", &bearer)]);
    denied(&verdict, Status::JwtExpired);
    // Query token alone works, and is removed from the forwarded path.
    let verdict = f.check_with(&m, &format!("/api?a=1&access_token={good}&b=2"), &[]);
    assert!(verdict.allowed());
    assert_eq!(verdict.set_headers, vec![(":path".to_string(), "/api?a=1&b=2".to_string())]);
}

#[test]
fn forward_keeps_the_token_and_custom_locations() {
    let f = fixture();
    let mut m = f.requirement();
    m.forward = true;
    m.from_headers = vec![cilium_jwt::HeaderLocation { name: "x-jwt".into(), value_prefix: String::new() }];
    let good = f.rsa.token(&header("RS256", "rsa"), &claims(ISS, AUD));
    let verdict = f.check_with(&m, "/", &[("x-jwt", &good)]);
    assert!(verdict.allowed(), "{verdict:?}");
    assert!(verdict.remove_headers.is_empty());
    // The default Authorization location is not consulted once fromHeaders is set.
    let bearer = format!("Bearer {good}");
    denied(&f.check_with(&m, "/", &[("authorization", &bearer)]), Status::JwtMissed);
}

#[test]
fn verified_tokens_are_cached_and_expire() {
    let f = fixture();
    let mut m = f.requirement();
    m.clock_skew_seconds = 0;
    let mut c = claims(ISS, AUD);
    c["exp"] = json!(now() + 1);
    let token = f.rsa.token(&header("RS256", "rsa"), &c);
    let bearer = format!("Bearer {token}");
    assert!(f.check_with(&m, "/", &[("authorization", &bearer)]).allowed());
    assert_eq!(f.engine.cached_tokens(), 1);
    assert!(f.check_with(&m, "/", &[("authorization", &bearer)]).allowed());
    std::thread::sleep(Duration::from_millis(2100));
    denied(&f.check_with(&m, "/", &[("authorization", &bearer)]), Status::JwtExpired);
}

#[test]
fn spire_requires_a_spiffe_id_subject() {
    let f = fixture();
    let mut m = f.requirement();
    m.provider = cilium_jwt::Provider::Spire;
    let mut c = claims(ISS, AUD);
    c["sub"] = json!("spiffe://example.org/ns/default/sa/client");
    let bearer = format!("Bearer {}", f.p256.token(&header("ES256", "p256"), &c));
    assert!(f.check_with(&m, "/", &[("authorization", &bearer)]).allowed());
    c["sub"] = json!("client@clients");
    let bearer = format!("Bearer {}", f.p256.token(&header("ES256", "p256"), &c));
    denied(&f.check_with(&m, "/", &[("authorization", &bearer)]), Status::JwtVerificationFail);
}

#[test]
fn policy_from_yaml_end_to_end() {
    let f = fixture();
    let yaml = format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: client-identity, namespace: default}}
spec:
  endpointSelector: {{matchLabels: {{component: webserver}}}}
  ingress:
  - toPorts:
    - ports: [{{port: "7070", protocol: TCP}}]
      rules:
        http:
        - matchJWT:
            provider: AUTH0
            issuer: "{ISS}"
            jwksUrl: "{}"
            audiences: [Thales-accuknox-1st, Thales-accuknox-2nd]
"#,
        f.server.url()
    );
    f.engine.load_policy(&yaml).unwrap();
    let token = f.rsa.token(&header("RS256", "rsa"), &claims(ISS, "Thales-accuknox-2nd"));
    let bearer = format!("Bearer {token}");
    let headers = [("host", "web:7070"), ("authorization", bearer.as_str())];
    assert!(f.engine.check_policy(&Request::new("/", &headers)).allowed());
    assert!(f.engine.check_rule(0, &Request::new("/", &headers)).allowed());
    denied(&f.engine.check_rule(1, &Request::new("/", &headers)), Status::JwtVerificationFail);
    let headers = [("host", "web:7070")];
    denied(&f.engine.check_policy(&Request::new("/", &headers)), Status::JwtMissed);
}
