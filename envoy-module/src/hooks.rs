//! The symbols Envoy 1.40 looks up in the module: `program_init` and the 20 required
//! `on_http_filter_*` hooks (`local_reply`, per-route and config-level hooks are optional
//! and not exported).
//!
//! Every hook runs inside `catch_unwind`: a panic never crosses into Envoy. A panic on
//! the request path fails closed (500, nothing forwarded); elsewhere it is logged.

use std::panic::{AssertUnwindSafe, UnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::abi::*;
use crate::config::ModuleConfig;
use crate::envoy_stream::EnvoyStream;
use crate::filter::{BodyAction, Filter, FilterConfig, HeadersAction};
use crate::log;

static ABI_VERSION: &[u8] = b"v0.2.0\0";

/// Runs `body`; on a panic logs it and returns `fallback()` (itself guarded: if that
/// panics too, `last_resort`).
fn guarded<T>(hook: &str, body: impl FnOnce() -> T, fallback: impl FnOnce() -> T, last_resort: T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(_) => {
            let _ =
                catch_unwind(|| log::log(log::ERROR, &format!("cilium-jwt: internal error in {hook}; failing closed")));
            catch_unwind(AssertUnwindSafe(fallback)).unwrap_or(last_resort)
        }
    }
}

/// Like [`guarded`] for hooks with nothing to answer.
fn guarded_unit(hook: &str, body: impl FnOnce() + UnwindSafe) {
    if catch_unwind(body).is_err() {
        let _ = catch_unwind(|| log::log(log::ERROR, &format!("cilium-jwt: internal error in {hook}")));
    }
}

/// The filter behind a module pointer.
///
/// # Safety
/// `ptr` must come from `on_http_filter_new` and not be destroyed yet.
unsafe fn filter<'a>(ptr: HttpFilterModulePtr) -> Option<&'a Filter> {
    // SAFETY: per the contract, a live `Box<Filter>` (or NULL).
    unsafe { (ptr as *const Filter).as_ref() }
}

/// Called once when Envoy loads the module; the ABI version it was written against.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const std::ffi::c_char {
    ABI_VERSION.as_ptr().cast()
}

/// Parses and compiles a filter configuration (main thread). On error, logs the precise
/// reason and returns NULL, which makes Envoy reject the configuration.
///
/// # Safety
/// Envoy's buffers must be valid for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    _config_envoy: HttpFilterConfigEnvoyPtr,
    name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> HttpFilterConfigModulePtr {
    // SAFETY: Envoy passes buffers valid for the duration of this call.
    let (name, bytes) = unsafe { (name.as_slice().unwrap_or_default(), config.as_slice().unwrap_or_default()) };
    let name = String::from_utf8_lossy(name);
    let result = catch_unwind(|| {
        let parsed = ModuleConfig::parse(bytes).map_err(|e| e.to_string())?;
        FilterConfig::new(&parsed).map_err(|e| e.to_string())
    });
    match result {
        Ok(Ok(config)) => {
            let labels = config.labels();
            let _ = catch_unwind(|| {
                let rules = labels.join(", ");
                log::log(
                    log::INFO,
                    &format!("cilium-jwt: filter config {name:?}: {} matchJWT rule(s): {rules}", labels.len()),
                );
            });
            Arc::into_raw(Arc::new(config)).cast()
        }
        Ok(Err(message)) => {
            let _ = catch_unwind(|| {
                log::log(log::ERROR, &format!("cilium-jwt: filter config {name:?} rejected: {message}"))
            });
            std::ptr::null()
        }
        Err(_) => {
            let _ = catch_unwind(|| {
                log::log(log::ERROR, &format!("cilium-jwt: filter config {name:?} rejected: internal error"))
            });
            std::ptr::null()
        }
    }
}

/// Releases a filter configuration (main thread; streams hold their own reference).
///
/// # Safety
/// `config` must come from `config_new` and be destroyed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: HttpFilterConfigModulePtr) {
    if config.is_null() {
        return;
    }
    // SAFETY: the pointer is an `Arc<FilterConfig>` from config_new, released once here.
    let config = unsafe { Arc::from_raw(config.cast::<FilterConfig>()) };
    guarded_unit("config_destroy", AssertUnwindSafe(move || drop(config)));
}

/// A new stream (worker thread). NULL makes Envoy answer 500.
///
/// # Safety
/// `config` must be a live pointer from `config_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: HttpFilterConfigModulePtr,
    _filter_envoy: HttpFilterEnvoyPtr,
) -> HttpFilterModulePtr {
    if config.is_null() {
        return std::ptr::null();
    }
    let config = config.cast::<FilterConfig>();
    guarded(
        "filter_new",
        || {
            // SAFETY: a live Arc from config_new; we take one more reference for the stream.
            let config = unsafe {
                Arc::increment_strong_count(config);
                Arc::from_raw(config)
            };
            Box::into_raw(Box::new(Filter::new(config))).cast()
        },
        std::ptr::null,
        std::ptr::null(),
    )
}

