//! Parsing a compact JWS token the way google/jwt_verify_lib's `Jwt::parseFromString`
//! does, so that every malformed token gets the same status Envoy's jwt_authn gives it.
//!
//! Only the claims the engine checks are kept; the rest of the JSON is validated and
//! skipped without building a tree, which keeps an uncached verdict close to the raw
//! cost of the signature check.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::base64url;
use crate::status::Status;

/// Signature algorithms a token may name in its `alg` header, as jwt_verify_lib lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// ECDSA P-521 with SHA-512.
    ES512,
    /// HMAC with SHA-256 (only ever with `oct` keys).
    HS256,
    /// HMAC with SHA-384 (only ever with `oct` keys).
    HS384,
    /// HMAC with SHA-512 (only ever with `oct` keys).
    HS512,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// The algorithm for an `alg` header value; `None` for anything unsupported (`none` included).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Some(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "ES512" => Algorithm::ES512,
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            "EdDSA" => Algorithm::EdDSA,
            _ => return None,
        })
    }

    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed, not yet verified, token. Borrows the token text it was parsed from.
#[derive(Debug, Clone)]
pub struct Jwt<'t> {
    /// `header.payload`: the bytes the signature covers.
    pub signed_data: &'t str,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The `alg` header.
    pub alg: Algorithm,
    /// The `kid` header; empty when absent (jwt_verify_lib treats both alike).
    pub kid: String,
    /// The `iss` claim; empty when absent.
    pub iss: String,
    /// The `sub` claim; empty when absent.
    pub sub: String,
    /// The `aud` claim as a list (a single string becomes a one-element list).
    pub audiences: Vec<String>,
    /// The `iat` claim; 0 when absent.
    pub iat: u64,
    /// The `nbf` claim; 0 when absent.
    pub nbf: u64,
    /// The `exp` claim; 0 when absent (no expiry, as in jwt_verify_lib).
    pub exp: u64,
    /// The `jti` claim; empty when absent.
    pub jti: String,
}

