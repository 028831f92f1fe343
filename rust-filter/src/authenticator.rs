//! Authenticating one request against one requirement, in jwt_authn's order:
//! extraction → format → issuer → time → audiences → claim rules → keys → signature.
//! Every token found must pass (a good token next to a bad one is still denied); the
//! last one found is checked first, as jwt_authn does.
//!
//! The claim rules are jwt_authn's optional `require_expiration` (always on here: a
//! bearer token that never expires is refused) and, for SPIRE, a `subjects` rule that
//! `sub` be a SPIFFE ID; both fail as jwt_authn's do, with "Jwt verification fails".

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::audience::Audiences;
use crate::config::{MatchJwt, Provider};
use crate::extractor::{Extractor, TokenLocation, remove_query_param};
use crate::jwks_cache::JwksEntry;
use crate::jwt::{self, Jwt};
use crate::request::Request;
use crate::status::Status;
use crate::token_cache::{CachedToken, TokenCache};
use crate::verdict::Verdict;
use crate::verifier;

/// Process-wide, so a requirement used with another engine can never alias its cache keys.
static NEXT_REQUIREMENT_ID: AtomicU64 = AtomicU64::new(1);

/// A `matchJWT` requirement compiled for checking: token locations resolved, audiences
/// normalised, and bound to the shared key set cache entry of its JWKS URL.
#[derive(Debug)]
pub struct Requirement {
    id: u64,
    config: MatchJwt,
    extractor: Extractor,
    audiences: Audiences,
    jwks: Arc<JwksEntry>,
}

/// Why an evaluation could not finish without waiting for the network.
#[derive(Debug)]
pub(crate) struct NeedsFetch {
    pub(crate) entry: Arc<JwksEntry>,
    pub(crate) seen_attempts: u64,
}

/// Evaluation result: a verdict, or keys to wait for first.
#[derive(Debug)]
pub(crate) enum Evaluation {
    Done(Verdict),
    Wait(NeedsFetch),
}

enum TokenOutcome {
    Valid,
    Invalid(Status),
    Wait(NeedsFetch),
}

/// The limits an evaluation works within.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_token_bytes: usize,
}

impl Requirement {
    pub(crate) fn new(config: MatchJwt, jwks: Arc<JwksEntry>) -> Self {
        Requirement {
            id: NEXT_REQUIREMENT_ID.fetch_add(1, Ordering::Relaxed),
            extractor: Extractor::new(&config),
            audiences: Audiences::new(&config.audiences),
            config,
            jwks,
        }
    }

    /// The configuration this requirement was compiled from.
    pub fn config(&self) -> &MatchJwt {
        &self.config
    }

    /// The shared key set cache entry of this requirement's JWKS URL.
    pub fn jwks(&self) -> &Arc<JwksEntry> {
        &self.jwks
    }

    /// Evaluates `request` at unix time `now`. With `can_wait`, missing keys or an unknown
    /// `kid` (within the refetch allowance) yield [`Evaluation::Wait`] instead of a denial.
    pub(crate) fn evaluate(
        &self,
        request: &Request<'_>,
        now: u64,
        can_wait: bool,
        tokens_cache: &TokenCache,
        limits: Limits,
    ) -> Evaluation {
        let tokens = self.extractor.extract(request);
        if tokens.is_empty() {
            return Evaluation::Done(Verdict::deny(Status::JwtMissed, &request.original_uri()));
        }
        for token in tokens.iter().rev() {
            match self.authenticate(&token.token, now, can_wait, tokens_cache, limits) {
                TokenOutcome::Valid => {}
                TokenOutcome::Invalid(status) => {
                    return Evaluation::Done(Verdict::deny(status, &request.original_uri()));
                }
                TokenOutcome::Wait(needs) => return Evaluation::Wait(needs),
            }
        }
        let mut remove = Vec::new();
        let mut path = None::<String>;
        if !self.config.forward {
            for token in &tokens {
                match &token.location {
                    TokenLocation::Header(name) if !remove.contains(name) => remove.push(name.clone()),
                    TokenLocation::Header(_) => {}
                    TokenLocation::Param(name) => {
                        path = Some(remove_query_param(path.as_deref().unwrap_or(request.path), name));
                    }
                }
            }
        }
        let set = path.map(|p| vec![(":path".to_string(), p)]).unwrap_or_default();
        Evaluation::Done(Verdict::allow(remove, set))
    }