/// The stream is gone (worker thread): cancel any wait, free the filter.
///
/// # Safety
/// `filter_module` must come from `filter_new` and be destroyed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_destroy(filter_module: HttpFilterModulePtr) {
    if filter_module.is_null() {
        return;
    }
    // SAFETY: a `Box<Filter>` from filter_new, freed once here.
    let filter = unsafe { Box::from_raw(filter_module as *mut Filter) };
    guarded_unit(
        "filter_destroy",
        AssertUnwindSafe(move || {
            filter.on_destroy();
            drop(filter);
        }),
    );
}

/// # Safety
/// Pointers as Envoy passes them to this hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy: HttpFilterEnvoyPtr,
    filter_module: HttpFilterModulePtr,
    _end_of_stream: bool,
) -> u32 {
    // SAFETY: the pointers Envoy passed to this very hook.
    let (Some(filter), stream) = (unsafe { filter(filter_module) }, unsafe { EnvoyStream::new(filter_envoy) }) else {
        return HEADERS_STOP_ITERATION;
    };
    guarded(
        "request_headers",
        || match filter.on_request_headers(&stream) {
            HeadersAction::Continue => HEADERS_CONTINUE,
            HeadersAction::Stop => HEADERS_STOP_ITERATION,
            HeadersAction::Wait => HEADERS_STOP_ALL_ITERATION_AND_WATERMARK,
        },
        || {
            filter.fail_closed(&stream);
            HEADERS_STOP_ITERATION
        },
        HEADERS_STOP_ITERATION,
    )
}

/// # Safety
/// Pointers as Envoy passes them to this hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    filter_envoy: HttpFilterEnvoyPtr,
    filter_module: HttpFilterModulePtr,
    _end_of_stream: bool,
) -> u32 {
    // SAFETY: the pointers Envoy passed to this very hook.
    let (Some(filter), stream) = (unsafe { filter(filter_module) }, unsafe { EnvoyStream::new(filter_envoy) }) else {
        return BODY_STOP_ITERATION_NO_BUFFER;
    };
    guarded(
        "request_body",
        || match filter.on_request_body() {
            BodyAction::Continue => BODY_CONTINUE,
            BodyAction::Hold => BODY_STOP_ITERATION_AND_WATERMARK,
            BodyAction::Drop => BODY_STOP_ITERATION_NO_BUFFER,
        },
        || {
            filter.fail_closed(&stream);
            BODY_STOP_ITERATION_NO_BUFFER
        },
        BODY_STOP_ITERATION_NO_BUFFER,
    )
}

/// # Safety
/// Pointers as Envoy passes them to this hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
    filter_envoy: HttpFilterEnvoyPtr,
    filter_module: HttpFilterModulePtr,
) -> u32 {
    // SAFETY: the pointers Envoy passed to this very hook.
    let (Some(filter), stream) = (unsafe { filter(filter_module) }, unsafe { EnvoyStream::new(filter_envoy) }) else {
        return TRAILERS_STOP_ITERATION;
    };
    guarded(
        "request_trailers",
        || if filter.on_request_trailers() { TRAILERS_CONTINUE } else { TRAILERS_STOP_ITERATION },
        || {
            filter.fail_closed(&stream);
            TRAILERS_STOP_ITERATION
        },
        TRAILERS_STOP_ITERATION,
    )
}

/// Keys arrived (or the wait ran out) for a pending check (worker thread).
///
/// # Safety
/// Pointers as Envoy passes them to this hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
    filter_envoy: HttpFilterEnvoyPtr,
    filter_module: HttpFilterModulePtr,
    _event_id: u64,
) {
    // SAFETY: the pointers Envoy passed to this very hook.
    let (Some(filter), stream) = (unsafe { filter(filter_module) }, unsafe { EnvoyStream::new(filter_envoy) }) else {
        return;
    };
    guarded("scheduled", || filter.on_scheduled(&stream), || filter.fail_closed(&stream), ());
}

/// The response path is not ours to change.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _end_of_stream: bool,
) -> u32 {
    HEADERS_CONTINUE
}

/// The response path is not ours to change.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _end_of_stream: bool,
) -> u32 {
    BODY_CONTINUE
}

/// The response path is not ours to change.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
) -> u32 {
    TRAILERS_CONTINUE
}

