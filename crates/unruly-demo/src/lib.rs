//! The embedded demo service of unruly: a small shop-like JSON API (products, search,
//! orders) with an OpenAPI 3.0.3 document at `/openapi.json`.
//!
//! It comes in two variants. [`Variant::Buggy`] has production bugs planted in it (listed in
//! [`PLANTED_BUGS`]): leaky 500s, a global lock, an overselling race, lax validation and a
//! memory leak. [`Variant::Correct`] answers exactly as its OpenAPI document says, so that
//! anything unruly reports against it is a false positive.
//!
//! Run it inside a runtime you own with [`serve`], or on its own thread with [`DemoHandle`]:
//!
//! ```
//! use unruly_demo::{DemoHandle, Variant};
//!
//! let demo = DemoHandle::start(Variant::Buggy)?;
//! println!("the buggy shop is at {}", demo.base_url());
//! demo.stop();
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bugs;
mod handle;
mod handlers;
mod leaks;
mod query;
mod respond;
mod router;
mod server;
mod shop;

pub use bugs::{PlantedBug, PLANTED_BUGS};
pub use handle::DemoHandle;
pub use server::serve;

/// Which twin of the demo service to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// With the bugs of [`PLANTED_BUGS`].
    Buggy,
    /// Without them: every answer is one the OpenAPI document allows.
    Correct,
}

impl Variant {
    /// `"buggy"` or `"correct"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Buggy => "buggy",
            Variant::Correct => "correct",
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OpenAPI 3.0.3 document of the demo service (the same for both variants: it is what
/// the service promises, not what the buggy one does), as served at `/openapi.json`.
pub fn openapi_json() -> &'static str {
    include_str!("openapi.json")
}
