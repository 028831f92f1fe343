//! Our own minimal bindings to Envoy 1.40's dynamic-module C ABI (`abi.h`, version
//! `v0.2.0`): only the types, constants and callbacks this filter uses. Every prototype
//! was checked against the 1.40.0 binary (see `/work/notes/dynamic_modules_abi.md`).
//!
//! Envoy resolves the `envoy_dynamic_module_callback_*` symbols when it loads the module.
//! A `cargo test` executable has no Envoy to resolve them against, so under `cfg(test)`
//! the same names are inert Rust stubs: the hooks still compile and can be exercised.

#![allow(missing_docs)] // mirrors abi.h; the C names are the documentation

use std::ffi::c_void;

/// `envoy_dynamic_module_type_envoy_buffer`: bytes owned by Envoy.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EnvoyBuffer {
    pub ptr: *const u8,
    pub length: usize,
}

impl EnvoyBuffer {
    pub const EMPTY: EnvoyBuffer = EnvoyBuffer { ptr: std::ptr::null(), length: 0 };

    /// The bytes, or `None` for a NULL buffer.
    ///
    /// # Safety
    /// `ptr` must be NULL or point to `length` readable bytes that outlive `'a`.
    pub unsafe fn as_slice<'a>(self) -> Option<&'a [u8]> {
        if self.ptr.is_null() {
            None
        } else {
            // SAFETY: non-NULL and, per the caller's contract, `length` bytes live for 'a.
            Some(unsafe { std::slice::from_raw_parts(self.ptr, self.length) })
        }
    }
}

/// `envoy_dynamic_module_type_module_buffer`: bytes owned by the module (copied by Envoy).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModuleBuffer {
    pub ptr: *const u8,
    pub length: usize,
}

impl ModuleBuffer {
    /// `{NULL, 0}`: "no value" (for `set_header`, remove the header).
    pub const NULL: ModuleBuffer = ModuleBuffer { ptr: std::ptr::null(), length: 0 };

    pub fn from_bytes(bytes: &[u8]) -> Self {
        ModuleBuffer { ptr: bytes.as_ptr(), length: bytes.len() }
    }
}

/// `envoy_dynamic_module_type_module_http_header`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModuleHttpHeader {
    pub key_ptr: *const u8,
    pub key_length: usize,
    pub value_ptr: *const u8,
    pub value_length: usize,
}

impl ModuleHttpHeader {
    pub fn new(key: &str, value: &str) -> Self {
        ModuleHttpHeader {
            key_ptr: key.as_ptr(),
            key_length: key.len(),
            value_ptr: value.as_ptr(),
            value_length: value.len(),
        }
    }
}

/// `envoy_dynamic_module_type_envoy_http_header` (only passed through, never read).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EnvoyHttpHeader {
    pub key_ptr: *const u8,
    pub key_length: usize,
    pub value_ptr: *const u8,
    pub value_length: usize,
}

pub type HttpFilterConfigEnvoyPtr = *mut c_void;
pub type HttpFilterConfigModulePtr = *const c_void;
pub type HttpFilterEnvoyPtr = *mut c_void;
pub type HttpFilterModulePtr = *const c_void;
pub type HttpFilterSchedulerPtr = *mut c_void;

/// `envoy_dynamic_module_type_http_header_type`.
pub const HEADER_TYPE_REQUEST: u32 = 0;

/// `FilterHeadersStatus`.
pub const HEADERS_CONTINUE: u32 = 0;
pub const HEADERS_STOP_ITERATION: u32 = 1;
pub const HEADERS_STOP_ALL_ITERATION_AND_WATERMARK: u32 = 4;

/// `FilterDataStatus`.
pub const BODY_CONTINUE: u32 = 0;
pub const BODY_STOP_ITERATION_AND_WATERMARK: u32 = 2;
pub const BODY_STOP_ITERATION_NO_BUFFER: u32 = 3;

/// `FilterTrailersStatus`.
pub const TRAILERS_CONTINUE: u32 = 0;
pub const TRAILERS_STOP_ITERATION: u32 = 1;

/// `envoy_dynamic_module_type_log_level` (spdlog levels).
pub const LOG_DEBUG: u32 = 1;
pub const LOG_INFO: u32 = 2;
pub const LOG_WARN: u32 = 3;
pub const LOG_ERROR: u32 = 4;

