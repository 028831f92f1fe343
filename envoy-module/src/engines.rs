//! One engine per distinct [`EngineSettings`], shared by every filter config in the process.
//!
//! Why shared rather than one engine per config: Envoy builds a new filter config for
//! every listener (re)configuration, and Cilium reconfigures listeners on every policy
//! change. A per-config engine would start cold each time: refetch every key set (load
//! on the identity provider, requests waiting or failing while it is down) and start a
//! background thread per config. A shared engine keeps one key set cache per JWKS URL
//! and one verified-token cache across listeners and workers, and identical `matchJWT`
//! rules compile to one shared requirement. Engine bounds are engine-wide, so configs
//! with different settings get different engines.
//!
//! The registry holds engines weakly: the last config using an engine frees it.

use std::sync::{Arc, Weak};

use cilium_jwt::{Engine, EngineError};
use parking_lot::Mutex;

use crate::config::EngineSettings;

static ENGINES: Mutex<Vec<(EngineSettings, Weak<Engine>)>> = Mutex::new(Vec::new());

/// The live engine with these settings, or a new one.
pub fn shared_engine(settings: &EngineSettings) -> Result<Arc<Engine>, EngineError> {
    let mut engines = ENGINES.lock();
    if let Some(engine) = engines.iter().find(|(s, _)| s == settings).and_then(|(_, e)| e.upgrade()) {
        return Ok(engine);
    }
    engines.retain(|(_, e)| e.strong_count() > 0);
    let engine = Arc::new(Engine::new(settings.options())?);
    engines.push((*settings, Arc::downgrade(&engine)));
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_settings_share_an_engine() {
        let a = EngineSettings { max_wait_ms: 1234, ..EngineSettings::default() };
        let b = EngineSettings { max_wait_ms: 4321, ..EngineSettings::default() };
        let first = shared_engine(&a).unwrap();
        let second = shared_engine(&a).unwrap();
        let other = shared_engine(&b).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(!Arc::ptr_eq(&first, &other));
        let weak = Arc::downgrade(&first);
        drop((first, second));
        assert!(weak.upgrade().is_none(), "the registry must not keep engines alive");
    }
}
