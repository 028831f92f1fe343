//! # cilium-jwt-envoy
//!
//! The `matchJWT` filter as an Envoy 1.40 dynamic module: Envoy loads
//! `libcilium_jwt_envoy.so` and hands every request to the [`cilium_jwt`] engine, which
//! answers with `jwt_authn`'s verdicts. This crate holds no policy logic; it adapts
//! Envoy's stream hooks to the engine's non-blocking check API.
//!
//! ```yaml
//! - name: envoy.filters.http.dynamic_modules
//!   typed_config:
//!     "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
//!     dynamic_module_config: {name: cilium_jwt_envoy, do_not_close: true}
//!     filter_name: cilium-jwt
//!     filter_config:
//!       "@type": type.googleapis.com/google.protobuf.StringValue
//!       value: '{"policy": "<CiliumNetworkPolicy YAML>", "engine": {"maxWaitMs": 3000}}'
//! ```
//!
//! Layout: [`abi`] (our C bindings) → [`envoy_stream`] (the [`stream::Stream`] seam over
//! them) → [`filter`] (the per-stream state machine) ← [`hooks`] (the exported symbols).
//! [`config`] parses the filter configuration; [`engines`] shares engines process-wide;
//! [`wakeup`] connects a pending check to the stream's scheduler.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod config;
pub mod engines;
pub mod envoy_stream;
pub mod filter;
pub mod hooks;
pub mod log;
pub mod stream;
pub mod wakeup;
