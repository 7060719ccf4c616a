//! Unruly users: requests released together (bursts, double submits), slow
//! clients, refresh storms and traffic spikes. Each is a primitive that sends
//! and measures; what its results mean is judged elsewhere.

mod burst;
mod scenario;
mod slow;
mod spike;
mod storm;
mod wire;

pub use burst::{burst, BurstResult};
pub use scenario::{fill_placeholders, NowRunning, ScenarioBehaviours, END_GRACE, LOAD_LABEL};
pub use slow::{CrowdCounts, SlowCrowd, SlowMode};
pub use spike::{spike, SpikePlan, SpikeStep, StepStats};
pub use storm::{refresh_storm, StormOptions, StormReport};
