//! The correct twin's Idempotency-Key store, as the IETF httpapi draft "The Idempotency-Key
//! HTTP Header Field" describes it: per key, a fingerprint of the request body and, once
//! the request is done, its answer.
//!
//! A request with a key first [`begins`](IdempotencyStore::begin): it gets a [`Claim`] on a
//! new key, the recorded answer to replay, or the reason to refuse it (409 while the first
//! request with the key is still in flight, 422 for a different body). A claim that is
//! never [completed](Claim::complete) (the request failed, or its client went away) gives
//! the key back when dropped, so a retry can run.
//!
//! The store is bounded: the newest [`MAX_KEYS`] keys, and at most [`MAX_KEY_BYTES`] bytes
//! of keys in all; older ones are forgotten.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::respond::Recorded;

/// The most keys kept.
pub(crate) const MAX_KEYS: usize = 10_000;
/// The most bytes of keys kept (a key is a header value of any length).
pub(crate) const MAX_KEY_BYTES: usize = 16 * 1024 * 1024;

/// What [`IdempotencyStore::begin`] found for a key.
#[derive(Debug)]
pub(crate) enum Begin<'a> {
    /// A new key (or one given back): the request runs, and completes the claim.
    Claimed(Claim<'a>),
    /// The key was used with the same body, and that request is done: its answer.
    Replay(Recorded),
    /// The key was used with the same body, and that request is still in flight.
    InFlight,
    /// The key was used with a different body.
    Mismatch,
}

/// Keys with the fingerprint of their body and, once done, their answer.
#[derive(Debug)]
pub(crate) struct IdempotencyStore {
    max_keys: usize,
    max_bytes: usize,
    /// Keyed with random keys, so that no client can make two bodies collide on purpose.
    hasher: RandomState,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Arc<[u8]>, Entry>,
    /// The keys by the serial number of their entry: the oldest first.
    by_age: BTreeMap<u64, Arc<[u8]>>,
    /// The bytes of the keys in `entries`.
    key_bytes: usize,
    next_serial: u64,
}

#[derive(Debug)]
struct Entry {
    /// Tells this entry from a later one under the same key.
    serial: u64,
    fingerprint: u64,
    /// `None` while the request is in flight.
    answer: Option<Recorded>,
}

impl IdempotencyStore {
    /// An empty store with the default bounds.
    pub(crate) fn new() -> IdempotencyStore {
        IdempotencyStore::with_bounds(MAX_KEYS, MAX_KEY_BYTES)
    }

