//! [`Stream`] and [`Scheduler`] over Envoy's callbacks: the only place the filter logic
//! meets raw pointers.

use crate::abi::{self, HttpFilterEnvoyPtr, HttpFilterSchedulerPtr, ModuleBuffer, ModuleHttpHeader};
use crate::stream::{Scheduler, Stream};

/// The Envoy side of one stream, valid for the duration of the hook it was made in.
pub struct EnvoyStream {
    ptr: HttpFilterEnvoyPtr,
}

impl EnvoyStream {
    /// Wraps the `filter_envoy_ptr` a hook received.
    ///
    /// # Safety
    /// `ptr` must be the pointer Envoy passed to the current hook, and the result must
    /// not outlive that hook.
    pub unsafe fn new(ptr: HttpFilterEnvoyPtr) -> EnvoyStream {
        EnvoyStream { ptr }
    }
}

impl Stream for EnvoyStream {
    fn request_header(&self, name: &str, index: usize) -> (Option<&[u8]>, usize) {
        let mut value = abi::EnvoyBuffer::EMPTY;
        let mut count = 0usize;
        // SAFETY: `self.ptr` is live for this hook; the out-pointers are valid locals.
        let found = unsafe {
            abi::envoy_dynamic_module_callback_http_get_header(
                self.ptr,
                abi::HEADER_TYPE_REQUEST,
                ModuleBuffer::from_bytes(name.as_bytes()),
                &mut value,
                index,
                &mut count,
            )
        };
        // SAFETY: Envoy's header storage stays put until the headers are modified, which
        // the filter only does after it is done reading.
        let value = if found { unsafe { value.as_slice() } } else { None };
        (value, count)
    }

    fn set_request_header(&self, name: &str, value: Option<&str>) {
        let value = value.map_or(ModuleBuffer::NULL, |v| ModuleBuffer::from_bytes(v.as_bytes()));
        // SAFETY: live stream pointer; Envoy copies both buffers before returning.
        unsafe {
            abi::envoy_dynamic_module_callback_http_set_header(
                self.ptr,
                abi::HEADER_TYPE_REQUEST,
                ModuleBuffer::from_bytes(name.as_bytes()),
                value,
            );
        }
    }

    fn send_response(&self, status: u16, headers: &[(&str, &str)], body: &str, details: &str) {
        let headers: Vec<ModuleHttpHeader> = headers.iter().map(|(n, v)| ModuleHttpHeader::new(n, v)).collect();
        // SAFETY: live stream pointer; the header array and buffers outlive the call and
        // Envoy copies them synchronously.
        unsafe {
            abi::envoy_dynamic_module_callback_http_send_response(
                self.ptr,
                u32::from(status),
                headers.as_ptr(),
                headers.len(),
                ModuleBuffer::from_bytes(body.as_bytes()),
                ModuleBuffer::from_bytes(details.as_bytes()),
            );
        }
    }

    fn continue_decoding(&self) {
        // SAFETY: live stream pointer.
        unsafe { abi::envoy_dynamic_module_callback_http_filter_continue_decoding(self.ptr) }
    }

    fn new_scheduler(&self) -> Option<Box<dyn Scheduler>> {
        // SAFETY: called on the worker thread inside a hook, while the stream is alive.
        let ptr = unsafe { abi::envoy_dynamic_module_callback_http_filter_scheduler_new(self.ptr) };
        if ptr.is_null() { None } else { Some(Box::new(EnvoyScheduler { ptr })) }
    }
}

/// Envoy's scheduler for one stream: it holds the stream weakly, so committing after the
/// stream is gone is a no-op. Deleted exactly once, on drop.
struct EnvoyScheduler {
    ptr: HttpFilterSchedulerPtr,
}

// SAFETY: Envoy documents commit and delete as callable from any thread; `Wakeup` makes
// sure they never run concurrently on one scheduler.
unsafe impl Send for EnvoyScheduler {}

impl Scheduler for EnvoyScheduler {
    fn commit(&self, event_id: u64) {
        // SAFETY: not yet deleted (we own it until drop).
        unsafe { abi::envoy_dynamic_module_callback_http_filter_scheduler_commit(self.ptr, event_id) }
    }
}

impl Drop for EnvoyScheduler {
    fn drop(&mut self) {
        // SAFETY: dropped once, so deleted once.
        unsafe { abi::envoy_dynamic_module_callback_http_filter_scheduler_delete(self.ptr) }
    }
}
