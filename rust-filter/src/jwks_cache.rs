//! One key set cache per JWKS URL, shared by every rule and every proxy worker.
//!
//! Envoy's jwt_authn keeps a cache per worker thread, so after a rotation workers can
//! disagree. Here one background task per URL owns all fetching for that URL:
//! - it fetches at start, then again before `cacheDuration` ends;
//! - on failure it retries with backoff, while the last good set keeps serving for at
//!   most `cacheDuration + max_stale` after it was fetched;
//! - requests that need keys never fetch themselves: they ask the task and wait, so
//!   concurrent misses share one fetch (single flight);
//! - an unknown `kid` may ask for a refetch at most once per `kid_refetch_interval`, so
//!   a flood of random kids cannot flood the identity provider.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use url::Url;

use crate::fetcher::Fetcher;
use crate::jwks::KeySet;

/// Timing bounds of the key set cache.
#[derive(Debug, Clone, Copy)]
pub struct JwksOptions {
    /// How long past its `cacheDuration` a key set keeps serving while refetches fail.
    pub max_stale: Duration,
    /// Least time between two refetches triggered by unknown `kid`s, per URL.
    pub kid_refetch_interval: Duration,
    /// Least time between two fetch attempts of one URL (also the first retry delay).
    pub min_fetch_interval: Duration,
    /// Longest delay between retries while the provider fails.
    pub max_retry_interval: Duration,
}

impl Default for JwksOptions {
    fn default() -> Self {
        JwksOptions {
            max_stale: Duration::from_secs(30 * 60),
            kid_refetch_interval: Duration::from_secs(30),
            min_fetch_interval: Duration::from_secs(1),
            max_retry_interval: Duration::from_secs(30),
        }
    }
}

/// A fetched key set and when it was fetched.
#[derive(Debug)]
pub struct KeySnapshot {
    /// The keys.
    pub keys: KeySet,
    /// Changes whenever the keys change; verified-token cache entries record it.
    pub generation: u64,
    /// When these keys were (last confirmed) fetched.
    pub fetched_at: Instant,
}

/// Something waiting for the next fetch attempt of a URL to complete.
pub(crate) struct Waiter {
    callback: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Waiter {
    pub(crate) fn new(callback: Box<dyn FnOnce() + Send>) -> Arc<Waiter> {
        Arc::new(Waiter { callback: Mutex::new(Some(callback)) })
    }

    /// Runs the callback once; later calls do nothing. A panicking callback is contained.
    pub(crate) fn fire(&self) {
        let callback = self.callback.lock().take();
        if let Some(callback) = callback {
            let _ = catch_unwind(AssertUnwindSafe(callback));
        }
    }
}

#[derive(Default)]
struct FetchState {
    attempts: u64,
    last_attempt: Option<Instant>,
    waiters: Vec<Arc<Waiter>>,
    last_kid_refetch: Option<Instant>,
    last_error: Option<String>,
}

/// The cache entry of one URL.
pub struct JwksEntry {
    url: Url,
    cache_duration_ms: AtomicU64,
    snapshot: RwLock<Option<Arc<KeySnapshot>>>,
    state: Mutex<FetchState>,
    wake: Arc<Notify>,
    generations: Arc<AtomicU64>,
    options: JwksOptions,
}

impl std::fmt::Debug for JwksEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksEntry").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

impl Drop for JwksEntry {
    fn drop(&mut self) {
        // Wake the refresh task so it sees the entry is gone and exits.
        self.wake.notify_one();
    }
}

impl JwksEntry {
    /// The key set URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Keys that may be used now: fetched less than `cacheDuration + max_stale` ago.
    pub fn usable(&self) -> Option<Arc<KeySnapshot>> {
        let snapshot = self.snapshot.read().clone()?;
        (snapshot.fetched_at.elapsed() < self.cache_duration() + self.options.max_stale).then_some(snapshot)
    }

    /// Number of completed fetch attempts; a waiter registered with an older count fires at once.
    pub fn attempts(&self) -> u64 {
        self.state.lock().attempts
    }

    /// The error of the last failed attempt, if the last attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.state.lock().last_error.clone()
    }

    fn cache_duration(&self) -> Duration {
        Duration::from_millis(self.cache_duration_ms.load(Ordering::Relaxed))
    }

    /// Calls `waiter` when the fetch attempt after attempt number `seen` completes
    /// (at once if it already has), and asks the refresh task to fetch now.
    pub(crate) fn wait_for_fetch(&self, seen: u64, waiter: Arc<Waiter>) {
        let fire_now = {
            let mut state = self.state.lock();
            if state.attempts != seen {
                true
            } else {
                state.waiters.push(waiter.clone());
                false
            }
        };
        if fire_now {
            waiter.fire();
        } else {
            self.wake.notify_one();
        }
    }

    /// Claims the per-URL allowance for a refetch caused by an unknown `kid`.
    pub(crate) fn claim_kid_refetch(&self) -> bool {
        let mut state = self.state.lock();
        let allowed = state.last_kid_refetch.is_none_or(|t| t.elapsed() >= self.options.kid_refetch_interval);
        if allowed {
            state.last_kid_refetch = Some(Instant::now());
        }
        allowed
    }

