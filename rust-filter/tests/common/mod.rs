//! Test support: keys generated at test time, token minting, and a real HTTP JWKS server
//! on 127.0.0.1 whose behaviour each test can change (serve, fail, stall, go down).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
    RSA_PSS_SHA512,
};
use cilium_jwt::base64url::encode as b64;
use serde_json::{Value, json};

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A signing key generated for the test, with its public JWK.
pub enum TestKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str),
    Ed(Ed25519KeyPair),
    Hmac(Vec<u8>),
}

impl TestKey {
    pub fn rsa() -> TestKey {
        TestKey::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
    }
    pub fn ec(curve: &'static str) -> TestKey {
        let alg = match curve {
            "P-256" => &ECDSA_P256_SHA256_FIXED_SIGNING,
            "P-384" => &ECDSA_P384_SHA384_FIXED_SIGNING,
            _ => &ECDSA_P521_SHA512_FIXED_SIGNING,
        };
        TestKey::Ec(EcdsaKeyPair::generate(alg).unwrap(), curve)
    }
    pub fn ed() -> TestKey {
        TestKey::Ed(Ed25519KeyPair::generate().unwrap())
    }
    pub fn hmac() -> TestKey {
        let mut secret = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).unwrap();
        TestKey::Hmac(secret)
    }

    /// The public JWK, with `kid` and (if given) `alg`.
    pub fn jwk(&self, kid: &str, alg: Option<&str>) -> Value {
        let mut jwk = match self {
            TestKey::Rsa(k) => {
                let c: PublicKeyComponents<Vec<u8>> = k.public_key().into();
                json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)})
            }
            TestKey::Ec(k, crv) => {
                let point = k.public_key().as_ref();
                let size = (point.len() - 1) / 2;
                json!({"kty": "EC", "crv": crv, "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..])})
            }
            TestKey::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(k.public_key().as_ref())})
            }
            TestKey::Hmac(secret) => json!({"kty": "oct", "k": b64(secret)}),
        };
        jwk["kid"] = json!(kid);
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    /// Signs `message` the way `alg` requires.
    pub fn sign(&self, alg: &str, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            TestKey::Rsa(k) => {
                let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = match alg {
                    "RS256" => &RSA_PKCS1_SHA256,
                    "RS384" => &RSA_PKCS1_SHA384,
                    "RS512" => &RSA_PKCS1_SHA512,
                    "PS256" => &RSA_PSS_SHA256,
                    "PS384" => &RSA_PSS_SHA384,
                    "PS512" => &RSA_PSS_SHA512,
                    other => panic!("RSA cannot sign {other}"),
                };
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut sig).unwrap();
                sig
            }
            TestKey::Ec(k, _) => k.sign(&rng, message).unwrap().as_ref().to_vec(),
            TestKey::Ed(k) => k.sign(message).as_ref().to_vec(),
            TestKey::Hmac(secret) => {
                let algorithm = match alg {
                    "HS384" => aws_lc_rs::hmac::HMAC_SHA384,
                    "HS512" => aws_lc_rs::hmac::HMAC_SHA512,
                    _ => aws_lc_rs::hmac::HMAC_SHA256,
                };
                aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(algorithm, secret), message).as_ref().to_vec()
            }
        }
    }

    /// A compact token with the given header and claims, signed with `alg`.
    pub fn token(&self, header: &Value, claims: &Value) -> String {
        let alg = header["alg"].as_str().unwrap_or("RS256");
        let signed = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = self.sign(alg, signed.as_bytes());
        format!("{signed}.{}", b64(&sig))
    }
}

/// Standard valid claims for issuer `iss` and audience `aud`.
pub fn claims(iss: &str, aud: &str) -> Value {
    let now = now();
    json!({"iss": iss, "sub": "client@clients", "aud": aud, "iat": now, "exp": now + 3600})
}

/// What the JWKS server does with the next requests.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// 200 with this body.
    Serve(String),
    /// This status and a short body.
    Status(u16),
    /// Sleep, then serve the body (or never answer when the sleep outlasts the client).
    Slow(Duration, String),
    /// 200 with a body of this many bytes.
    Huge(usize),
    /// Accept and close at once.
    Hangup,
}

/// A JWKS server on 127.0.0.1 that counts requests. `stop()` closes the port (the
/// provider is down); `start()` listens again on the same port.
pub struct JwksServer {
    pub addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    pub requests: Arc<AtomicUsize>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl JwksServer {
    pub fn new(behaviour: Behaviour) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut server = JwksServer {
            addr,
            behaviour: Arc::new(Mutex::new(behaviour)),
            requests: Arc::new(AtomicUsize::new(0)),
            running: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        server.serve(listener);
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // unblock accept()
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    pub fn start(&mut self) {
        let listener = TcpListener::bind(self.addr).unwrap();
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        self.running.store(true, Ordering::SeqCst);
        let (behaviour, requests, running) = (self.behaviour.clone(), self.requests.clone(), self.running.clone());
        self.thread = Some(std::thread::spawn(move || {
            for stream in listener.incoming() {
                if !running.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let behaviour = behaviour.lock().unwrap().clone();
                requests.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || answer(stream, behaviour));
            }
        }));
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answer(mut stream: TcpStream, behaviour: Behaviour) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let (status, body) = match behaviour {
        Behaviour::Serve(body) => (200, body),
        Behaviour::Status(code) => (code, "error".to_string()),
        Behaviour::Slow(delay, body) => {
            std::thread::sleep(delay);
            (200, body)
        }
        Behaviour::Huge(size) => (200, format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(size))),
        Behaviour::Hangup => return,
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// A JWKS document of the given JWKs.
pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}
