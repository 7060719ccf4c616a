//! The verdict stage of unruly: what a run saw, judged.
//!
//! * [`check_assumptions`] compares the statistics of a run with the assumptions
//!   written in the plan and says which held and which broke.
//! * [`findings_from_samples`] turns the response samples the engine kept into
//!   deduplicated [`Finding`](unruly_core::Finding)s (`server_error`,
//!   `information_leak`), each with evidence and a curl command that shows it again.
//! * [`judge_behaviours`] judges what a scenario's behaviours saw (bursts,
//!   double submits, refresh storms, slow clients, and the health probe
//!   meanwhile): `race_condition`, `duplicate_side_effect`, `resource_exhaustion`.
//! * [`curl_command`] and [`redact_headers`] are the building blocks of that
//!   evidence, exposed for the other stages that report requests.
//!
//! This crate does no I/O: everything it needs arrives as arguments.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assumptions;
mod behaviours;
mod cascades;
mod conformance;
mod curl;
mod evidence;
pub use evidence::evidence;
mod findings;
mod leaks;
mod redact;

pub use assumptions::check_assumptions;
pub use behaviours::{judge_behaviours, BehaviourVerdict};
pub use cascades::judge_faults;
pub use conformance::{accepted_invalid_input, slow_response, Conformance, ConformanceError};
pub use curl::{curl_command, shell_quote};
pub use findings::{findings_from_samples, observe, observe_with_echo, Observation};
pub use leaks::{scan_for_leaks, scan_response, Leak, LeakCategory};
pub use redact::{is_sensitive_header, redact_headers, REDACTED};
