//! The engine: shared state (key set cache, verified-token cache, background runtime)
//! and the thread-safe check API used by every proxy worker.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex, RwLock};
use tokio::runtime::Runtime;

use crate::authenticator::{Evaluation, Limits, Requirement};
use crate::config::{ConfigError, MatchJwt};
use crate::fetcher::Fetcher;
use crate::jwks_cache::{JwksCache, JwksEntry, JwksOptions, Waiter};
use crate::policy::{JwtRule, PolicySet};
use crate::request::Request;
use crate::status::Status;
use crate::token_cache::TokenCache;
use crate::verdict::Verdict;

/// Engine-wide bounds. The defaults suit a proxy; every field is documented with why.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// Deadline of one key set HTTP request (connect, headers and body).
    pub fetch_timeout: Duration,
    /// Longest a request waits for keys (cold start, unknown `kid`) before failing closed.
    pub max_wait: Duration,
    /// Largest key set body accepted.
    pub max_jwks_bytes: usize,
    /// Largest token accepted; Envoy's header limit (60 KiB) keeps real ones smaller.
    pub max_token_bytes: usize,
    /// Capacity of the verified-token cache (0 disables it).
    pub token_cache_capacity: usize,
    /// Key set cache timing.
    pub jwks: JwksOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            fetch_timeout: Duration::from_secs(3),
            max_wait: Duration::from_secs(3),
            max_jwks_bytes: 512 * 1024,
            max_token_bytes: 64 * 1024,
            token_cache_capacity: 8192,
            jwks: JwksOptions::default(),
        }
    }
}

/// Errors creating an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The background runtime could not start.
    #[error("cannot start the key set runtime: {0}")]
    Runtime(std::io::Error),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A compiled policy: its rules, each bound to a requirement.
#[derive(Debug, Default)]
pub struct Policy {
    rules: Vec<(JwtRule, Arc<Requirement>)>,
}

impl Policy {
    /// The rules, in policy order.
    pub fn rules(&self) -> impl Iterator<Item = &JwtRule> {
        self.rules.iter().map(|(rule, _)| rule)
    }

    /// The compiled requirement of rule `index`.
    pub fn requirement(&self, index: usize) -> Option<&Arc<Requirement>> {
        self.rules.get(index).map(|(_, r)| r)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the policy has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Outcome of [`Engine::start_check`].
#[derive(Debug)]
pub enum CheckStart {
    /// Decided without waiting.
    Done(Verdict),
    /// Keys are being fetched: the `on_ready` callback will run (on a background thread,
    /// within [`EngineOptions::max_wait`]); then call [`Engine::finish_check`].
    Pending,
}

/// The JWT engine. Cheap to share (`Arc` inside); every method takes `&self` and may be
/// called from any number of threads at once.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    options: EngineOptions,
    runtime: Mutex<Option<Runtime>>,
    jwks: JwksCache,
    tokens: TokenCache,
    requirements: Mutex<HashMap<MatchJwt, Weak<Requirement>>>,
    policy: RwLock<Arc<Policy>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Do not block the dropping thread (an Envoy main thread) on in-flight fetches.
        if let Some(runtime) = self.runtime.lock().take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("options", &self.inner.options).finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts an engine with its own background thread for key set fetches.
    pub fn new(options: EngineOptions) -> Result<Engine, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cilium-jwt-jwks")
            .enable_all()
            .build()
            .map_err(EngineError::Runtime)?;
        let fetcher = Fetcher::new(options.fetch_timeout, options.max_jwks_bytes)
            .map_err(|e| EngineError::Client(e.to_string()))?;
        let jwks = JwksCache::new(fetcher, runtime.handle().clone(), options.jwks);
        Ok(Engine {
            inner: Arc::new(Inner {
                options,
                runtime: Mutex::new(Some(runtime)),
                jwks,
                tokens: TokenCache::new(options.token_cache_capacity),
                requirements: Mutex::new(HashMap::new()),
                policy: RwLock::new(Arc::new(Policy::default())),
            }),
        })
    }

    /// The options the engine runs with.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// Compiles a requirement; identical requirements share one compiled instance (and so
    /// their verified-token cache entries). Starts fetching its key set if not yet cached.
    pub fn requirement(&self, config: &MatchJwt) -> Arc<Requirement> {
        let mut requirements = self.inner.requirements.lock();
        if let Some(existing) = requirements.get(config).and_then(Weak::upgrade) {
            return existing;
        }
        requirements.retain(|_, r| r.strong_count() > 0);
        let entry = self.inner.jwks.entry(&config.jwks_url, config.cache_duration);
        let requirement = Arc::new(Requirement::new(config.clone(), entry));
        requirements.insert(config.clone(), Arc::downgrade(&requirement));
        requirement
    }

    /// Compiles every rule of a policy set.
    pub fn compile(&self, policies: &PolicySet) -> Policy {
        Policy {
            rules: policies.rules.iter().map(|rule| (rule.clone(), self.requirement(&rule.requirement))).collect(),
        }
    }

    /// Parses, compiles and makes `text` the active policy, replacing the previous one
    /// atomically (checks in flight finish with the policy they started with).
    pub fn load_policy(&self, text: &str) -> Result<Arc<Policy>, ConfigError> {
        let policy = Arc::new(self.compile(&PolicySet::parse(text)?));
        *self.inner.policy.write() = policy.clone();
        Ok(policy)
    }

    /// The active policy.
    pub fn policy(&self) -> Arc<Policy> {
        self.inner.policy.read().clone()
    }

