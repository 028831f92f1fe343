//! JSON Web Key Sets (RFC 7517): parsing a provider's key set into verification keys.
//!
//! Keys that cannot be used (unknown `kty`, bad encodings, encryption keys, unsupported
//! curves) are skipped, as jwt_verify_lib does; a set without one usable key is an error.

use jsonwebtoken::DecodingKey;
use serde_json::Value;

use crate::base64url;

/// Most keys read from one key set; providers publish a handful.
pub const MAX_KEYS: usize = 64;

/// The public material of one key.
#[derive(Clone, Debug)]
pub enum KeyMaterial {
    /// RSA public key (PKCS#1 DER inside), for RS* and PS*.
    Rsa(DecodingKey),
    /// ECDSA P-256 point, for ES256.
    P256(DecodingKey),
    /// ECDSA P-384 point, for ES384.
    P384(DecodingKey),
    /// ECDSA P-521 uncompressed point, for ES512 (verified with aws-lc-rs directly:
    /// jsonwebtoken has no ES512).
    P521(Vec<u8>),
    /// Ed25519 public key, for EdDSA.
    Ed25519(DecodingKey),
    /// Shared secret (`kty: oct`), for HS* only.
    Hmac(DecodingKey),
}

/// One usable key of a key set.
#[derive(Clone, Debug)]
pub struct Jwk {
    /// `kid`; empty when absent.
    pub kid: String,
    /// `alg`; empty when absent (then any algorithm of the key's type may use it).
    pub alg: String,
    /// The key itself.
    pub material: KeyMaterial,
    /// Canonical form of the public parameters, to tell whether a refetched set changed.
    fingerprint: String,
}

/// A parsed key set.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    /// Usable keys, in document order.
    pub keys: Vec<Jwk>,
    /// Keys present in the document but skipped, with the reason (for logs).
    pub skipped: Vec<String>,
}

/// Why a key set document was rejected as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not JSON.
    #[error("key set is not valid JSON")]
    InvalidJson,
    /// No `keys` array.
    #[error("key set has no [keys] array")]
    NoKeys,
    /// `keys` held no usable key.
    #[error("key set has no usable key ({0})")]
    NoUsableKeys(String),
}

impl KeySet {
    /// Parses a JWKS document.
    pub fn parse(json: &[u8]) -> Result<KeySet, JwksError> {
        let doc: Value = serde_json::from_slice(json).map_err(|_| JwksError::InvalidJson)?;
        let keys = doc.get("keys").and_then(Value::as_array).ok_or(JwksError::NoKeys)?;
        let mut set = KeySet::default();
        for (i, key) in keys.iter().enumerate() {
            if set.keys.len() == MAX_KEYS {
                set.skipped.push(format!("keys[{i}..]: more than {MAX_KEYS} keys"));
                break;
            }
            match parse_key(key) {
                Ok(jwk) => set.keys.push(jwk),
                Err(reason) => set.skipped.push(format!("keys[{i}]: {reason}")),
            }
        }
        if set.keys.is_empty() {
            let reason = if set.skipped.is_empty() { "empty".to_string() } else { set.skipped.join("; ") };
            return Err(JwksError::NoUsableKeys(reason));
        }
        Ok(set)
    }

    /// Whether two sets hold the same keys (so cached verdicts stay valid across a refetch).
    pub fn same_keys(&self, other: &KeySet) -> bool {
        self.keys.len() == other.keys.len()
            && self.keys.iter().zip(&other.keys).all(|(a, b)| a.fingerprint == b.fingerprint)
    }
}

