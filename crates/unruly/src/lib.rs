//! unruly as a library: [`rehearse`] runs a validated plan and returns the report.
//!
//! The binary (`src/main.rs`) is a thin layer over this: it parses flags, builds a
//! plan with `unruly-plan`, calls [`rehearse`], writes the report files and maps
//! the outcome to an exit code. Tests drive the same functions in-process.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
mod commands;
pub mod exit;
mod interrupt;
mod output;
mod progress;
mod rehearse;

pub use commands::execute;
pub use exit::ExitCode;
pub use rehearse::{rehearse, Rehearsal};
pub use unruly_engine::CancellationToken;