    /// Checks `request` against rule `index` of the active policy (blocking at most
    /// `max_wait`). An index with no rule is denied.
    pub fn check_rule(&self, index: usize, request: &Request<'_>) -> Verdict {
        let policy = self.policy();
        match policy.requirement(index) {
            Some(requirement) => self.check(requirement, request),
            None => Verdict::deny(Status::JwtVerificationFail, &request.original_uri()),
        }
    }

    /// Checks `request` against the active policy the way Cilium evaluates HTTP rules: it
    /// is allowed if any `matchJWT` rule allows it, otherwise the first rule's denial is
    /// returned. A policy without rules denies.
    pub fn check_policy(&self, request: &Request<'_>) -> Verdict {
        let policy = self.policy();
        let mut first_denial = None;
        for (_, requirement) in &policy.rules {
            let verdict = self.check(requirement, request);
            if verdict.allowed() {
                return verdict;
            }
            first_denial.get_or_insert(verdict);
        }
        first_denial.unwrap_or_else(|| Verdict::deny(Status::JwtVerificationFail, &request.original_uri()))
    }

    /// Checks `request` against `requirement`, blocking the calling thread at most
    /// [`EngineOptions::max_wait`] when keys must be fetched first. Never panics.
    pub fn check(&self, requirement: &Requirement, request: &Request<'_>) -> Verdict {
        let signal = Arc::new((Mutex::new(false), Condvar::new()));
        let notify = signal.clone();
        let on_ready = Box::new(move || {
            *notify.0.lock() = true;
            notify.1.notify_all();
        });
        match self.start_check_inner(requirement, request, on_ready, false) {
            CheckStart::Done(verdict) => verdict,
            CheckStart::Pending => {
                let deadline = Instant::now() + self.inner.options.max_wait;
                let mut ready = signal.0.lock();
                while !*ready {
                    if signal.1.wait_until(&mut ready, deadline).timed_out() {
                        break;
                    }
                }
                drop(ready);
                self.finish_check(requirement, request)
            }
        }
    }

    /// Starts a check without blocking. When keys must be fetched first it returns
    /// [`CheckStart::Pending`] and later calls `on_ready` exactly once, from a background
    /// thread, within [`EngineOptions::max_wait`]; the caller then calls [`Engine::finish_check`].
    pub fn start_check(
        &self,
        requirement: &Requirement,
        request: &Request<'_>,
        on_ready: Box<dyn FnOnce() + Send>,
    ) -> CheckStart {
        self.start_check_inner(requirement, request, on_ready, true)
    }

    /// Completes a check after [`CheckStart::Pending`]: uses whatever keys are there now and
    /// never waits (no keys: "Jwks remote fetch is failed").
    pub fn finish_check(&self, requirement: &Requirement, request: &Request<'_>) -> Verdict {
        match self.evaluate(requirement, request, false) {
            Some(Evaluation::Done(verdict)) => verdict,
            Some(Evaluation::Wait(_)) | None => Verdict::deny(Status::JwksFetchFail, &request.original_uri()),
        }
    }

    fn start_check_inner(
        &self,
        requirement: &Requirement,
        request: &Request<'_>,
        on_ready: Box<dyn FnOnce() + Send>,
        arm_timer: bool,
    ) -> CheckStart {
        match self.evaluate(requirement, request, !self.inner.options.max_wait.is_zero()) {
            Some(Evaluation::Done(verdict)) => CheckStart::Done(verdict),
            Some(Evaluation::Wait(needs)) => {
                let waiter = Waiter::new(on_ready);
                if arm_timer {
                    self.arm_timeout(waiter.clone());
                }
                needs.entry.wait_for_fetch(needs.seen_attempts, waiter);
                CheckStart::Pending
            }
            // A panic inside evaluation is a bug; fail closed rather than unwind into the proxy.
            None => CheckStart::Done(Verdict::deny(Status::JwtVerificationFail, &request.original_uri())),
        }
    }

    fn evaluate(&self, requirement: &Requirement, request: &Request<'_>, can_wait: bool) -> Option<Evaluation> {
        let limits = Limits { max_token_bytes: self.inner.options.max_token_bytes };
        let now = unix_now();
        catch_unwind(AssertUnwindSafe(|| requirement.evaluate(request, now, can_wait, &self.inner.tokens, limits))).ok()
    }

    fn arm_timeout(&self, waiter: Arc<Waiter>) {
        let max_wait = self.inner.options.max_wait;
        let runtime = self.inner.runtime.lock();
        match runtime.as_ref() {
            Some(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(max_wait).await;
                    waiter.fire();
                });
            }
            None => waiter.fire(),
        }
    }

    /// The shared key set cache entry for `url`, if a live rule uses it (for status and tests).
    pub fn jwks_entry(&self, url: &str) -> Option<Arc<JwksEntry>> {
        self.inner.jwks.get(url)
    }

    /// Waits until `requirement`'s keys have been fetched once (successfully or not), at
    /// most `timeout`. Returns whether usable keys are present.
    pub fn wait_for_keys(&self, requirement: &Requirement, timeout: Duration) -> bool {
        let entry = requirement.jwks();
        let deadline = Instant::now() + timeout;
        while entry.usable().is_none() && entry.attempts() == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        entry.usable().is_some()
    }

    /// Number of tokens in the verified-token cache.
    pub fn cached_tokens(&self) -> usize {
        self.inner.tokens.len()
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
