//! The identity provider's signing keys: generation (aws-lc-rs), persistence in a keys
//! directory, rotation with a grace period, and the published key set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

/// Signing algorithm of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSA 2048 with SHA-256 (Auth0's default).
    Rs256,
    /// ECDSA P-256 with SHA-256 (SPIRE's JWT-SVIDs).
    Es256,
}

impl KeyAlg {
    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Es256 => "ES256",
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            KeyAlg::Rs256 => Algorithm::RS256,
            KeyAlg::Es256 => Algorithm::ES256,
        }
    }
}

/// One signing key.
pub struct SigningKey {
    /// Key id: the start of its RFC 7638 thumbprint.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
    /// Unix time it was made.
    pub created: u64,
    /// Unix time it stopped signing (then it stays published for the grace period).
    pub retired: Option<u64>,
    pkcs8: Vec<u8>,
    encoding: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    fn generate(alg: KeyAlg, now: u64) -> Result<SigningKey, String> {
        let pkcs8 = match alg {
            KeyAlg::Rs256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| "cannot generate an RSA key".to_string())?;
                let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> =
                    pair.as_der().map_err(|_| "cannot encode the RSA key".to_string())?;
                der.as_ref().to_vec()
            }
            KeyAlg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| "cannot generate an EC key".to_string())?
                .as_ref()
                .to_vec(),
        };
        SigningKey::from_pkcs8(alg, pkcs8, now, None)
    }

    fn from_pkcs8(alg: KeyAlg, pkcs8: Vec<u8>, created: u64, retired: Option<u64>) -> Result<SigningKey, String> {
        let (encoding, public) = match alg {
            KeyAlg::Rs256 => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8).map_err(|e| format!("bad RSA key: {e}"))?;
                let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                let public = json!({"e": b64(&components.e), "kty": "RSA", "n": b64(&components.n)});
                // jsonwebtoken signs RSA from PKCS#1; PKCS#8 wraps it in an OCTET STRING.
                let pkcs1 = pkcs8_private_key(&pkcs8).ok_or("bad RSA key: not PKCS#8")?;
                (EncodingKey::from_rsa_der(pkcs1), public)
            }
            KeyAlg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .map_err(|e| format!("bad EC key: {e}"))?;
                let point = pair.public_key().as_ref();
                if point.len() != 65 {
                    return Err("bad EC key: unexpected public point".into());
                }
                let public = json!({"crv": "P-256", "kty": "EC", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
                (EncodingKey::from_ec_der(&pkcs8), public)
            }
        };
        // RFC 7638: SHA-256 over the required members, in lexicographic order, no spaces
        // (serde_json's map is ordered and compact).
        let thumbprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public.to_string().as_bytes());
        let kid = b64(thumbprint.as_ref())[..16].to_string();
        let mut jwk = public;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.name());
        jwk["use"] = json!("sig");
        Ok(SigningKey { kid, alg, created, retired, pkcs8, encoding, jwk })
    }

    /// Signs `claims` as a compact JWS with this key (`typ: JWT`, `kid`).
    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        let mut header = jsonwebtoken::Header::new(self.alg.algorithm());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| format!("cannot sign: {e}"))
    }
}

/// The keys of a provider: the newest signs, retired ones stay published for `grace`.
pub struct KeyStore {
    alg: KeyAlg,
    grace: Duration,
    file: Option<PathBuf>,
    keys: Vec<SigningKey>,
}

