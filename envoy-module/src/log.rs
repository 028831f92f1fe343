//! Logging through Envoy's `dynamic_modules` logger (raise it with
//! `--component-log-level dynamic_modules:debug`).

use crate::abi;

pub use abi::{LOG_DEBUG as DEBUG, LOG_ERROR as ERROR, LOG_INFO as INFO, LOG_WARN as WARN};

/// Writes `message` at `level` (one of [`DEBUG`], [`INFO`], [`WARN`], [`ERROR`]).
pub fn log(level: u32, message: &str) {
    // SAFETY: the buffer points into `message`, which outlives the call; Envoy copies it.
    unsafe { abi::envoy_dynamic_module_callback_log(level, abi::ModuleBuffer::from_bytes(message.as_bytes())) }
}

/// Whether `level` is enabled, to skip formatting messages nobody will see.
pub fn enabled(level: u32) -> bool {
    // SAFETY: no arguments beyond a plain integer.
    unsafe { abi::envoy_dynamic_module_callback_log_enabled(level) }
}