/// One key, with jwt_verify_lib's `extractJwk` rules: a non-string `kid`/`alg` counts as
/// absent; `alg`, when set, must suit the key type; RSA exponents are 3 or 65537; an EC
/// key without `crv` is P-256 unless its `alg` says otherwise. Stricter: `use: enc` keys
/// are skipped, and so are RSA keys under 2048 bits (at verification time).
fn parse_key(key: &Value) -> Result<Jwk, String> {
    let object = key.as_object().ok_or("not an object")?;
    let text = |name: &str| object.get(name).and_then(Value::as_str);
    let required = |name: &str| -> Result<Vec<u8>, String> {
        let value = match object.get(name) {
            None => return Err(format!("[{name}] is missing")),
            Some(Value::String(s)) => s,
            Some(_) => return Err(format!("[{name}] is not a string")),
        };
        base64url::decode(value).map_err(|_| format!("[{name}] is not base64url"))
    };
    let kty = match object.get("kty") {
        None => return Err("[kty] is missing".into()),
        Some(Value::String(kty)) => kty.as_str(),
        Some(_) => return Err("[kty] is not a string".into()),
    };
    let kid = text("kid").unwrap_or_default().to_string();
    let alg = text("alg").unwrap_or_default().to_string();
    if text("use") == Some("enc") {
        return Err("encryption key (use: enc)".into());
    }
    let (material, fingerprint) = match kty {
        "RSA" => {
            if !alg.is_empty() && !alg.starts_with("RS") && !alg.starts_with("PS") {
                return Err(format!("[alg] {alg} does not start with RS or PS for an RSA key"));
            }
            let n = strip_leading_zeros(required("n")?);
            let e = strip_leading_zeros(required("e")?);
            if e != [3] && e != [1, 0, 1] {
                return Err("[e] is not 3 or 65537".into());
            }
            if n.is_empty() || n == [0] {
                return Err("[n] is empty".into());
            }
            let fingerprint = format!("RSA:{}:{}", base64url::encode(&n), base64url::encode(&e));
            (KeyMaterial::Rsa(DecodingKey::from_rsa_der(&rsa_public_key_der(&n, &e))), fingerprint)
        }
        "EC" => {
            if !alg.is_empty() && !alg.starts_with("ES") {
                return Err(format!("[alg] {alg} does not start with ES for an EC key"));
            }
            let crv = match object.get("crv") {
                None => "",
                Some(Value::String(crv)) => crv.as_str(),
                Some(_) => return Err("[crv] is not a string".into()),
            };
            let (curve, size) = match (alg.as_str(), crv) {
                ("ES256" | "", "P-256" | "") => ("P-256", 32),
                ("ES384" | "", "P-384") | ("ES384", "") => ("P-384", 48),
                ("ES512" | "", "P-521") | ("ES512", "") => ("P-521", 66),
                _ => {
                    return Err(format!("unsupported or incompatible [crv] {crv:?} / [alg] {alg:?}"));
                }
            };
            let point = uncompressed_point(&required("x")?, &required("y")?, size)?;
            let fingerprint = format!("EC:{curve}:{}", base64url::encode(&point));
            let material = match size {
                32 => KeyMaterial::P256(DecodingKey::from_ec_der(&point)),
                48 => KeyMaterial::P384(DecodingKey::from_ec_der(&point)),
                _ => KeyMaterial::P521(point),
            };
            (material, fingerprint)
        }
        "OKP" => {
            if !alg.is_empty() && alg != "EdDSA" {
                return Err(format!("[alg] {alg} is not EdDSA for an OKP key"));
            }
            match object.get("crv") {
                Some(Value::String(crv)) if crv == "Ed25519" => {}
                Some(Value::String(crv)) => return Err(format!("unsupported curve {crv}")),
                Some(_) => return Err("[crv] is not a string".into()),
                None => return Err("[crv] is missing".into()),
            }
            let x = required("x")?;
            if x.len() != 32 {
                return Err("Ed25519 [x] is not 32 bytes".into());
            }
            let fingerprint = format!("OKP:{}", base64url::encode(&x));
            (KeyMaterial::Ed25519(DecodingKey::from_ed_der(&x)), fingerprint)
        }
        "oct" => {
            if !alg.is_empty() && !matches!(alg.as_str(), "HS256" | "HS384" | "HS512") {
                return Err(format!("[alg] {alg} is not HS256, HS384 or HS512 for an oct key"));
            }
            let k = required("k")?;
            let fingerprint = format!("oct:{}", base64url::encode(&k));
            let key = DecodingKey::from_secret(&k).map_err(|_| "[k] is empty".to_string())?;
            (KeyMaterial::Hmac(key), fingerprint)
        }
        other => return Err(format!("unsupported kty {other}")),
    };
    Ok(Jwk { fingerprint: format!("{kid}|{alg}|{fingerprint}"), kid, alg, material })
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count().min(bytes.len().saturating_sub(1));
    bytes.drain(..zeros);
    bytes
}

