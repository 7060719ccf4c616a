//! The shop's users: a bounded in-memory store with sequential ids.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::clock;

/// The most users kept; past it the oldest are forgotten, so that a client creating users
/// in a loop cannot grow the service's memory without bound.
pub(crate) const MAX_USERS: usize = 10_000;

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) email: String,
    /// RFC 3339, UTC.
    pub(crate) created_at: String,
}

/// Users by id, the newest [`MAX_USERS`] (or another cap) of them.
#[derive(Debug)]
pub(crate) struct UserStore {
    cap: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    next_id: u64,
    users: BTreeMap<u64, User>,
}

impl UserStore {
    /// An empty store keeping at most `cap` users; the first id is 1.
    pub(crate) fn new(cap: usize) -> UserStore {
        UserStore {
            cap,
            inner: Mutex::new(Inner {
                next_id: 1,
                users: BTreeMap::new(),
            }),
        }
    }

    /// Registers a user and returns its id, forgetting the oldest user past the cap.
    pub(crate) fn add(&self, name: String, email: String) -> u64 {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id = id.saturating_add(1);
        let created_at = clock::rfc3339(SystemTime::now());
        inner.users.insert(
            id,
            User {
                id,
                name,
                email,
                created_at,
            },
        );
        while inner.users.len() > self.cap {
            inner.users.pop_first();
        }
        id
    }

    /// The user with this id, if it is (still) known.
    pub(crate) fn get(&self, id: u64) -> Option<User> {
        self.lock().users.get(&id).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the map consistent, so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sequential_from_one() {
        let store = UserStore::new(10);
        assert_eq!(store.add("Ada".into(), "ada@example.com".into()), 1);
        assert_eq!(store.add("Bob".into(), "bob@example.com".into()), 2);
        let ada = store.get(1).expect("user 1");
        assert_eq!(
            (ada.name.as_str(), ada.email.as_str()),
            ("Ada", "ada@example.com")
        );
        assert!(ada.created_at.ends_with('Z'), "{}", ada.created_at);
        assert!(store.get(3).is_none());
        assert!(store.get(0).is_none());
    }

    #[test]
    fn the_oldest_users_are_forgotten_past_the_cap() {
        let store = UserStore::new(3);
        for i in 1..=5 {
            assert_eq!(store.add(format!("u{i}"), "u@x.org".into()), i);
        }
        assert!(store.get(1).is_none());
        assert!(store.get(2).is_none());
        for id in 3..=5 {
            assert!(store.get(id).is_some(), "{id}");
        }
        assert_eq!(store.lock().users.len(), 3);
    }
}