impl<'t> Jwt<'t> {
    /// Parses `token` with jwt_verify_lib's checks, in its order, mapping each failure to
    /// the status jwt_authn reports. Stricter in documented ways (README, "Deliberate
    /// differences"): exactly three non-empty sections (jwt_verify_lib skips empty ones),
    /// strict RFC 8259 JSON (protobuf's parser also takes unquoted keys, single quotes and
    /// trailing commas), and no `crit` header.
    pub fn parse(token: &'t str) -> Result<Jwt<'t>, Status> {
        let mut sections = token.split('.');
        let (header_b64, payload_b64, signature_b64) =
            match (sections.next(), sections.next(), sections.next(), sections.next()) {
                (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => (h, p, s),
                _ => return Err(Status::JwtBadFormat),
            };
        let signed_data = &token[..header_b64.len() + 1 + payload_b64.len()];

        let header_json = base64url::decode(header_b64).map_err(|_| Status::JwtHeaderParseErrorBadBase64)?;
        let header = parse_object::<RawHeader>(&header_json).ok_or(Status::JwtHeaderParseErrorBadJson)?;
        let alg = match header.alg {
            Some(JsonKind::String(name)) => name,
            _ => return Err(Status::JwtHeaderBadAlg),
        };
        let alg = Algorithm::from_name(&alg).ok_or(Status::JwtHeaderNotImplementedAlg)?;
        let kid = optional_string(header.kid).map_err(|()| Status::JwtHeaderBadKid)?;
        if header.has_crit {
            return Err(Status::JwtHeaderUnsupportedCrit);
        }

        let payload_json = base64url::decode(payload_b64).map_err(|_| Status::JwtPayloadParseErrorBadBase64)?;
        let claims = parse_object::<RawClaims>(&payload_json).ok_or(Status::JwtPayloadParseErrorBadJson)?;
        let iss = optional_string(claims.iss).map_err(|()| Status::JwtPayloadParseErrorIssNotString)?;
        let sub = optional_string(claims.sub).map_err(|()| Status::JwtPayloadParseErrorSubNotString)?;
        let iat = optional_u64(
            claims.iat,
            Status::JwtPayloadParseErrorIatNotInteger,
            Status::JwtPayloadParseErrorIatOutOfRange,
        )?;
        let nbf = optional_u64(
            claims.nbf,
            Status::JwtPayloadParseErrorNbfNotInteger,
            Status::JwtPayloadParseErrorNbfOutOfRange,
        )?;
        let exp = optional_u64(
            claims.exp,
            Status::JwtPayloadParseErrorExpNotInteger,
            Status::JwtPayloadParseErrorExpOutOfRange,
        )?;
        let jti = optional_string(claims.jti).map_err(|()| Status::JwtPayloadParseErrorJtiNotString)?;
        let audiences = match claims.aud {
            None => Vec::new(),
            Some(JsonKind::String(aud)) => vec![aud.into_owned()],
            Some(JsonKind::StringList(list)) => list,
            Some(_) => return Err(Status::JwtPayloadParseErrorAudNotString),
        };

        let signature = base64url::decode(signature_b64).map_err(|_| Status::JwtSignatureParseErrorBadBase64)?;

        Ok(Jwt { signed_data, signature, alg, kid, iss, sub, audiences, iat, nbf, exp, jti })
    }

    /// jwt_verify_lib's `verifyTimeConstraint`: `nbf` may be up to `skew` seconds in the
    /// future, `exp` up to `skew` seconds in the past; an absent `exp` never expires.
    pub fn check_time(&self, now: u64, skew: u64) -> Result<(), Status> {
        check_time(self.nbf, self.exp, now, skew)
    }
}

/// The time rule on its own, for verified tokens served from the cache.
pub(crate) fn check_time(nbf: u64, exp: u64, now: u64, skew: u64) -> Result<(), Status> {
    if now.saturating_add(skew) < nbf {
        return Err(Status::JwtNotYetValid);
    }
    if exp != 0 && now > exp.saturating_add(skew) {
        return Err(Status::JwtExpired);
    }
    Ok(())
}

fn optional_string(value: Option<JsonKind<'_>>) -> Result<String, ()> {
    match value {
        None => Ok(String::new()),
        Some(JsonKind::String(s)) => Ok(s.into_owned()),
        Some(_) => Err(()),
    }
}

/// jwt_verify_lib's `StructUtils::GetUInt64`: JSON numbers are doubles; negative or
/// >= 2^64 is out of range, a fraction is truncated.
fn optional_u64(value: Option<JsonKind<'_>>, not_integer: Status, out_of_range: Status) -> Result<u64, Status> {
    match value {
        None => Ok(0),
        Some(JsonKind::Number(n)) => {
            if !(0.0..18_446_744_073_709_551_616.0).contains(&n) {
                Err(out_of_range)
            } else {
                Ok(n as u64)
            }
        }
        Some(_) => Err(not_integer),
    }
}

/// Deepest nesting protobuf's JSON parser accepts (the top-level object counts as 1).
const MAX_JSON_DEPTH: usize = 100;

/// Parses a header or payload: UTF-8 JSON whose top level is an object (or `null`, read
/// as an empty object, as protobuf does), with no duplicate member names at any depth and
/// at most 100 levels of nesting; protobuf's JSON-to-Struct parser rejects both, so a
/// token jwt_authn refuses is refused here too. Trailing bytes are an error.
fn parse_object<'de, T: de::Deserialize<'de>>(json: &'de [u8]) -> Option<T> {
    let text = std::str::from_utf8(json).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(value)
}

/// The JSON type of a claim, with the content kept only where a check needs it.
#[derive(Debug)]
enum JsonKind<'a> {
    String(Cow<'a, str>),
    Number(f64),
    StringList(Vec<String>),
    Other,
}

/// Reads any JSON value at nesting `depth`, checking depth and duplicate names below it.
struct KindSeed {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for KindSeed {
    type Value = JsonKind<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(KindVisitor { depth: self.depth })
    }
}

struct KindVisitor {
    depth: usize,
}

impl KindVisitor {
    fn enter<E: de::Error>(&self) -> Result<(), E> {
        if self.depth > MAX_JSON_DEPTH { Err(E::custom("JSON nested too deeply")) } else { Ok(()) }
    }
}

impl<'de> Visitor<'de> for KindVisitor {
    type Value = JsonKind<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(JsonKind::String(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(JsonKind::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(JsonKind::String(Cow::Owned(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(JsonKind::Number(v as f64))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(JsonKind::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(JsonKind::Number(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(JsonKind::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(JsonKind::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.enter()?;
        // Only a list made entirely of strings is a valid `aud`; keep validating the rest.
        let mut strings = Vec::new();
        let mut all_strings = true;
        while let Some(item) = seq.next_element_seed(KindSeed { depth: self.depth + 1 })? {
            match item {
                JsonKind::String(s) if all_strings => strings.push(s.into_owned()),
                _ => all_strings = false,
            }
        }
        Ok(if all_strings { JsonKind::StringList(strings) } else { JsonKind::Other })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.enter()?;
        let mut names = MemberNames::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            names.insert(key)?;
            map.next_value_seed(KindSeed { depth: self.depth + 1 })?;
        }
        Ok(JsonKind::Other)
    }
}

/// Member names of one object, to reject duplicates (compared after unescaping). Claims
/// objects are small: a list is searched until it grows, then a hash set takes over, so
/// thousands of members cannot make parsing quadratic.
#[derive(Default)]
struct MemberNames<'de> {
    few: Vec<Cow<'de, str>>,
    many: std::collections::HashSet<Cow<'de, str>>,
}

impl<'de> MemberNames<'de> {
    const FEW: usize = 16;

    fn insert<E: de::Error>(&mut self, name: Cow<'de, str>) -> Result<(), E> {
        let fresh = if self.few.len() < Self::FEW {
            let fresh = !self.few.contains(&name);
            self.few.push(name);
            fresh
        } else {
            if self.many.is_empty() {
                self.many.extend(self.few.iter().cloned());
            }
            self.many.insert(name)
        };
        if fresh { Ok(()) } else { Err(E::custom("duplicate member name")) }
    }
}

/// Declares a struct of optional members read from the top-level JSON object by name;
/// the other members are validated and skipped.
macro_rules! json_object {
    ($name:ident { $($field:ident),* } $(, flag $flag:ident = $flag_key:literal)?) => {
        #[derive(Debug, Default)]
        struct $name<'a> {
            $($field: Option<JsonKind<'a>>,)*
            $($flag: bool,)?
        }

        impl<'de> de::Deserialize<'de> for $name<'de> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> Visitor<'de> for ObjectVisitor {
                    type Value = $name<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                        Ok($name::default())
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                        let mut object = $name::default();
                        let mut names = MemberNames::default();
                        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                            let value = map.next_value_seed(KindSeed { depth: 2 })?;
                            match key.as_ref() {
                                $(stringify!($field) => object.$field = Some(value),)*
                                $($flag_key => object.$flag = true,)?
                                _ => {}
                            }
                            names.insert(key)?;
                        }
                        Ok(object)
                    }
                }
                deserializer.deserialize_any(ObjectVisitor)
            }
        }
    };
}

json_object!(RawHeader { alg, kid }, flag has_crit = "crit");
json_object!(RawClaims { iss, sub, aud, iat, nbf, exp, jti });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url::encode;

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()), encode(b"sig"))
    }

    #[test]
    fn parses_claims() {
        let t = token(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"iss":"https://idp/","sub":"alice","aud":["a","b"],"exp":2000000000,"nbf":1.9,"iat":5,"jti":"x","extra":{"deep":[1,2]}}"#,
        );
        let jwt = Jwt::parse(&t).unwrap();
        assert_eq!(jwt.alg, Algorithm::RS256);
        assert_eq!(jwt.kid, "k1");
        assert_eq!(jwt.iss, "https://idp/");
        assert_eq!(jwt.audiences, vec!["a", "b"]);
        assert_eq!(jwt.exp, 2_000_000_000);
        assert_eq!(jwt.nbf, 1);
        assert_eq!(jwt.signature, b"sig");
        assert_eq!(jwt.signed_data, t.rsplit_once('.').unwrap().0);
    }

    #[test]
    fn format_errors() {
        for bad in ["", "a", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b."] {
            assert_eq!(Jwt::parse(bad).unwrap_err(), Status::JwtBadFormat, "{bad:?}");
        }
    }

    #[test]
    fn header_errors_in_order() {
        let cases = [
            ("!!!.e30.c2ln", Status::JwtHeaderParseErrorBadBase64),
            (&*format!("{}.e30.c2ln", encode(b"[1]")), Status::JwtHeaderParseErrorBadJson),
            (&*format!("{}.e30.c2ln", encode(b"{\"alg\":1}")), Status::JwtHeaderBadAlg),
            (&*format!("{}.e30.c2ln", encode(b"{}")), Status::JwtHeaderBadAlg),
            (&*format!("{}.e30.c2ln", encode(b"{\"alg\":\"none\"}")), Status::JwtHeaderNotImplementedAlg),
            (&*format!("{}.e30.c2ln", encode(b"{\"alg\":\"RS256\",\"kid\":7}")), Status::JwtHeaderBadKid),
            (&*format!("{}.!!.c2ln", encode(b"{\"alg\":\"RS256\"}")), Status::JwtPayloadParseErrorBadBase64),
        ];
        for (t, want) in cases {
            assert_eq!(Jwt::parse(t).unwrap_err(), want, "{t}");
        }
    }

    #[test]
    fn claim_type_errors() {
        let h = r#"{"alg":"ES256"}"#;
        let cases = [
            (r#"{"iss":1}"#, Status::JwtPayloadParseErrorIssNotString),
            (r#"{"sub":null}"#, Status::JwtPayloadParseErrorSubNotString),
            (r#"{"iat":"1"}"#, Status::JwtPayloadParseErrorIatNotInteger),
            (r#"{"nbf":-1}"#, Status::JwtPayloadParseErrorNbfOutOfRange),
            (r#"{"exp":1e20}"#, Status::JwtPayloadParseErrorExpOutOfRange),
            (r#"{"jti":[]}"#, Status::JwtPayloadParseErrorJtiNotString),
            (r#"{"aud":["a",1]}"#, Status::JwtPayloadParseErrorAudNotString),
            (r#"{"aud":{}}"#, Status::JwtPayloadParseErrorAudNotString),
            (r#"{"aud":"a"} x"#, Status::JwtPayloadParseErrorBadJson),
            (r#"["aud"]"#, Status::JwtPayloadParseErrorBadJson),
        ];
        for (payload, want) in cases {
            assert_eq!(Jwt::parse(&token(h, payload)).unwrap_err(), want, "{payload}");
        }
    }

    #[test]
    fn protobuf_json_rules() {
        let h = r#"{"alg":"ES256"}"#;
        let nested = |n: usize| format!("{{\"x\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        let cases = [
            (r#"{"exp":1,"exp":2}"#.to_string(), Status::JwtPayloadParseErrorBadJson),
            (r#"{"exp":1,"\u0065xp":2}"#.to_string(), Status::JwtPayloadParseErrorBadJson),
            (r#"{"x":{"a":1,"a":2}}"#.to_string(), Status::JwtPayloadParseErrorBadJson),
            (r#"{"x":[{"a":1,"a":2}]}"#.to_string(), Status::JwtPayloadParseErrorBadJson),
            (
                format!("{{{}\"k5\":0}}", (0..40).map(|i| format!("\"k{i}\":0,")).collect::<String>()),
                Status::JwtPayloadParseErrorBadJson,
            ),
            (r#"{"x":"\ud800"}"#.to_string(), Status::JwtPayloadParseErrorBadJson),
            (r#"{"x":1e400}"#.to_string(), Status::JwtPayloadParseErrorBadJson),
            (nested(100), Status::JwtPayloadParseErrorBadJson),
        ];
        for (payload, want) in cases {
            assert_eq!(Jwt::parse(&token(h, &payload)).unwrap_err(), want, "{payload}");
        }
        assert!(Jwt::parse(&token(h, &nested(99))).is_ok());
        assert!(Jwt::parse(&token(h, "null")).is_ok());
        assert_eq!(Jwt::parse(&token("null", "{}")).unwrap_err(), Status::JwtHeaderBadAlg);
        let bad_utf8 = format!("{}.{}.c2ln", encode(h.as_bytes()), encode(b"{\"x\":\"\xff\"}"));
        assert_eq!(Jwt::parse(&bad_utf8).unwrap_err(), Status::JwtPayloadParseErrorBadJson);
    }

    #[test]
    fn crit_is_refused() {
        let t = token(r#"{"alg":"ES256","crit":["exp"]}"#, "{}");
        assert_eq!(Jwt::parse(&t).unwrap_err(), Status::JwtHeaderUnsupportedCrit);
    }

    #[test]
    fn time_constraints_with_skew() {
        assert_eq!(check_time(0, 0, 100, 60), Ok(()));
        assert_eq!(check_time(160, 0, 100, 60), Ok(()));
        assert_eq!(check_time(161, 0, 100, 60), Err(Status::JwtNotYetValid));
        assert_eq!(check_time(0, 40, 100, 60), Ok(()));
        assert_eq!(check_time(0, 39, 100, 60), Err(Status::JwtExpired));
        assert_eq!(check_time(0, u64::MAX, 100, 60), Ok(()));
    }
}
