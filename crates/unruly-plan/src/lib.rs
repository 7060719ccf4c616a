//! Plans for unruly: scenario TOML, `unruly load` flags and OpenAPI starters,
//! turned into a validated [`unruly_core::Plan`].
//!
//! Every error names its place: scenario problems are [`PlanError`]s printed as
//! `file:line:col: message` (all of them, collected in one pass), flag problems
//! are [`FlagError`]s printed as `--flag 'value': message`.
//!
//! * [`load_scenario`] / [`parse_scenario`]: the scenario format is documented
//!   in [`scenario`].
//! * [`parse_assumption`]: `p99("GET /products") < "300ms"` and friends.
//! * [`plan_from_load_options`]: the quick benchmark of `unruly load URL`.
//! * [`starter_scenario`]: a commented scenario for `unruly init`, optionally
//!   from an OpenAPI 3.0/3.1 document.
//! * [`import_openapi`]: an OpenAPI 3.0/3.1 document (JSON or YAML) as an
//!   [`unruly_core::ApiSpec`], schemas in JSON Schema 2020-12.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assumption;
mod behaviour;
pub mod duration;
mod error;
mod fault;
mod import;
pub mod load_options;
mod openapi;
mod position;
pub mod scenario;
pub mod starter;
mod toml_view;
mod url;
mod workload;

pub use assumption::{parse_assumption, AssumptionError};
pub use duration::parse_duration;
pub use error::{PlanError, PlanErrors};
pub use import::import_openapi;

pub use scenario::{
    load_scenario, parse_scenario, parse_scenario_with_env, DEFAULT_MAX_BODY_BYTES, DEFAULT_SEED,
    DEFAULT_TIMEOUT,
};

pub use load_options::{parse_header_flag, plan_from_load_options, FlagError, LoadOptions};
pub use starter::{starter_scenario, OpenApiSource};

/// Validates a target base URL given outside a scenario (e.g. `--target`):
/// `http://` or `https://`, a host, an optional base path, no query; returns
/// it without trailing slashes.
pub fn target_url(text: &str) -> Result<String, String> {
    url::target_base_url(text, false)
}
