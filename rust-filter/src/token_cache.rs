//! Verified-token cache: a bounded map from (requirement, token) to what is still to be
//! checked on every hit (`nbf`/`exp`) and to the key set generation it was verified with.
//!
//! Sharded so that proxy workers rarely contend; first-in-first-out eviction per shard.
//! Tokens are bearer credentials: the stored token is compared in constant time.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use parking_lot::RwLock;

const SHARDS: usize = 16;
const TAIL_BYTES: usize = 64;

/// What a cache hit tells about a token that verified before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedToken {
    /// `nbf` claim (0: none).
    pub nbf: u64,
    /// `exp` claim (0: none).
    pub exp: u64,
    /// Key set generation the signature was verified with.
    pub generation: u64,
}

struct Entry {
    requirement: u64,
    token: Box<[u8]>,
    value: CachedToken,
}

#[derive(Default)]
struct Shard {
    map: HashMap<u64, Entry>,
    order: VecDeque<u64>,
}

/// The bounded cache of verified tokens.
pub struct TokenCache {
    shards: Vec<RwLock<Shard>>,
    per_shard: usize,
    hasher: RandomState,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens (rounded up to a multiple of the shard count);
    /// 0 disables it.
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
        }
    }

    fn key(&self, requirement: u64, token: &str) -> u64 {
        // Keyed SipHash, so tokens cannot be aimed at one bucket. The tail (the signature)
        // and the length tell tokens apart; the full token is compared on lookup.
        let tail = &token.as_bytes()[token.len().saturating_sub(TAIL_BYTES)..];
        let mut h = self.hasher.build_hasher();
        requirement.hash(&mut h);
        token.len().hash(&mut h);
        tail.hash(&mut h);
        h.finish()
    }

    /// The entry for `token` under `requirement`, if cached.
    pub fn get(&self, requirement: u64, token: &str) -> Option<CachedToken> {
        if self.per_shard == 0 {
            return None;
        }
        let key = self.key(requirement, token);
        let shard = self.shards[(key as usize) % SHARDS].read();
        let entry = shard.map.get(&key)?;
        let same = entry.requirement == requirement && verify_slices_are_equal(&entry.token, token.as_bytes()).is_ok();
        same.then_some(entry.value)
    }

    /// Records a verified token, evicting the oldest entries of its shard when full.
    pub fn insert(&self, requirement: u64, token: &str, value: CachedToken) {
        if self.per_shard == 0 {
            return;
        }
        let key = self.key(requirement, token);
        let mut shard = self.shards[(key as usize) % SHARDS].write();
        let entry = Entry { requirement, token: token.as_bytes().into(), value };
        if shard.map.insert(key, entry).is_none() {
            shard.order.push_back(key);
        }
        while shard.map.len() > self.per_shard {
            let Some(oldest) = shard.order.pop_front() else {
                break;
            };
            shard.map.remove(&oldest);
        }
    }

    /// Number of cached tokens.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().map.len()).sum()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: CachedToken = CachedToken { nbf: 0, exp: 10, generation: 1 };

    #[test]
    fn keyed_by_requirement_and_token() {
        let cache = TokenCache::new(64);
        cache.insert(1, "a.b.c", V);
        assert_eq!(cache.get(1, "a.b.c"), Some(V));
        assert_eq!(cache.get(2, "a.b.c"), None);
        assert_eq!(cache.get(1, "a.b.d"), None);
    }

    #[test]
    fn bounded() {
        let cache = TokenCache::new(32);
        for i in 0..10_000 {
            cache.insert(1, &format!("t{i}"), V);
        }
        assert!(cache.len() <= 32, "{}", cache.len());
        assert_eq!(cache.get(1, "t9999"), Some(V));
    }

    #[test]
    fn zero_capacity_disables() {
        let cache = TokenCache::new(0);
        cache.insert(1, "t", V);
        assert!(cache.is_empty());
    }
}