impl KeyStore {
    /// Loads the keys of `dir` (creating a key if it has none), or generates one in memory.
    pub fn open(alg: KeyAlg, dir: Option<&Path>, grace: Duration, now: u64) -> Result<KeyStore, String> {
        let file = dir.map(|d| d.join("keys.json"));
        let mut store = KeyStore { alg, grace, file, keys: Vec::new() };
        if let Some(file) = &store.file
            && file.exists()
        {
            store.keys = load(file, alg)?;
        }
        store.prune(now);
        if store.keys.iter().all(|k| k.retired.is_some()) {
            store.rotate(now)?;
        }
        Ok(store)
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> Option<&SigningKey> {
        self.keys.iter().rev().find(|k| k.retired.is_none())
    }

    /// Starts signing with a new key; the previous one stays published for the grace period.
    pub fn rotate(&mut self, now: u64) -> Result<&SigningKey, String> {
        let key = SigningKey::generate(self.alg, now)?;
        for old in &mut self.keys {
            old.retired.get_or_insert(now);
        }
        self.keys.push(key);
        self.prune(now);
        self.save()?;
        self.current().ok_or_else(|| "no signing key".to_string())
    }

    /// Forgets retired keys whose grace period is over.
    pub fn prune(&mut self, now: u64) {
        let grace = self.grace.as_secs();
        self.keys.retain(|k| k.retired.is_none_or(|r| r.saturating_add(grace) > now));
    }

    /// The published key set, newest key first.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().rev().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }

    /// Key ids, newest first.
    pub fn kids(&self) -> Vec<String> {
        self.keys.iter().rev().map(|k| k.kid.clone()).collect()
    }

    fn save(&self) -> Result<(), String> {
        let Some(file) = &self.file else { return Ok(()) };
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                json!({"kid": k.kid, "alg": k.alg.name(), "created": k.created, "retired": k.retired,
                       "pkcs8": STANDARD.encode(&k.pkcs8)})
            })
            .collect();
        let text = serde_json::to_string_pretty(&json!({"keys": keys})).map_err(|e| e.to_string())?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        // Private keys: readable by the owner only; written whole, then renamed.
        let partial = file.with_extension("json.partial");
        write_private(&partial, text.as_bytes()).map_err(|e| format!("{}: {e}", partial.display()))?;
        std::fs::rename(&partial, file).map_err(|e| format!("{}: {e}", file.display()))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

fn load(file: &Path, alg: KeyAlg) -> Result<Vec<SigningKey>, String> {
    let at = |m: String| format!("{}: {m}", file.display());
    let text = std::fs::read_to_string(file).map_err(|e| at(e.to_string()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| at(format!("invalid JSON: {e}")))?;
    let entries = doc.get("keys").and_then(Value::as_array).ok_or_else(|| at("no \"keys\" list".into()))?;
    let mut keys = Vec::new();
    for entry in entries {
        let name = entry.get("alg").and_then(Value::as_str).unwrap_or_default();
        if name != alg.name() {
            return Err(at(format!("holds {name} keys, but this mode signs {}: use another --keys-dir", alg.name())));
        }
        let pkcs8 = entry
            .get("pkcs8")
            .and_then(Value::as_str)
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| at("a key has no valid \"pkcs8\"".into()))?;
        let created = entry.get("created").and_then(Value::as_u64).unwrap_or(0);
        let retired = entry.get("retired").and_then(Value::as_u64);
        keys.push(SigningKey::from_pkcs8(alg, pkcs8, created, retired).map_err(at)?);
    }
    Ok(keys)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo`
/// (`SEQUENCE { INTEGER, SEQUENCE, OCTET STRING, ... }`).
fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    let (tag, info, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (version_tag, _, rest) = der_element(info)?;
    let (algorithm_tag, _, rest) = der_element(rest)?;
    let (key_tag, key, _) = der_element(rest)?;
    (version_tag == 0x02 && algorithm_tag == 0x30 && key_tag == 0x04).then_some(key)
}

/// One DER element: (tag, contents, remaining input).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verify(token: &str, jwks: &Value) -> Value {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = set.find(&kid).expect("kid published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap().claims
    }

    #[test]
    fn both_algorithms_sign_verifiable_tokens() {
        for alg in [KeyAlg::Rs256, KeyAlg::Es256] {
            let store = KeyStore::open(alg, None, Duration::from_secs(60), 1000).unwrap();
            let claims = json!({"sub": "x", "exp": 4_000_000_000u64});
            let token = store.current().unwrap().sign(&claims).unwrap();
            assert_eq!(verify(&token, &store.jwks())["sub"], "x");
            assert_eq!(store.jwks()["keys"][0]["alg"], alg.name());
        }
    }

    #[test]
    fn rotation_keeps_the_old_key_for_the_grace_period() {
        let mut store = KeyStore::open(KeyAlg::Es256, None, Duration::from_secs(60), 1000).unwrap();
        let old = store.current().unwrap().kid.clone();
        let new = store.rotate(1010).unwrap().kid.clone();
        assert_ne!(old, new);
        assert_eq!(store.kids(), vec![new.clone(), old]);
        store.prune(1069);
        assert_eq!(store.kids().len(), 2);
        store.prune(1070);
        assert_eq!(store.kids(), vec![new]);
    }

    #[test]
    fn keys_dir_persists_keys() {
        let dir = std::env::temp_dir().join(format!("cilium-jwt-idp-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = KeyStore::open(KeyAlg::Rs256, Some(&dir), Duration::from_secs(60), 1000).unwrap();
        let again = KeyStore::open(KeyAlg::Rs256, Some(&dir), Duration::from_secs(60), 1001).unwrap();
        assert_eq!(first.kids(), again.kids());
        let wrong = KeyStore::open(KeyAlg::Es256, Some(&dir), Duration::from_secs(60), 1001).err().unwrap();
        assert!(wrong.contains("holds RS256 keys, but this mode signs ES256"), "{wrong}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn der_parsing_rejects_garbage() {
        assert!(pkcs8_private_key(b"").is_none());
        assert!(pkcs8_private_key(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(pkcs8_private_key(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_none());
    }
}
