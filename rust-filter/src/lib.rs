//! # cilium-jwt
//!
//! The engine behind `matchJWT` in CiliumNetworkPolicy HTTP rules: it authenticates each
//! request's JSON Web Token against the identity provider's key set and checks its
//! audiences, with the verdicts (status, body, `WWW-Authenticate`) of Envoy's
//! `jwt_authn` filter.
//!
//! ```no_run
//! use cilium_jwt::{Engine, EngineOptions, Request};
//!
//! let engine = Engine::new(EngineOptions::default())?;
//! let policy = engine.load_policy(&std::fs::read_to_string("client-identity.yaml")?)?;
//! let requirement = policy.requirement(0).expect("the policy has a matchJWT rule");
//! let headers = [("authorization", "Bearer eyJ...")];
//! let verdict = engine.check(requirement, &Request::new("/", &headers));
//! println!("{} {}", verdict.http_status(), verdict.body());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One module per concept, as in Envoy's `jwt_authn`: [`extractor`] finds tokens,
//! [`jwt`] parses them, [`audience`] and [`verifier`] check them, [`jwks`] and
//! [`jwks_cache`] provide keys, [`token_cache`] remembers verified tokens,
//! [`authenticator`] runs the checks in order and [`engine`] ties it together.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audience;
pub mod authenticator;
pub mod base64url;
pub mod config;
pub mod engine;
pub mod extractor;
pub mod fetcher;
pub mod jwks;
pub mod jwks_cache;
pub mod jwt;
pub mod policy;
pub mod request;
pub mod status;
pub mod token_cache;
pub mod verdict;
pub mod verifier;

pub use authenticator::Requirement;
pub use config::{ConfigError, HeaderLocation, MatchJwt, Provider};
pub use engine::{CheckStart, Engine, EngineError, EngineOptions, Policy};
pub use policy::{JwtRule, PolicySet};
pub use request::Request;
pub use status::Status;
pub use verdict::Verdict;