/// Nothing to do: cleanup happens in `destroy`.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
) {
}

/// Unused: the filter makes no HTTP callouts (key sets are fetched by the engine).
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _callout_id: u64,
    _result: u32,
    _headers: *const EnvoyHttpHeader,
    _headers_size: usize,
    _body_chunks: *const EnvoyBuffer,
    _body_chunks_size: usize,
) {
}

/// Unused: no HTTP streams are started.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _stream_id: u64,
    _headers: *const EnvoyHttpHeader,
    _headers_size: usize,
    _end_stream: bool,
) {
}

/// Unused: no HTTP streams are started.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _stream_id: u64,
    _data: *const EnvoyBuffer,
    _data_count: usize,
    _end_stream: bool,
) {
}

/// Unused: no HTTP streams are started.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _stream_id: u64,
    _trailers: *const EnvoyHttpHeader,
    _trailers_size: usize,
) {
}

/// Unused: no HTTP streams are started.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _stream_id: u64,
) {
}

/// Unused: no HTTP streams are started.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
    _stream_id: u64,
    _reason: u32,
) {
}

/// Unused: the filter writes no response body of its own beyond a local reply.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
) {
}

/// Unused, as above.
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    _filter_envoy: HttpFilterEnvoyPtr,
    _filter_module: HttpFilterModulePtr,
) {
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::LOGGED;

    fn buffer(bytes: &[u8]) -> EnvoyBuffer {
        EnvoyBuffer { ptr: bytes.as_ptr(), length: bytes.len() }
    }

    fn config_new(config: &str) -> HttpFilterConfigModulePtr {
        // SAFETY: valid buffers for the call.
        unsafe {
            envoy_dynamic_module_on_http_filter_config_new(
                std::ptr::null_mut(),
                buffer(b"cilium-jwt"),
                buffer(config.as_bytes()),
            )
        }
    }

    #[test]
    fn abi_version() {
        // SAFETY: a static NUL-terminated string.
        let version = unsafe { std::ffi::CStr::from_ptr(envoy_dynamic_module_on_program_init()) };
        assert_eq!(version.to_str().unwrap(), "v0.2.0");
    }

    #[test]
    fn bad_config_is_rejected_with_the_reason_logged() {
        LOGGED.with(|l| l.borrow_mut().clear());
        assert!(config_new(r#"{"rules": [{"issuer": "i", "jwksUrl": "ftp://x/"}]}"#).is_null());
        let logged = LOGGED.with(|l| l.borrow().clone());
        assert_eq!(
            logged,
            vec![(
                LOG_ERROR,
                "cilium-jwt: filter config \"cilium-jwt\" rejected: rules[0].jwksUrl: must be an absolute http(s) URL"
                    .to_string()
            )]
        );
    }

    #[test]
    fn config_and_stream_lifecycle_through_the_hooks() {
        let config = config_new(r#"{"rules": [{"issuer": "i", "jwksUrl": "http://127.0.0.1:9/k"}]}"#);
        assert!(!config.is_null());
        // SAFETY: pointers from the hooks themselves; the stub callbacks ignore the stream.
        unsafe {
            let filter = envoy_dynamic_module_on_http_filter_new(config, std::ptr::null_mut());
            assert!(!filter.is_null());
            // The stub stream has no headers: no token, a local reply, stop.
            assert_eq!(
                envoy_dynamic_module_on_http_filter_request_headers(std::ptr::null_mut(), filter, true),
                HEADERS_STOP_ITERATION
            );
            assert_eq!(
                envoy_dynamic_module_on_http_filter_request_body(std::ptr::null_mut(), filter, true),
                BODY_STOP_ITERATION_NO_BUFFER
            );
            assert_eq!(
                envoy_dynamic_module_on_http_filter_request_trailers(std::ptr::null_mut(), filter),
                TRAILERS_STOP_ITERATION
            );
            envoy_dynamic_module_on_http_filter_config_destroy(config); // the stream keeps its config alive
            envoy_dynamic_module_on_http_filter_scheduled(std::ptr::null_mut(), filter, 1);
            envoy_dynamic_module_on_http_filter_destroy(filter);
        }
    }

    #[test]
    fn a_panic_fails_closed() {
        let answer = guarded("test", || -> u32 { panic!("boom") }, || HEADERS_STOP_ITERATION, HEADERS_CONTINUE);
        assert_eq!(answer, HEADERS_STOP_ITERATION);
        let answer =
            guarded("test", || -> u32 { panic!("boom") }, || -> u32 { panic!("again") }, TRAILERS_STOP_ITERATION);
        assert_eq!(answer, TRAILERS_STOP_ITERATION);
    }
}
