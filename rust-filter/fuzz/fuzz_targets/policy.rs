//! Policy parsing (YAML/JSON, CNP/CCNP): errors, never panics.
#![no_main]

use cilium_jwt::PolicySet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PolicySet::parse(text);
    }
});
