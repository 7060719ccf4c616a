//! unruly as a library: [`rehearse`] runs a validated plan and returns the report;
//! [`explore`] explores an API from its OpenAPI document.
//!
//! The binary (`src/main.rs`) is a thin layer over this: it parses flags, builds a
//! plan with `unruly-plan`, calls [`rehearse`], writes the report files and maps
//! the outcome to an exit code. Tests drive the same functions in-process.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
mod commands;
pub mod exit;
mod explore;
mod faults;
mod interrupt;
mod output;
mod progress;
mod rehearse;
pub mod watching;

pub use commands::execute;
pub use exit::ExitCode;
pub use explore::{explore, explore_watched};
pub use rehearse::{rehearse, rehearse_watched, Rehearsal, RehearseError};
pub use unruly_engine::CancellationToken;
pub use unruly_explore::{ExploreOptions, Snapshot};
