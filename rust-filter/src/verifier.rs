//! Signature verification with jwt_verify_lib's key selection: a key is a candidate
//! unless both it and the token carry a `kid` and they differ, or the key names an
//! `alg` other than the token's. No candidate: "Jwks doesn't have key to match kid or
//! alg from Jwt"; candidates but no valid signature: "Jwt verification fails".
//!
//! Stricter than jwt_verify_lib (README "Deliberate differences"): the token's `alg`
//! must fit the key type and curve (an EC key never checks an `RS256` token), and RSA
//! keys must have at least 2048 bits.

use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED, UnparsedPublicKey};
use jsonwebtoken::Algorithm as JwtAlgorithm;
use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;

use crate::jwks::{KeyMaterial, KeySet};
use crate::jwt::{Algorithm, Jwt};
use crate::status::Status;

/// Verifies `jwt`'s signature against the candidate keys of `keys`.
pub fn verify(jwt: &Jwt<'_>, keys: &KeySet) -> Status {
    let mut candidate_found = false;
    for jwk in &keys.keys {
        if !jwt.kid.is_empty() && !jwk.kid.is_empty() && jwk.kid != jwt.kid {
            continue;
        }
        if !jwk.alg.is_empty() && jwk.alg != jwt.alg.name() {
            continue;
        }
        candidate_found = true;
        if matches!(jwk.material, KeyMaterial::Ed25519(_)) && jwt.signature.len() != 64 {
            // jwt_verify_lib returns here, whatever the token's alg; doing otherwise would
            // allow a token jwt_authn denies.
            return Status::JwtEd25519SignatureWrongLength;
        }
        if verify_signature(&jwk.material, jwt.alg, jwt.signed_data.as_bytes(), &jwt.signature) {
            return Status::Ok;
        }
    }
    if candidate_found { Status::JwtVerificationFail } else { Status::JwksKidAlgMismatch }
}

/// One signature check; `false` for any algorithm the key cannot serve.
#[allow(clippy::ptr_arg)] // jsonwebtoken's verifiers take the signature as `&Vec<u8>`
pub fn verify_signature(key: &KeyMaterial, alg: Algorithm, message: &[u8], signature: &Vec<u8>) -> bool {
    use Algorithm::*;
    let (decoding_key, jwt_alg) = match (key, alg) {
        (KeyMaterial::Rsa(k), RS256) => (k, JwtAlgorithm::RS256),
        (KeyMaterial::Rsa(k), RS384) => (k, JwtAlgorithm::RS384),
        (KeyMaterial::Rsa(k), RS512) => (k, JwtAlgorithm::RS512),
        (KeyMaterial::Rsa(k), PS256) => (k, JwtAlgorithm::PS256),
        (KeyMaterial::Rsa(k), PS384) => (k, JwtAlgorithm::PS384),
        (KeyMaterial::Rsa(k), PS512) => (k, JwtAlgorithm::PS512),
        (KeyMaterial::P256(k), ES256) => (k, JwtAlgorithm::ES256),
        (KeyMaterial::P384(k), ES384) => (k, JwtAlgorithm::ES384),
        (KeyMaterial::Ed25519(k), EdDSA) => (k, JwtAlgorithm::EdDSA),
        (KeyMaterial::Hmac(k), HS256) => (k, JwtAlgorithm::HS256),
        (KeyMaterial::Hmac(k), HS384) => (k, JwtAlgorithm::HS384),
        (KeyMaterial::Hmac(k), HS512) => (k, JwtAlgorithm::HS512),
        (KeyMaterial::P521(point), ES512) => {
            return UnparsedPublicKey::new(&ECDSA_P521_SHA512_FIXED, point).verify(message, signature).is_ok();
        }
        _ => return false,
    };
    match (DEFAULT_PROVIDER.verifier_factory)(&jwt_alg, decoding_key) {
        Ok(verifier) => verifier.verify(message, signature).is_ok(),
        Err(_) => false,
    }
}