    fn install(&self, keys: KeySet) {
        let mut snapshot = self.snapshot.write();
        let generation = match snapshot.as_ref() {
            Some(old) if old.keys.same_keys(&keys) => old.generation,
            _ => self.generations.fetch_add(1, Ordering::Relaxed) + 1,
        };
        *snapshot = Some(Arc::new(KeySnapshot { keys, generation, fetched_at: Instant::now() }));
    }

    fn finish_attempt(&self, error: Option<String>) {
        let waiters = {
            let mut state = self.state.lock();
            state.attempts += 1;
            state.last_attempt = Some(Instant::now());
            state.last_error = error;
            std::mem::take(&mut state.waiters)
        };
        for waiter in waiters {
            waiter.fire();
        }
    }

    /// When to fetch next after a success: a tenth of the cache duration early.
    fn refresh_interval(&self) -> Duration {
        self.cache_duration().mul_f64(0.9).max(self.options.min_fetch_interval)
    }

    fn has_waiters(&self) -> bool {
        !self.state.lock().waiters.is_empty()
    }

    fn since_last_attempt(&self) -> Option<Duration> {
        self.state.lock().last_attempt.map(|t| t.elapsed())
    }
}

/// All key set entries of an engine, by URL.
pub struct JwksCache {
    entries: Mutex<HashMap<String, Weak<JwksEntry>>>,
    fetcher: Fetcher,
    runtime: Handle,
    options: JwksOptions,
    generations: Arc<AtomicU64>,
}

impl JwksCache {
    /// A cache whose refresh tasks run on `runtime`.
    pub fn new(fetcher: Fetcher, runtime: Handle, options: JwksOptions) -> Self {
        JwksCache {
            entries: Mutex::new(HashMap::new()),
            fetcher,
            runtime,
            options,
            generations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The shared entry for `url`, created (and its first fetch started) if needed. The
    /// entry lives as long as some rule holds it. With several cache durations for one
    /// URL, the shortest wins.
    pub fn entry(&self, url: &Url, cache_duration: Duration) -> Arc<JwksEntry> {
        let millis = u64::try_from(cache_duration.as_millis()).unwrap_or(u64::MAX);
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.get(url.as_str()).and_then(Weak::upgrade) {
            entry.cache_duration_ms.fetch_min(millis, Ordering::Relaxed);
            return entry;
        }
        entries.retain(|_, e| e.strong_count() > 0);
        let entry = Arc::new(JwksEntry {
            url: url.clone(),
            cache_duration_ms: AtomicU64::new(millis),
            snapshot: RwLock::new(None),
            state: Mutex::new(FetchState::default()),
            wake: Arc::new(Notify::new()),
            generations: self.generations.clone(),
            options: self.options,
        });
        entries.insert(url.as_str().to_string(), Arc::downgrade(&entry));
        self.runtime.spawn(refresh_loop(Arc::downgrade(&entry), entry.wake.clone(), self.fetcher.clone()));
        entry
    }

    /// The live entry for `url`, if any rule uses it.
    pub fn get(&self, url: &str) -> Option<Arc<JwksEntry>> {
        self.entries.lock().get(url).and_then(Weak::upgrade)
    }
}

/// The only code that fetches a URL. Holds the entry weakly so that dropping the last
/// rule using a URL ends its task.
async fn refresh_loop(entry: Weak<JwksEntry>, wake: Arc<Notify>, fetcher: Fetcher) {
    let mut retry_delay = None::<Duration>;
    loop {
        let Some(current) = entry.upgrade() else {
            return;
        };
        let url = current.url.clone();
        drop(current);
        let result = fetcher.fetch(&url).await;
        let Some(current) = entry.upgrade() else {
            return;
        };
        let next = match result {
            Ok(keys) => {
                current.install(keys);
                current.finish_attempt(None);
                retry_delay = None;
                current.refresh_interval()
            }
            Err(error) => {
                current.finish_attempt(Some(error.to_string()));
                let delay = retry_delay
                    .map_or(current.options.min_fetch_interval, |d| (d * 2).min(current.options.max_retry_interval));
                retry_delay = Some(delay);
                delay
            }
        };
        let min_interval = current.options.min_fetch_interval;
        drop(current);

        tokio::select! {
            _ = tokio::time::sleep(next) => {}
            _ = wake.notified() => {
                // Asked to fetch early (a cold or unknown-kid request is waiting), but
                // never more often than min_fetch_interval.
                let Some(current) = entry.upgrade() else { return };
                let since = current.since_last_attempt().unwrap_or(min_interval);
                let wanted = current.has_waiters();
                drop(current);
                if !wanted {
                    continue_sleeping(&entry, &wake, next.saturating_sub(since)).await;
                } else if since < min_interval {
                    tokio::time::sleep(min_interval - since).await;
                }
            }
        }
    }
}

/// Keeps sleeping after a spurious wake (a waiter that was served meanwhile), still
/// honouring later wakes.
async fn continue_sleeping(entry: &Weak<JwksEntry>, wake: &Notify, remaining: Duration) {
    let deadline = tokio::time::Instant::now() + remaining;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = wake.notified() => {
                match entry.upgrade() {
                    Some(current) if current.has_waiters() => return,
                    Some(_) => continue,
                    None => return,
                }
            }
        }
    }
}
