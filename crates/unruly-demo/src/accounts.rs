//! The shop's accounts: a bounded in-memory store with sequential ids, and the two ways of
//! taking money from a balance: the buggy check-then-act and the correct atomic one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

/// The most accounts kept; past it the oldest are forgotten (as users are), so that a
/// client opening accounts in a loop cannot grow the service's memory without bound.
pub(crate) const MAX_ACCOUNTS: usize = 10_000;

/// The simulated database round trip between reading a balance and writing it back.
const ROUND_TRIP: Duration = Duration::from_millis(1);

/// An open account.
#[derive(Debug)]
pub(crate) struct Account {
    pub(crate) id: u64,
    pub(crate) owner: String,
    /// Signed: the buggy variant's withdrawals race below zero.
    balance: AtomicI64,
}

/// An account as it goes on the wire.
#[derive(Debug, Serialize)]
pub(crate) struct AccountView<'a> {
    id: u64,
    owner: &'a str,
    balance: i64,
}

/// Why a withdrawal was refused: the balance it saw, lower than the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insufficient {
    /// The balance when it was checked.
    pub(crate) balance: i64,
}

impl Account {
    /// A snapshot for a response.
    pub(crate) fn view(&self) -> AccountView<'_> {
        self.view_with(self.balance())
    }

    /// The account as it goes on the wire, showing `balance`.
    pub(crate) fn view_with(&self, balance: i64) -> AccountView<'_> {
        AccountView {
            id: self.id,
            owner: &self.owner,
            balance,
        }
    }

    /// The balance now.
    pub(crate) fn balance(&self) -> i64 {
        self.balance.load(Ordering::SeqCst)
    }

    /// The buggy withdrawal: reads the balance, refuses if it is too low, waits for the
    /// "database", then subtracts from whatever the balance is by then. Concurrent
    /// withdrawals all pass the check and take the balance below zero.
    ///
    /// Returns the balance right after this withdrawal.
    pub(crate) async fn withdraw_racy(&self, amount: i64) -> Result<i64, Insufficient> {
        let seen = self.balance();
        if seen < amount {
            return Err(Insufficient { balance: seen });
        }
        tokio::time::sleep(ROUND_TRIP).await;
        // Atomic arithmetic wraps rather than panics; the balance stays far from i64::MIN
        // anyway (amounts are at most 1,000,000).
        let before = self.balance.fetch_sub(amount, Ordering::SeqCst);
        Ok(before.wrapping_sub(amount))
    }

    /// The correct withdrawal: the round trip first, with nothing held, then the check
    /// and the write in one atomic step (a conditional `UPDATE … WHERE balance >= amount`),
    /// so no other withdrawal sees the balance in between and none waits for another. A
    /// request abandoned while it waits changes nothing.
    ///
    /// Returns the balance right after this withdrawal.
    pub(crate) async fn withdraw_atomic(&self, amount: i64) -> Result<i64, Insufficient> {
        tokio::time::sleep(ROUND_TRIP).await;
        self.balance
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |balance| {
                balance.checked_sub(amount).filter(|&left| left >= 0)
            })
            .map(|before| before - amount)
            .map_err(|balance| Insufficient { balance })
    }
}

/// Accounts by id, the newest [`MAX_ACCOUNTS`] (or another cap) of them.
#[derive(Debug)]
pub(crate) struct AccountStore {
    cap: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    next_id: u64,
    accounts: BTreeMap<u64, Arc<Account>>,
}

impl AccountStore {
    /// An empty store keeping at most `cap` accounts; the first id is 1.
    pub(crate) fn new(cap: usize) -> AccountStore {
        AccountStore {
            cap,
            inner: Mutex::new(Inner {
                next_id: 1,
                accounts: BTreeMap::new(),
            }),
        }
    }

    /// Opens an account, forgetting the oldest one past the cap.
    pub(crate) fn open(&self, owner: String, balance: i64) -> Arc<Account> {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id = id.saturating_add(1);
        let account = Arc::new(Account {
            id,
            owner,
            balance: AtomicI64::new(balance),
        });
        inner.accounts.insert(id, Arc::clone(&account));
        while inner.accounts.len() > self.cap {
            inner.accounts.pop_first();
        }
        account
    }

    /// The account with this id, if it is (still) known.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<Account>> {
        self.lock().accounts.get(&id).cloned()
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
    fn ids_are_sequential_and_the_oldest_are_forgotten() {
        let store = AccountStore::new(2);
        for id in 1..=3 {
            assert_eq!(store.open(format!("o{id}"), 10).id, id);
        }
        assert!(store.get(1).is_none());
        let third = store.get(3).expect("account 3");
        assert_eq!((third.owner.as_str(), third.balance()), ("o3", 10));
        assert!(store.get(0).is_none());
    }

    #[tokio::test]
    async fn withdrawals_in_sequence_stop_at_the_balance() {
        let store = AccountStore::new(10);
        let account = store.open("Ada".into(), 100);
        assert_eq!(account.withdraw_atomic(60).await, Ok(40));
        assert_eq!(
            account.withdraw_atomic(60).await,
            Err(Insufficient { balance: 40 })
        );
        assert_eq!(account.withdraw_racy(40).await, Ok(0));
        assert_eq!(
            account.withdraw_racy(1).await,
            Err(Insufficient { balance: 0 })
        );
        assert_eq!(account.view().balance, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn only_the_racy_withdrawal_goes_negative() {
        let store = AccountStore::new(10);
        let racy = store.open("racy".into(), 100);
        let atomic = store.open("atomic".into(), 100);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (racy, atomic) = (Arc::clone(&racy), Arc::clone(&atomic));
            tasks.spawn(async move {
                (
                    racy.withdraw_racy(60).await,
                    atomic.withdraw_atomic(60).await,
                )
            });
        }
        let mut atomic_ok = 0;
        while let Some(result) = tasks.join_next().await {
            let (_, atomic) = result.expect("the task finishes");
            atomic_ok += usize::from(atomic.is_ok());
        }
        assert_eq!(atomic_ok, 1);
        assert_eq!(atomic.balance(), 40);
        assert!(racy.balance() < 0, "{}", racy.balance());
    }
}
