//! The buggy variant's pool of request readers: every request waits for one of
//! [`READERS`] permits before anything else, and holds it until its body has arrived. A
//! few clients uploading slowly hold them all, and every other request waits.
//!
//! The correct variant has no pool: [`ReaderPool::acquire`] returns at once.

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::Variant;

/// How many requests the buggy variant reads at once.
pub(crate) const READERS: usize = 32;

/// The readers of the buggy variant; none in the correct one.
#[derive(Debug)]
pub(crate) struct ReaderPool {
    readers: Option<Semaphore>,
}

/// One reader, given back when dropped.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    _permit: Option<SemaphorePermit<'a>>,
}

impl ReaderPool {
    /// [`READERS`] readers for the buggy variant, no pool for the correct one.
    pub(crate) fn new(variant: Variant) -> ReaderPool {
        ReaderPool {
            readers: match variant {
                Variant::Buggy => Some(Semaphore::new(READERS)),
                Variant::Correct => None,
            },
        }
    }

    /// Waits for a free reader (for as long as it takes: that is the bug).
    pub(crate) async fn acquire(&self) -> Reader<'_> {
        let permit = match &self.readers {
            // The semaphore is never closed, so `acquire` only fails in theory; a request
            // then goes ahead without a reader.
            Some(readers) => readers.acquire().await.ok(),
            None => None,
        };
        Reader { _permit: permit }
    }

    /// How many readers are free (`None`: no pool).
    #[cfg(test)]
    fn available(&self) -> Option<usize> {
        self.readers.as_ref().map(Semaphore::available_permits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_buggy_pool_runs_out_and_the_correct_one_never_does() {
        let pool = ReaderPool::new(Variant::Buggy);
        let held: Vec<Reader<'_>> = acquire_all(&pool, READERS).await;
        assert_eq!(pool.available(), Some(0));
        let waiting = tokio::time::timeout(Duration::from_millis(50), pool.acquire()).await;
        assert!(waiting.is_err(), "a 33rd reader was handed out");
        drop(held);
        assert_eq!(pool.available(), Some(READERS));

        let pool = ReaderPool::new(Variant::Correct);
        let held = acquire_all(&pool, 10 * READERS).await;
        assert_eq!(held.len(), 10 * READERS);
        assert_eq!(pool.available(), None);
    }

    async fn acquire_all(pool: &ReaderPool, n: usize) -> Vec<Reader<'_>> {
        let mut held = Vec::with_capacity(n);
        for _ in 0..n {
            held.push(pool.acquire().await);
        }
        held
    }
}
