//! JWKS parsing and verification with whatever keys parse: never panics.
#![no_main]

use cilium_jwt::jwks::KeySet;
use cilium_jwt::jwt::Algorithm;
use cilium_jwt::verifier::verify_signature;
use libfuzzer_sys::fuzz_target;

const ALGS: [Algorithm; 13] = [
    Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512,
    Algorithm::ES256, Algorithm::ES384, Algorithm::ES512, Algorithm::HS256, Algorithm::HS384, Algorithm::HS512,
    Algorithm::EdDSA,
];

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = KeySet::parse(data) {
        assert!(!set.keys.is_empty());
        for key in &set.keys {
            for alg in ALGS {
                let _ = verify_signature(&key.material, alg, b"a.b", &vec![0u8; 64]);
            }
        }
    }
});
