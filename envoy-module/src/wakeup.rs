//! Waking a stream whose check waits for keys.
//!
//! The engine calls `on_ready` from a background thread, at a time when the stream may
//! already be gone. So `on_ready` owns only an `Arc<Wakeup>`, never a pointer to the
//! filter; the stream is reached through Envoy's scheduler, which holds it weakly and
//! does nothing if it is gone. The scheduler is created lazily (most checks never wait)
//! and released exactly once: by `fire` after committing, or by `cancel` when the stream
//! is destroyed first. The mutex makes commit and release never overlap.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::stream::Scheduler;

/// The event id committed to the scheduler (one wait at a time per stream).
pub const KEYS_READY_EVENT: u64 = 1;

enum State {
    /// The check is pending; no scheduler yet.
    Waiting,
    /// `on_ready` ran before the scheduler was installed (the fetch finished meanwhile).
    Ready,
    /// The scheduler is installed; `on_ready` will commit through it.
    Armed(Box<dyn Scheduler>),
    /// Committed or cancelled; nothing more to do.
    Finished,
}

/// What [`Wakeup::arm`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Armed {
    /// The scheduler is installed: return "stop" and wait for the `scheduled` hook.
    Waiting,
    /// The keys are ready already: finish the check now.
    AlreadyReady,
    /// No scheduler could be made: fail closed.
    NoScheduler,
}

/// The rendezvous between one pending check and its `on_ready` callback.
pub struct Wakeup {
    state: Mutex<State>,
}

impl Wakeup {
    /// A wakeup for a check about to start.
    pub fn new() -> Arc<Wakeup> {
        Arc::new(Wakeup { state: Mutex::new(State::Waiting) })
    }

    /// The engine's `on_ready`: commits the stream's `scheduled` hook (any thread).
    pub fn fire(&self) {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, State::Finished) {
            State::Waiting => *state = State::Ready,
            State::Armed(scheduler) => {
                scheduler.commit(KEYS_READY_EVENT);
                drop(scheduler); // released while still locked: never concurrent with `cancel`
            }
            State::Ready => *state = State::Ready,
            State::Finished => {}
        }
    }

    /// After the check returned "pending", on the worker thread: installs a scheduler
    /// from `make` unless `on_ready` already ran.
    pub fn arm(&self, make: impl FnOnce() -> Option<Box<dyn Scheduler>>) -> Armed {
        let mut state = self.state.lock();
        match &*state {
            State::Ready => {
                *state = State::Finished;
                Armed::AlreadyReady
            }
            State::Waiting => match make() {
                Some(scheduler) => {
                    *state = State::Armed(scheduler);
                    Armed::Waiting
                }
                None => {
                    *state = State::Finished;
                    Armed::NoScheduler
                }
            },
            State::Armed(_) | State::Finished => Armed::NoScheduler,
        }
    }

    /// The stream is going away: release the scheduler if `on_ready` has not.
    pub fn cancel(&self) {
        let released = std::mem::replace(&mut *self.state.lock(), State::Finished);
        drop(released);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counts {
        commits: AtomicUsize,
        releases: AtomicUsize,
    }

    struct Fake(Arc<Counts>);
    impl Scheduler for Fake {
        fn commit(&self, event_id: u64) {
            assert_eq!(event_id, KEYS_READY_EVENT);
            self.0.commits.fetch_add(1, Ordering::SeqCst);
        }
    }
    impl Drop for Fake {
        fn drop(&mut self) {
            self.0.releases.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn fake(counts: &Arc<Counts>) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(Fake(counts.clone())))
    }

    #[test]
    fn fire_after_arm_commits_then_releases_once() {
        let counts = Arc::new(Counts::default());
        let wakeup = Wakeup::new();
        assert_eq!(wakeup.arm(|| fake(&counts)), Armed::Waiting);
        wakeup.fire();
        wakeup.fire();
        wakeup.cancel();
        assert_eq!(counts.commits.load(Ordering::SeqCst), 1);
        assert_eq!(counts.releases.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn fire_before_arm_needs_no_scheduler() {
        let counts = Arc::new(Counts::default());
        let wakeup = Wakeup::new();
        wakeup.fire();
        assert_eq!(wakeup.arm(|| fake(&counts)), Armed::AlreadyReady);
        assert_eq!(counts.releases.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn cancel_releases_without_commit_and_late_fire_is_harmless() {
        let counts = Arc::new(Counts::default());
        let wakeup = Wakeup::new();
        assert_eq!(wakeup.arm(|| fake(&counts)), Armed::Waiting);
        wakeup.cancel();
        wakeup.fire();
        assert_eq!(counts.commits.load(Ordering::SeqCst), 0);
        assert_eq!(counts.releases.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn no_scheduler_fails_closed() {
        let wakeup = Wakeup::new();
        assert_eq!(wakeup.arm(|| None), Armed::NoScheduler);
    }

    #[test]
    fn concurrent_fire_and_cancel_release_exactly_once() {
        for _ in 0..200 {
            let counts = Arc::new(Counts::default());
            let wakeup = Wakeup::new();
            assert_eq!(wakeup.arm(|| fake(&counts)), Armed::Waiting);
            let w = wakeup.clone();
            let t = std::thread::spawn(move || w.fire());
            wakeup.cancel();
            t.join().unwrap();
            assert_eq!(counts.releases.load(Ordering::SeqCst), 1);
            assert!(counts.commits.load(Ordering::SeqCst) <= 1);
        }
    }
}