/// `0x04 || x || y`, with coordinates left-padded to the field size (BoringSSL accepts
/// short encodings, so jwt_authn does too).
fn uncompressed_point(x: &[u8], y: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let x = strip_leading_zeros(x.to_vec());
    let y = strip_leading_zeros(y.to_vec());
    if x.len() > size || y.len() > size {
        return Err("coordinate longer than the curve's field".into());
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(4);
    point.resize(1 + size - x.len(), 0);
    point.extend_from_slice(&x);
    point.resize(1 + 2 * size - y.len(), 0);
    point.extend_from_slice(&y);
    Ok(point)
}

/// DER of PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    der_unsigned_integer(&mut body, n);
    der_unsigned_integer(&mut body, e);
    let mut der = Vec::with_capacity(body.len() + 6);
    der.push(0x30);
    der_length(&mut der, body.len());
    der.extend_from_slice(&body);
    der
}

fn der_unsigned_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    let pad = magnitude.first().is_some_and(|&b| b & 0x80 != 0);
    out.push(0x02);
    der_length(out, magnitude.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
}

fn der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_unusable_keys() {
        let doc = br#"{"keys":[
            {"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"},
            {"kty":"EC","crv":"P-256","x":"AQ","y":"AQ","kid":"e"},
            {"kty":"EC","x":"AQ","y":"AQ","kid":"e-default-p256"},
            {"kty":"EC","alg":"ES384","x":"AQ","y":"AQ","kid":"e384"},
            {"kty":"EC","alg":"ES256","crv":"P-384","x":"AQ","y":"AQ"},
            {"kty":"EC","crv":"secp256k1","x":"AQ","y":"AQ"},
            {"kty":"OKP","crv":"Ed25519","x":"AQ"},
            {"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc"},
            {"kty":"RSA","n":"AQAB","e":"EQ"},
            {"kty":"RSA","n":"AQAB","e":"AQAB","alg":"HS256"},
            {"kty":"oct","k":"c2VjcmV0"},
            {"kty":"oct","k":""},
            {"kty":"XYZ"}, 5, {"kid":1,"alg":7,"kty":"oct","k":"AA"}
        ]}"#;
        let set = KeySet::parse(doc).unwrap();
        let kids: Vec<_> = set.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, vec!["r", "e", "e-default-p256", "e384", "", ""]);
        assert!(matches!(set.keys[3].material, KeyMaterial::P384(_)));
        assert_eq!(set.keys[5].alg, "");
        assert_eq!(set.skipped.len(), 9);
    }

    #[test]
    fn whole_set_errors() {
        assert_eq!(KeySet::parse(b"garbage").unwrap_err(), JwksError::InvalidJson);
        assert_eq!(KeySet::parse(b"{}").unwrap_err(), JwksError::NoKeys);
        assert!(matches!(KeySet::parse(br#"{"keys":[]}"#), Err(JwksError::NoUsableKeys(_))));
    }

    #[test]
    fn der_encoding() {
        assert_eq!(rsa_public_key_der(&[0x80], &[1, 0, 1]), vec![0x30, 9, 2, 2, 0, 0x80, 2, 3, 1, 0, 1]);
        let mut out = Vec::new();
        der_length(&mut out, 300);
        assert_eq!(out, vec![0x82, 1, 44]);
    }

    #[test]
    fn short_coordinates_are_padded() {
        let p = uncompressed_point(&[1], &[0, 2], 3).unwrap();
        assert_eq!(p, vec![4, 0, 0, 1, 0, 0, 2]);
        assert!(uncompressed_point(&[1, 2, 3, 4], &[1], 3).is_err());
    }
}
