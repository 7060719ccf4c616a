//! unruly-watch: what unruly watches besides its own requests: the health probe
//! ([`health`], [`watch`]), the target's process ([`process`], [`spawn`]) and what its
//! memory does ([`memory`], [`crash`]), its logs ([`logs`]), its metrics and unruly's
//! own ([`metrics`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod crash;
pub mod health;
pub mod logs;
pub mod memory;
pub mod metrics;
pub mod process;
pub mod spawn;
pub mod watch;

/// Locks `mutex`, poisoned or not: the watch's shared state is counts, samples and lines,
/// still consistent if a thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub use health::{find_health_path, keep_probing, probe, HealthLog, PROBE_INTERVAL, PROBE_TIMEOUT};
pub use watch::{HealthOutcome, HealthWatch, RUN_PROBE_TIMEOUT};
