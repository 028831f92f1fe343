//! The seam between the filter logic and Envoy: what the filter needs from one HTTP
//! stream. [`crate::envoy_stream`] implements it with Envoy's callbacks; unit tests
//! implement it with a recording fake.

/// One HTTP stream, as seen from a hook on its worker thread.
pub trait Stream {
    /// Value `index` of request header `name` (lower case), and how many values it has.
    /// The bytes stay valid until the headers are modified or the hook returns.
    fn request_header(&self, name: &str, index: usize) -> (Option<&[u8]>, usize);

    /// Replaces every value of request header `name`, or removes it (`None`).
    fn set_request_header(&self, name: &str, value: Option<&str>);

    /// Ends the stream with a local reply; the request never reaches the upstream.
    fn send_response(&self, status: u16, headers: &[(&str, &str)], body: &str, details: &str);

    /// Resumes a request stopped by an earlier hook.
    fn continue_decoding(&self);

    /// A handle that can wake this stream's `scheduled` hook from any thread, or `None`
    /// if Envoy could not provide one.
    fn new_scheduler(&self) -> Option<Box<dyn Scheduler>>;
}

/// Wakes a stream's `scheduled` hook on its worker thread. Dropping it releases it; the
/// implementation guarantees release happens exactly once.
pub trait Scheduler: Send {
    /// Queues `scheduled(event_id)` on the stream's worker; does nothing if the stream
    /// is gone.
    fn commit(&self, event_id: u64);
}
