//! unruly-watch: what unruly watches besides its own requests. So far the health
//! probe ([`health`]); the target's process, logs and metrics come later (see
//! shared/design.md).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod health;
pub mod watch;

pub use health::{find_health_path, keep_probing, probe, HealthLog, PROBE_INTERVAL, PROBE_TIMEOUT};
pub use watch::{HealthOutcome, HealthWatch, RUN_PROBE_TIMEOUT};