#[cfg(not(test))]
unsafe extern "C" {
    pub fn envoy_dynamic_module_callback_log(level: u32, message: ModuleBuffer);
    pub fn envoy_dynamic_module_callback_log_enabled(level: u32) -> bool;

    /// Value `index` of request header `key` into `result`; `count` (nullable) receives
    /// the number of values. Returns whether `index < count`.
    pub fn envoy_dynamic_module_callback_http_get_header(
        filter: HttpFilterEnvoyPtr,
        header_type: u32,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
        index: usize,
        count: *mut usize,
    ) -> bool;
    /// Replaces every value of `key`; a `{NULL, 0}` value removes the header.
    pub fn envoy_dynamic_module_callback_http_set_header(
        filter: HttpFilterEnvoyPtr,
        header_type: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    pub fn envoy_dynamic_module_callback_http_send_response(
        filter: HttpFilterEnvoyPtr,
        status_code: u32,
        headers: *const ModuleHttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        details: ModuleBuffer,
    );
    pub fn envoy_dynamic_module_callback_http_filter_continue_decoding(filter: HttpFilterEnvoyPtr);

    /// Worker thread only, inside a hook. The result holds a weak reference to the stream.
    pub fn envoy_dynamic_module_callback_http_filter_scheduler_new(
        filter: HttpFilterEnvoyPtr,
    ) -> HttpFilterSchedulerPtr;
    /// Any thread; a no-op when the stream is gone.
    pub fn envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler: HttpFilterSchedulerPtr, event_id: u64);
    /// Any thread, exactly once, never concurrently with a commit on the same scheduler.
    pub fn envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler: HttpFilterSchedulerPtr);
}

#[cfg(test)]
pub use stubs::*;

/// Inert stand-ins for the callbacks, for test executables (no Envoy to link against).
/// Log lines are kept per thread so tests can assert on them.
#[cfg(test)]
#[allow(clippy::missing_safety_doc)]
mod stubs {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// Log lines written on this thread.
        pub static LOGGED: RefCell<Vec<(u32, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub unsafe fn envoy_dynamic_module_callback_log(level: u32, message: ModuleBuffer) {
        // SAFETY: callers pass a valid module buffer.
        let bytes = unsafe { std::slice::from_raw_parts(message.ptr, message.length) };
        LOGGED.with(|l| l.borrow_mut().push((level, String::from_utf8_lossy(bytes).into_owned())));
    }
    pub unsafe fn envoy_dynamic_module_callback_log_enabled(_level: u32) -> bool {
        true
    }
    pub unsafe fn envoy_dynamic_module_callback_http_get_header(
        _filter: HttpFilterEnvoyPtr,
        _header_type: u32,
        _key: ModuleBuffer,
        result: *mut EnvoyBuffer,
        _index: usize,
        count: *mut usize,
    ) -> bool {
        // SAFETY: callers pass valid out-pointers (count may be NULL).
        unsafe {
            *result = EnvoyBuffer::EMPTY;
            if !count.is_null() {
                *count = 0;
            }
        }
        false
    }
    pub unsafe fn envoy_dynamic_module_callback_http_set_header(
        _filter: HttpFilterEnvoyPtr,
        _header_type: u32,
        _key: ModuleBuffer,
        _value: ModuleBuffer,
    ) -> bool {
        false
    }
    pub unsafe fn envoy_dynamic_module_callback_http_send_response(
        _filter: HttpFilterEnvoyPtr,
        _status_code: u32,
        _headers: *const ModuleHttpHeader,
        _headers_size: usize,
        _body: ModuleBuffer,
        _details: ModuleBuffer,
    ) {
    }
    pub unsafe fn envoy_dynamic_module_callback_http_filter_continue_decoding(_filter: HttpFilterEnvoyPtr) {}
    pub unsafe fn envoy_dynamic_module_callback_http_filter_scheduler_new(
        _filter: HttpFilterEnvoyPtr,
    ) -> HttpFilterSchedulerPtr {
        std::ptr::null_mut()
    }
    pub unsafe fn envoy_dynamic_module_callback_http_filter_scheduler_commit(
        _scheduler: HttpFilterSchedulerPtr,
        _event_id: u64,
    ) {
    }
    pub unsafe fn envoy_dynamic_module_callback_http_filter_scheduler_delete(_scheduler: HttpFilterSchedulerPtr) {}
}
