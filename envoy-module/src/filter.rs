//! The adapter between Envoy's stream hooks and the engine: no policy logic lives here.
//!
//! A request is checked against the config's `matchJWT` rules with Cilium's HTTP-rule
//! semantics, as [`cilium_jwt::Engine::check_policy`] does, but without ever blocking the
//! worker: it is allowed if any rule allows it, otherwise it gets the first rule's
//! denial. When a rule needs keys that are not cached yet, the request is stopped
//! (headers, body and trailers alike) and resumed from the `scheduled` hook.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use cilium_jwt::{CheckStart, Engine, EngineError, Request, Requirement, Status, Verdict};

use crate::config::ModuleConfig;
use crate::engines;
use crate::log;
use crate::stream::Stream;
use crate::wakeup::{Armed, Wakeup};

/// Headers read for the `WWW-Authenticate` realm, as jwt_authn's `buildOriginalUri`.
const REALM_HEADERS: [&str; 3] = [":scheme", ":authority", "x-envoy-original-path"];

/// A filter configuration: the compiled rules and the engine that checks them.
pub struct FilterConfig {
    engine: Arc<Engine>,
    rules: Vec<Arc<Requirement>>,
    labels: Vec<String>,
    /// Request headers a check may look at (token locations and realm), lower case.
    header_names: Vec<String>,
}

impl FilterConfig {
    /// Compiles `config` on the shared engine for its settings (starting key fetches).
    pub fn new(config: &ModuleConfig) -> Result<FilterConfig, EngineError> {
        let engine = engines::shared_engine(&config.engine)?;
        let mut rules = Vec::new();
        let mut labels = Vec::new();
        let mut header_names: Vec<String> = REALM_HEADERS.iter().map(|h| h.to_string()).collect();
        for (label, requirement) in config.source.rules() {
            for location in requirement.effective_headers() {
                if !header_names.contains(&location.name) {
                    header_names.push(location.name);
                }
            }
            rules.push(engine.requirement(&requirement));
            labels.push(label);
        }
        Ok(FilterConfig { engine, rules, labels, header_names })
    }

    /// Labels of the rules (where each was found), for logs.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

/// Where a stream's check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Request headers not seen yet.
    Start,
    /// Waiting for keys; everything is held back.
    Pending,
    /// Allowed and forwarded.
    Allowed,
    /// Denied: a local reply was sent (or is being sent).
    Denied,
}

/// What the request-headers hook answers Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadersAction {
    /// Forward the request.
    Continue,
    /// A local reply was sent: stop.
    Stop,
    /// Waiting for keys: stop everything, with flow control on the body (no 413).
    Wait,
}

/// What the request-body hook answers Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyAction {
    /// Forward the data.
    Continue,
    /// Hold it, with flow control (pending).
    Hold,
    /// Drop it (denied).
    Drop,
}

/// The outcome of running the rules.
enum Step {
    Allow(Verdict),
    Deny(Verdict),
    Wait,
}

/// The per-stream filter. Only ever used on the stream's worker thread; hooks re-enter
/// (continue_decoding runs the body hook inside it), so state lives in `Cell`s and no
/// borrow is held across a call into Envoy.
pub struct Filter {
    config: Arc<FilterConfig>,
    phase: Cell<Phase>,
    /// The rule the pending check is for.
    next_rule: Cell<usize>,
    /// The first rule's denial, kept while later rules are tried.
    first_denial: Cell<Option<Verdict>>,
    wakeup: Cell<Option<Arc<Wakeup>>>,
}

impl Filter {
    /// A filter for a new stream.
    pub fn new(config: Arc<FilterConfig>) -> Filter {
        Filter {
            config,
            phase: Cell::new(Phase::Start),
            next_rule: Cell::new(0),
            first_denial: Cell::new(None),
            wakeup: Cell::new(None),
        }
    }

    /// Where the check stands.
    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// The request headers arrived: decide, or start waiting for keys.
    pub fn on_request_headers(&self, stream: &impl Stream) -> HeadersAction {
        match self.phase.get() {
            Phase::Start => {
                let step = self.run(stream, false);
                self.apply(stream, step, false)
            }
            Phase::Allowed => HeadersAction::Continue,
            Phase::Pending => HeadersAction::Wait,
            Phase::Denied => HeadersAction::Stop,
        }
    }

    /// Request data arrived. Never forwarded before the verdict (the body trap).
    pub fn on_request_body(&self) -> BodyAction {
        match self.phase.get() {
            Phase::Allowed => BodyAction::Continue,
            Phase::Start | Phase::Pending => BodyAction::Hold,
            Phase::Denied => BodyAction::Drop,
        }
    }

    /// Request trailers arrived: forwarded only after an allow.
    pub fn on_request_trailers(&self) -> bool {
        self.phase.get() == Phase::Allowed
    }

    /// The `scheduled` hook: keys arrived (or the wait timed out); finish the check.
    pub fn on_scheduled(&self, stream: &impl Stream) {
        if self.phase.get() != Phase::Pending {
            return; // a late event for a stream already decided
        }
        drop(self.wakeup.take());
        let step = self.run(stream, true);
        self.apply(stream, step, true);
    }

    /// The stream is going away; a pending wait must not wake it.
    pub fn on_destroy(&self) {
        if let Some(wakeup) = self.wakeup.take() {
            wakeup.cancel();
        }
    }

