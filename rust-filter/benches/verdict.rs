//! Verdict cost: a cached verdict, and uncached verdicts next to the raw aws-lc-rs
//! verification of the very same signature (the floor an uncached verdict can reach).
//! Run: `cargo bench -p cilium-jwt --bench verdict`. Ratios go in the README.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey, VerificationAlgorithm,
};
use cilium_jwt::{Engine, EngineOptions, MatchJwt, Request, base64url};
use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use url::Url;

const ISS: &str = "https://idp.bench/";

/// The public key bytes aws-lc-rs verifies with, derived from the JWK.
fn raw_public_key(key: &TestKey) -> Vec<u8> {
    let jwk = key.jwk("k", None);
    let field = |name: &str| base64url::decode(jwk[name].as_str().unwrap()).unwrap();
    match key {
        TestKey::Rsa(_) => {
            // PKCS#1 RSAPublicKey DER, as the engine builds it.
            let (n, e) = (field("n"), field("e"));
            let int = |v: &[u8]| {
                let mut out = vec![0x02];
                let pad = v[0] & 0x80 != 0;
                let len = v.len() + usize::from(pad);
                if len < 128 {
                    out.push(len as u8)
                } else {
                    out.extend([0x82, (len >> 8) as u8, len as u8])
                }
                if pad {
                    out.push(0)
                }
                out.extend_from_slice(v);
                out
            };
            let body = [int(&n), int(&e)].concat();
            let mut der = vec![0x30, 0x82, (body.len() >> 8) as u8, body.len() as u8];
            der.extend(body);
            der
        }
        TestKey::Ec(..) => [vec![4], field("x"), field("y")].concat(),
        TestKey::Ed(_) => field("x"),
        TestKey::Hmac(_) => unreachable!(),
    }
}

fn bench(c: &mut Criterion) {
    let cases: [(&str, TestKey, &'static dyn VerificationAlgorithm); 3] = [
        ("RS256", TestKey::rsa(), &RSA_PKCS1_2048_8192_SHA256),
        ("ES256", TestKey::ec("P-256"), &ECDSA_P256_SHA256_FIXED),
        ("EdDSA", TestKey::ed(), &ED25519),
    ];
    let server = JwksServer::new(Behaviour::Serve(jwks(
        &cases.iter().map(|(alg, key, _)| key.jwk(alg, None)).collect::<Vec<_>>(),
    )));
    let mut requirement = MatchJwt::new(ISS, Url::parse(&server.url()).unwrap());
    requirement.audiences = vec!["svc".into()];
    let uncached_engine = Engine::new(EngineOptions { token_cache_capacity: 0, ..EngineOptions::default() }).unwrap();
    let cached_engine = Engine::new(EngineOptions::default()).unwrap();

    let mut group = c.benchmark_group("verdict");
    group.measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    for (alg, key, raw_alg) in &cases {
        let mut claims = claims(ISS, "svc");
        claims["scope"] = json!("read:messages write:messages");
        let token = key.token(&json!({"alg": alg, "kid": alg, "typ": "JWT"}), &claims);
        let bearer = format!("Bearer {token}");
        let headers = [
            (":authority", "webserver:7070"),
            (":path", "/api/v1/items"),
            (":method", "GET"),
            ("user-agent", "curl/8.5.0"),
            ("accept", "*/*"),
            ("authorization", bearer.as_str()),
        ];
        let request = Request::new("/api/v1/items", &headers);

        let uncached = uncached_engine.requirement(&requirement);
        assert!(uncached_engine.check(&uncached, &request).allowed());
        group.bench_function(format!("uncached/{alg}"), |b| {
            b.iter(|| black_box(uncached_engine.check(&uncached, black_box(&request))))
        });

        let (signed, signature) = token.rsplit_once('.').unwrap();
        let signature = base64url::decode(signature).unwrap();
        let public_key = raw_public_key(key);
        group.bench_function(format!("raw-verify/{alg}"), |b| {
            b.iter(|| {
                UnparsedPublicKey::new(*raw_alg, black_box(&public_key))
                    .verify(black_box(signed.as_bytes()), black_box(&signature))
                    .unwrap()
            })
        });

        if *alg == "RS256" {
            let cached = cached_engine.requirement(&requirement);
            assert!(cached_engine.check(&cached, &request).allowed());
            group.bench_function("cached/RS256", |b| {
                b.iter(|| black_box(cached_engine.check(&cached, black_box(&request))))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