    /// An empty store keeping at most `max_keys` keys of `max_bytes` bytes in all.
    pub(crate) fn with_bounds(max_keys: usize, max_bytes: usize) -> IdempotencyStore {
        IdempotencyStore {
            max_keys,
            max_bytes,
            hasher: RandomState::new(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Looks `key` up for a request with this `body` (its raw bytes), and claims the key
    /// when it is new.
    pub(crate) fn begin(&self, key: &[u8], body: &[u8]) -> Begin<'_> {
        let fingerprint = self.hasher.hash_one(body);
        let mut inner = self.lock();
        if let Some(entry) = inner.entries.get(key) {
            return match (entry.fingerprint == fingerprint, &entry.answer) {
                (false, _) => Begin::Mismatch,
                (true, None) => Begin::InFlight,
                (true, Some(answer)) => Begin::Replay(answer.clone()),
            };
        }
        let key: Arc<[u8]> = Arc::from(key);
        let serial = inner.next_serial;
        inner.next_serial = serial.wrapping_add(1);
        inner.key_bytes = inner.key_bytes.saturating_add(key.len());
        inner.by_age.insert(serial, Arc::clone(&key));
        inner.entries.insert(
            Arc::clone(&key),
            Entry {
                serial,
                fingerprint,
                answer: None,
            },
        );
        while inner.entries.len() > self.max_keys
            || (inner.key_bytes > self.max_bytes && inner.entries.len() > 1)
        {
            let Some((_, oldest)) = inner.by_age.pop_first() else {
                break;
            };
            inner.forget(&oldest);
        }
        Begin::Claimed(Claim {
            store: self,
            key,
            serial,
            completed: false,
        })
    }

    /// How many keys are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the maps consistent, so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Drops the entry of `key` (its age index is the caller's business).
    fn forget(&mut self, key: &[u8]) {
        if self.entries.remove(key).is_some() {
            self.key_bytes = self.key_bytes.saturating_sub(key.len());
        }
    }

    /// The entry of `key` if it is still the one numbered `serial`.
    fn entry_mut(&mut self, key: &[u8], serial: u64) -> Option<&mut Entry> {
        self.entries.get_mut(key).filter(|e| e.serial == serial)
    }
}

/// A key held by the one request that runs with it. Complete it with the answer; dropping
/// it uncompleted gives the key back.
#[derive(Debug)]
pub(crate) struct Claim<'a> {
    store: &'a IdempotencyStore,
    key: Arc<[u8]>,
    serial: u64,
    completed: bool,
}

impl Claim<'_> {
    /// Keeps `answer` as the answer to every later request with the key and the same body.
    /// (If the key was forgotten meanwhile, past the store's bounds, there is nothing to
    /// keep it for.)
    pub(crate) fn complete(mut self, answer: &Recorded) {
        self.completed = true;
        let mut inner = self.store.lock();
        if let Some(entry) = inner.entry_mut(&self.key, self.serial) {
            entry.answer = Some(answer.clone());
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.completed {
            return;
        }
        let mut inner = self.store.lock();
        if inner.entry_mut(&self.key, self.serial).is_some() {
            inner.forget(&self.key);
            inner.by_age.remove(&self.serial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn answer(id: u64) -> Recorded {
        Recorded::json(StatusCode::CREATED, &serde_json::json!({ "id": id }))
    }

    fn claim<'a>(store: &'a IdempotencyStore, key: &str, body: &str) -> Claim<'a> {
        match store.begin(key.as_bytes(), body.as_bytes()) {
            Begin::Claimed(claim) => claim,
            other => panic!("{key}: expected a claim, got {other:?}"),
        }
    }

    #[test]
    fn a_completed_key_replays_for_the_same_body_only() {
        let store = IdempotencyStore::new();
        claim(&store, "k", "body").complete(&answer(1));
        match store.begin(b"k", b"body") {
            Begin::Replay(recorded) => assert_eq!(recorded, answer(1)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(store.begin(b"k", b"other"), Begin::Mismatch));
        // Another key is another request.
        claim(&store, "k2", "body").complete(&answer(2));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_key_in_flight_is_refused_and_given_back_when_dropped() {
        let store = IdempotencyStore::new();
        let first = claim(&store, "k", "body");
        assert!(matches!(store.begin(b"k", b"body"), Begin::InFlight));
        assert!(matches!(store.begin(b"k", b"other"), Begin::Mismatch));
        drop(first);
        assert_eq!(store.len(), 0);
        // The retry runs, with any body.
        claim(&store, "k", "other").complete(&answer(1));
        assert!(matches!(store.begin(b"k", b"other"), Begin::Replay(_)));
    }

    #[test]
    fn the_oldest_keys_are_forgotten_past_the_bounds() {
        let store = IdempotencyStore::with_bounds(3, 1024);
        for key in ["a", "b", "c", "d"] {
            claim(&store, key, "x").complete(&answer(1));
        }
        assert_eq!(store.len(), 3);
        assert!(matches!(store.begin(b"a", b"x"), Begin::Claimed(_)));
        assert!(matches!(store.begin(b"d", b"x"), Begin::Replay(_)));

        let store = IdempotencyStore::with_bounds(100, 10);
        claim(&store, "aaaaaa", "x").complete(&answer(1));
        claim(&store, "bbbbbb", "x").complete(&answer(2));
        assert_eq!(store.len(), 1);
        assert!(matches!(store.begin(b"bbbbbb", b"x"), Begin::Replay(_)));
        // A single key larger than the budget is still kept, alone.
        claim(&store, &"c".repeat(20), "x").complete(&answer(3));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_forgotten_claim_completes_and_drops_harmlessly() {
        let store = IdempotencyStore::with_bounds(1, 1024);
        let old = claim(&store, "a", "x");
        let new = claim(&store, "b", "x");
        // "a" was forgotten while in flight: completing it keeps nothing.
        old.complete(&answer(1));
        // Claiming "a" again forgot "b" (the cap is 1), and that claim was given back at
        // once: dropping "b" now finds nothing of its own to give back.
        assert!(matches!(store.begin(b"a", b"x"), Begin::Claimed(_)));
        drop(new);
        assert_eq!(store.len(), 0);
    }
}
