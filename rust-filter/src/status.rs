//! Authentication outcomes, with the exact messages of google/jwt_verify_lib.
//!
//! Envoy's `jwt_authn` filter answers a failed request with the status message as
//! the body; operators and clients match on these strings, so they are kept verbatim.

use std::fmt;

/// The outcome of authenticating one request against one `matchJWT` requirement.
///
/// Every variant but [`Status::Ok`] is a denial. The variants mirror
/// `google::jwt_verify::Status`; a few carry no Envoy equivalent and are marked so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// The token verified and every check passed.
    Ok,
    /// No token was found in any configured location.
    JwtMissed,
    /// `nbf` lies in the future beyond the clock skew.
    JwtNotYetValid,
    /// `exp` lies in the past beyond the clock skew.
    JwtExpired,
    /// The token does not have three dot-separated sections.
    JwtBadFormat,
    /// The header section is not valid base64url.
    JwtHeaderParseErrorBadBase64,
    /// The header section is not a JSON object.
    JwtHeaderParseErrorBadJson,
    /// `alg` is absent or not a string.
    JwtHeaderBadAlg,
    /// `alg` names an algorithm that is not supported.
    JwtHeaderNotImplementedAlg,
    /// `kid` is present but not a string.
    JwtHeaderBadKid,
    /// The payload section is not valid base64url.
    JwtPayloadParseErrorBadBase64,
    /// The payload section is not a JSON object.
    JwtPayloadParseErrorBadJson,
    /// `iss` is present but not a string.
    JwtPayloadParseErrorIssNotString,
    /// `sub` is present but not a string.
    JwtPayloadParseErrorSubNotString,
    /// `iat` is present but not an integer.
    JwtPayloadParseErrorIatNotInteger,
    /// `iat` is out of range.
    JwtPayloadParseErrorIatOutOfRange,
    /// `nbf` is present but not an integer.
    JwtPayloadParseErrorNbfNotInteger,
    /// `nbf` is out of range.
    JwtPayloadParseErrorNbfOutOfRange,
    /// `exp` is present but not an integer.
    JwtPayloadParseErrorExpNotInteger,
    /// `exp` is out of range.
    JwtPayloadParseErrorExpOutOfRange,
    /// `jti` is present but not a string.
    JwtPayloadParseErrorJtiNotString,
    /// `aud` is present but neither a string nor a list of strings.
    JwtPayloadParseErrorAudNotString,
    /// The signature section is not valid base64url.
    JwtSignatureParseErrorBadBase64,
    /// `iss` is not the configured issuer.
    JwtUnknownIssuer,
    /// None of the token's audiences is allowed. The only 403.
    JwtAudienceNotAllowed,
    /// An Ed25519 candidate key met a signature that is not 64 bytes long; jwt_verify_lib
    /// stops at that key, so this is reported even if a later key could verify.
    JwtEd25519SignatureWrongLength,
    /// The signature did not verify with any candidate key (also: a SPIRE `sub` that is not
    /// a SPIFFE ID, or no `exp`; jwt_authn's `subjects`/`require_expiration` answer so).
    JwtVerificationFail,
    /// No key of the key set matches the token's `kid` and `alg`.
    JwksKidAlgMismatch,
    /// The key set could not be fetched (or is stale beyond its bound).
    JwksFetchFail,
    /// Stricter than Envoy: the header lists a critical extension (`crit`) we do not
    /// implement (RFC 7515 §4.1.11 requires rejecting it).
    JwtHeaderUnsupportedCrit,
    /// Stricter than Envoy: the token exceeds the engine's size bound.
    JwtTooLarge,
}

impl Status {
    /// The message jwt_authn sends as the response body (and logs) for this status.
    pub fn message(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::JwtMissed => "Jwt is missing",
            Status::JwtNotYetValid => "Jwt not yet valid",
            Status::JwtExpired => "Jwt is expired",
            Status::JwtBadFormat => "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
            Status::JwtHeaderParseErrorBadBase64 => "Jwt header is an invalid Base64url encoded",
            Status::JwtHeaderParseErrorBadJson => "Jwt header is an invalid JSON",
            Status::JwtHeaderBadAlg => "Jwt header [alg] field is required and must be a string",
            Status::JwtHeaderNotImplementedAlg => "Jwt header [alg] is not supported",
            Status::JwtHeaderBadKid => "Jwt header [kid] field is not a string",
            Status::JwtPayloadParseErrorBadBase64 => "Jwt payload is an invalid Base64url encoded",
            Status::JwtPayloadParseErrorBadJson => "Jwt payload is an invalid JSON",
            Status::JwtPayloadParseErrorIssNotString => "Jwt payload [iss] field is not a string",
            Status::JwtPayloadParseErrorSubNotString => "Jwt payload [sub] field is not a string",
            Status::JwtPayloadParseErrorIatNotInteger => "Jwt payload [iat] field is not an integer",
            Status::JwtPayloadParseErrorIatOutOfRange => "Jwt payload [iat] field is not a positive 64 bit integer",
            Status::JwtPayloadParseErrorNbfNotInteger => "Jwt payload [nbf] field is not an integer",
            Status::JwtPayloadParseErrorNbfOutOfRange => "Jwt payload [nbf] field is not a positive 64 bit integer",
            Status::JwtPayloadParseErrorExpNotInteger => "Jwt payload [exp] field is not an integer",
            Status::JwtPayloadParseErrorExpOutOfRange => "Jwt payload [exp] field is not a positive 64 bit integer",
            Status::JwtPayloadParseErrorJtiNotString => "Jwt payload [jti] field is not a string",
            Status::JwtPayloadParseErrorAudNotString => "Jwt payload [aud] field is not a string or string list",
            Status::JwtSignatureParseErrorBadBase64 => "Jwt signature is an invalid Base64url encoded",
            Status::JwtUnknownIssuer => "Jwt issuer is not configured",
            Status::JwtAudienceNotAllowed => "Audiences in Jwt are not allowed",
            Status::JwtEd25519SignatureWrongLength => "Jwt ED25519 signature is wrong length",
            Status::JwtVerificationFail => "Jwt verification fails",
            Status::JwksKidAlgMismatch => "Jwks doesn't have key to match kid or alg from Jwt",
            Status::JwksFetchFail => "Jwks remote fetch is failed",
            // Not Envoy messages: Envoy accepts these tokens; see README "Deliberate differences".
            Status::JwtHeaderUnsupportedCrit => "Jwt header [crit] lists an unsupported extension",
            Status::JwtTooLarge => "Jwt is too large",
        }
    }

    /// The HTTP status jwt_authn answers with: 403 for a disallowed audience, else 401.
    pub fn http_status(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::JwtAudienceNotAllowed => 403,
            _ => 401,
        }
    }

    /// Whether this status allows the request.
    pub fn is_ok(self) -> bool {
        self == Status::Ok
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_audience_mismatch_is_forbidden() {
        assert_eq!(Status::JwtAudienceNotAllowed.http_status(), 403);
        assert_eq!(Status::JwtMissed.http_status(), 401);
        assert_eq!(Status::JwksFetchFail.http_status(), 401);
        assert_eq!(Status::Ok.http_status(), 200);
    }

    #[test]
    fn messages_match_jwt_verify_lib() {
        assert_eq!(Status::JwtMissed.to_string(), "Jwt is missing");
        assert_eq!(Status::JwksKidAlgMismatch.message(), "Jwks doesn't have key to match kid or alg from Jwt");
    }
}