    fn authenticate(
        &self,
        token: &str,
        now: u64,
        can_wait: bool,
        tokens_cache: &TokenCache,
        limits: Limits,
    ) -> TokenOutcome {
        if token.len() > limits.max_token_bytes {
            return TokenOutcome::Invalid(Status::JwtTooLarge);
        }
        let skew = u64::from(self.config.clock_skew_seconds);
        let mut keys = self.jwks.usable();

        // Fast path: verified before with these very keys; only time can have changed.
        if let Some(snapshot) = &keys
            && let Some(hit) = tokens_cache.get(self.id, token)
            && hit.generation == snapshot.generation
        {
            return match jwt::check_time(hit.nbf, hit.exp, now, skew) {
                Ok(()) => TokenOutcome::Valid,
                Err(status) => TokenOutcome::Invalid(status),
            };
        }

        let jwt = match Jwt::parse(token) {
            Ok(jwt) => jwt,
            Err(status) => return TokenOutcome::Invalid(status),
        };
        if jwt.iss != self.config.issuer {
            return TokenOutcome::Invalid(Status::JwtUnknownIssuer);
        }
        if let Err(status) = jwt.check_time(now, skew) {
            return TokenOutcome::Invalid(status);
        }
        if !self.audiences.allows(&jwt.audiences) {
            return TokenOutcome::Invalid(Status::JwtAudienceNotAllowed);
        }
        if jwt.exp == 0 || (self.config.provider == Provider::Spire && !is_spiffe_id(&jwt.sub)) {
            return TokenOutcome::Invalid(Status::JwtVerificationFail);
        }

        if keys.is_none() {
            // Read the attempt count before looking again, so a fetch that completes in
            // between is never missed by the waiter.
            let seen_attempts = self.jwks.attempts();
            keys = self.jwks.usable();
            if keys.is_none() {
                return if can_wait {
                    TokenOutcome::Wait(NeedsFetch { entry: self.jwks.clone(), seen_attempts })
                } else {
                    TokenOutcome::Invalid(Status::JwksFetchFail)
                };
            }
        }
        let Some(snapshot) = keys else {
            return TokenOutcome::Invalid(Status::JwksFetchFail);
        };

        match verifier::verify(&jwt, &snapshot.keys) {
            Status::Ok => {
                let entry = CachedToken { nbf: jwt.nbf, exp: jwt.exp, generation: snapshot.generation };
                tokens_cache.insert(self.id, token, entry);
                TokenOutcome::Valid
            }
            Status::JwksKidAlgMismatch if can_wait && !jwt.kid.is_empty() => {
                // Perhaps a key rotated in since the last fetch: refetch, within the allowance.
                let seen_attempts = self.jwks.attempts();
                if self.jwks.claim_kid_refetch() {
                    TokenOutcome::Wait(NeedsFetch { entry: self.jwks.clone(), seen_attempts })
                } else {
                    TokenOutcome::Invalid(Status::JwksKidAlgMismatch)
                }
            }
            status => TokenOutcome::Invalid(status),
        }
    }
}

/// A SPIFFE ID: `spiffe://<trust domain>[/<path>]`, trust domain of lower-case letters,
/// digits, `.`, `-`, `_`; path segments non-empty, not `.`/`..`, of letters, digits, `.-_`.
pub fn is_spiffe_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("spiffe://") else {
        return false;
    };
    let (domain, path) = rest.split_once('/').map_or((rest, None), |(d, p)| (d, Some(p)));
    let domain_ok = !domain.is_empty()
        && domain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let path_ok = path.is_none_or(|p| {
        p.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
    });
    domain_ok && path_ok
}

#[cfg(test)]
mod tests {
    use super::is_spiffe_id;

    #[test]
    fn spiffe_ids() {
        assert!(is_spiffe_id("spiffe://example.org/ns/default/sa/web"));
        assert!(is_spiffe_id("spiffe://example.org"));
        assert!(!is_spiffe_id("spiffe://Example.org/x"));
        assert!(!is_spiffe_id("spiffe://example.org/"));
        assert!(!is_spiffe_id("spiffe://example.org/a/../b"));
        assert!(!is_spiffe_id("https://example.org/x"));
        assert!(!is_spiffe_id(""));
    }
}