    /// A hook failed unexpectedly (a bug): deny, so nothing is forwarded unchecked.
    pub fn fail_closed(&self, stream: &impl Stream) {
        let already_replied = self.phase.get() == Phase::Denied;
        self.phase.set(Phase::Denied);
        self.on_destroy();
        if !already_replied {
            stream.send_response(500, &[], "cilium-jwt: internal error", "cilium_jwt_internal_error");
        }
    }

    /// Runs the rules from the pending one (`resume`) or from the first.
    fn run(&self, stream: &impl Stream, resume: bool) -> Step {
        let headers = RequestHeaders::read(stream, &self.config.header_names);
        let pairs = headers.pairs();
        let request = Request::new(&headers.path, &pairs);
        let engine = &self.config.engine;
        let mut index = if resume { self.next_rule.get() } else { 0 };

        if resume {
            let Some(rule) = self.config.rules.get(index) else { return self.denial(&request) };
            if let Some(step) = self.consider(engine.finish_check(rule, &request)) {
                return step;
            }
            index += 1;
        }
        while let Some(rule) = self.config.rules.get(index) {
            let wakeup = Wakeup::new();
            let on_ready = wakeup.clone();
            let verdict = match engine.start_check(rule, &request, Box::new(move || on_ready.fire())) {
                CheckStart::Done(verdict) => verdict,
                CheckStart::Pending => match wakeup.arm(|| stream.new_scheduler()) {
                    Armed::Waiting => {
                        self.next_rule.set(index);
                        self.wakeup.set(Some(wakeup));
                        return Step::Wait;
                    }
                    Armed::AlreadyReady => engine.finish_check(rule, &request),
                    Armed::NoScheduler => {
                        log::log(
                            log::WARN,
                            "cilium-jwt: no scheduler for a pending check; deciding with the keys at hand",
                        );
                        engine.finish_check(rule, &request)
                    }
                },
            };
            if let Some(step) = self.consider(verdict) {
                return step;
            }
            index += 1;
        }
        self.denial(&request)
    }

    /// An allow ends the search; a denial is remembered if it is the first.
    fn consider(&self, verdict: Verdict) -> Option<Step> {
        if verdict.allowed() {
            return Some(Step::Allow(verdict));
        }
        let first = self.first_denial.take();
        self.first_denial.set(Some(first.unwrap_or(verdict)));
        None
    }

    /// Every rule denied: the first rule's denial.
    fn denial(&self, request: &Request<'_>) -> Step {
        let verdict = self
            .first_denial
            .take()
            .unwrap_or_else(|| Verdict::deny(Status::JwtVerificationFail, &request.original_uri()));
        Step::Deny(verdict)
    }

    /// Acts on the outcome. Phase changes come first: Envoy re-enters our hooks from
    /// inside `continue_decoding` and `send_response`.
    fn apply(&self, stream: &impl Stream, step: Step, resumed: bool) -> HeadersAction {
        match step {
            Step::Allow(verdict) => {
                self.phase.set(Phase::Allowed);
                for name in &verdict.remove_headers {
                    stream.set_request_header(name, None);
                }
                for (name, value) in &verdict.set_headers {
                    stream.set_request_header(name, Some(value));
                }
                if resumed {
                    stream.continue_decoding();
                }
                HeadersAction::Continue
            }
            Step::Deny(verdict) => {
                self.phase.set(Phase::Denied);
                if log::enabled(log::DEBUG) {
                    log::log(log::DEBUG, &format!("cilium-jwt: denied {} {}", verdict.http_status(), verdict.body()));
                }
                send_denial(stream, &verdict);
                HeadersAction::Stop
            }
            Step::Wait => {
                self.phase.set(Phase::Pending);
                HeadersAction::Wait
            }
        }
    }
}

/// jwt_authn's local reply: status, the status message as body (Envoy adds
/// `content-type: text/plain`), `WWW-Authenticate`, and its response code details.
fn send_denial(stream: &impl Stream, verdict: &Verdict) {
    let body = verdict.body();
    let details: String =
        format!("jwt_authn_access_denied{{{body}}}").chars().map(|c| if c.is_whitespace() { '_' } else { c }).collect();
    let mut headers = Vec::with_capacity(1);
    if let Some(challenge) = &verdict.www_authenticate {
        headers.push(("www-authenticate", challenge.as_str()));
    }
    stream.send_response(verdict.http_status(), &headers, body, &details);
}

/// The request headers a check needs, borrowed from the stream where possible.
struct RequestHeaders<'n, 's> {
    path: Cow<'s, str>,
    entries: Vec<(&'n str, Cow<'s, str>)>,
}

impl<'n, 's> RequestHeaders<'n, 's> {
    /// Reads `:path` and every value of each of `names`. Bytes that are not UTF-8 (rare
    /// `obs-text`) become U+FFFD, which no token or prefix contains, so outcomes match.
    fn read(stream: &'s impl Stream, names: &'n [String]) -> Self {
        // `str::from_utf8` has a fast ASCII path; the lossy decoder only for the rare rest.
        let text = |bytes: &'s [u8]| match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let path = stream.request_header(":path", 0).0.map(text).unwrap_or_default();
        let mut entries = Vec::with_capacity(names.len() + 1);
        for name in names {
            let (first, count) = stream.request_header(name, 0);
            let Some(first) = first else { continue };
            entries.push((name.as_str(), text(first)));
            for index in 1..count {
                if let (Some(value), _) = stream.request_header(name, index) {
                    entries.push((name.as_str(), text(value)));
                }
            }
        }
        RequestHeaders { path, entries }
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.entries.iter().map(|(name, value)| (*name, value.as_ref())).collect()
    }
}

#[cfg(test)]
mod tests;
