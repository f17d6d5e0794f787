//! Bounded, expiring maps for the provider's state: every entry has a deadline, and a full map
//! drops its oldest entry. A flood of logins costs at most `cap` entries per map.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Authorization requests live 24 h (Dex's `expiry.authRequests` default).
pub const AUTH_TTL: Duration = Duration::from_secs(24 * 3600);
/// Authorization codes live 30 minutes (Dex's fixed value).
pub const CODE_TTL: Duration = Duration::from_secs(30 * 60);
/// Access tokens live as long as ID tokens: 24 h (Dex's `expiry.idTokens` default).
pub const ACCESS_TTL: Duration = Duration::from_secs(24 * 3600);
/// Refresh tokens: Dex keeps them until used (no default lifetime); here 24 h unused.
pub const REFRESH_TTL: Duration = Duration::from_secs(24 * 3600);
/// Entries per map. A test provider needs far fewer; this bounds the memory of a flood.
pub const CAP: usize = 4096;

/// A map whose entries expire after `ttl` and of which at most `cap` are kept.
pub struct Bounded<V> {
    map: HashMap<String, (Instant, V)>,
    /// Insertion order, for expiry and eviction; may hold keys already removed.
    order: VecDeque<(Instant, String)>,
    ttl: Duration,
    cap: usize,
}

impl<V> Bounded<V> {
    pub fn new(ttl: Duration, cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            ttl,
            cap,
        }
    }

    pub fn insert(&mut self, key: String, value: V) {
        let now = Instant::now();
        self.expire(now);
        while self.map.len() >= self.cap {
            let Some((_, oldest)) = self.order.pop_front() else {
                break;
            };
            self.map.remove(&oldest);
        }
        self.order.push_back((now, key.clone()));
        self.map.insert(key, (now, value));
    }

    /// The live entry for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.map
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v)
    }

    /// Takes the live entry for `key` out.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let (at, v) = self.map.remove(key)?;
        (at.elapsed() < self.ttl).then_some(v)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Drops expired entries, and order records of keys no longer held (so `order` stays
    /// within a small multiple of `cap`).
    fn expire(&mut self, now: Instant) {
        while let Some((at, key)) = self.order.front() {
            let stale = now.duration_since(*at) >= self.ttl;
            let gone = self.map.get(key).is_none_or(|(t, _)| t != at);
            if !(stale || gone) {
                break;
            }
            if stale && !gone {
                self.map.remove(key);
            }
            self.order.pop_front();
        }
        if self.order.len() > self.cap * 2 {
            let map = &self.map;
            self.order
                .retain(|(at, k)| map.get(k).is_some_and(|(t, _)| t == at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_its_oldest() {
        let mut m = Bounded::new(Duration::from_secs(60), 3);
        for i in 0..5 {
            m.insert(format!("k{i}"), i);
        }
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("k0"), None);
        assert_eq!(m.get("k4"), Some(&4));
    }

    #[test]
    fn entries_expire() {
        let mut m = Bounded::new(Duration::from_millis(20), 10);
        m.insert("a".into(), 1);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(m.get("a"), None);
        assert_eq!(m.remove("a"), None);
        m.insert("b".into(), 2);
        assert_eq!(m.len(), 1, "the expired entry is dropped on insert");
    }

    #[test]
    fn removed_keys_do_not_grow_the_order_without_bound() {
        let mut m = Bounded::new(Duration::from_secs(60), 8);
        for i in 0..10_000 {
            m.insert(format!("k{i}"), i);
            m.remove(&format!("k{i}"));
        }
        assert!(m.order.len() <= 16 + 1, "{}", m.order.len());
    }
}
