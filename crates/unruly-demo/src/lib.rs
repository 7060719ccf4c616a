//! The embedded demo service of unruly: a small shop-like JSON API (products, search,
//! orders, users, accounts, shipping quotes) with an OpenAPI 3.0.3 document at
//! `/openapi.json`. Shipping quotes come from a dependency, an embedded "shipping quotes"
//! service ([`DependencyStub`]) that the shop calls over HTTP, so that a fault proxy can be
//! put between them ([`DemoOptions::shipping`]).
//!
//! It comes in two variants. [`Variant::Buggy`] has production bugs planted in it, listed in
//! [`PLANTED_BUGS`] with the [`Trigger`] each needs:
//!
//! - found from inputs alone ([`Trigger::Input`], what `unruly explore` finds from the
//!   OpenAPI document): leaky 500s (a Python traceback, a Rust panic, an SQL error, a Java
//!   trace), a division by a `limit` of 0, a name cut inside a character, an email check
//!   with catastrophic backtracking, lax bounds on orders, a `null` the schema forbids and a
//!   response in an undocumented content type;
//! - found under load ([`Trigger::Load`]): a global lock;
//! - found by concurrent requests ([`Trigger::Concurrency`]): an overselling race;
//! - found by watching the process ([`Trigger::Watch`]): a memory leak;
//! - found by unruly's user behaviours ([`Trigger::Behaviour`], what `unruly explore`
//!   applies): withdrawals released together take an account's balance below zero (a
//!   check-then-act race), the same order submitted twice with one `Idempotency-Key` is
//!   placed twice, and 32 slow uploads take every request reader, so that nothing else,
//!   not even `GET /health`, is answered;
//! - found by a fault in the shipping dependency ([`Trigger::Dependency`], what a fault
//!   proxy in front of it shows): the dependency is called with no timeout while the
//!   catalog lock is held, so a slow dependency stalls the product reads too, and its
//!   failures are answered with leaky 500s.
//!
//! [`Variant::Correct`] answers exactly as its OpenAPI document says: it validates request
//! bodies against the document's own schemas (JSON Schema draft 2020-12, formats asserted),
//! path and query integers in their canonical spelling, the body's media type (415) and size
//! (413, read and dropped up to 256 MiB so that the client sees the answer), and documents
//! every status it answers. It debits accounts under a per-account lock, honours the
//! `Idempotency-Key` of orders as the IETF httpapi draft describes (replay, 409 while in
//! flight, 422 for another body), reads requests without a pool that slow clients could
//! exhaust, and gives a client 5 s to send its headers. It gives the shipping dependency
//! 1 s in all, holds no lock while it waits, and falls back on the product's last good quote
//! (`"source": "cache"`) or a 503 with `Retry-After`; `GET /health` depends on nothing.
//! Anything unruly reports against it is a false positive.
//!
//! Run it inside a runtime you own with [`serve`] (or [`serve_with`]), or on its own thread
//! with [`DemoHandle`] (or [`DemoHandle::start_with`]):
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

mod accounts;
mod background;
mod backtrack;
mod body;
mod bugs;
mod clock;
mod dependency;
mod handle;
mod handlers;
mod idempotency;
mod leaks;
mod options;
mod pool;
mod query;
mod quote;
mod respond;
mod router;
mod server;
mod shipping;
mod shop;
mod users;
mod validate;

pub use backtrack::backtracking_steps;
pub use bugs::{PlantedBug, Trigger, PLANTED_BUGS};
pub use dependency::DependencyStub;
pub use handle::DemoHandle;
pub use options::DemoOptions;
pub use server::{serve, serve_with};

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
/// the service promises, not what the buggy one does), as served at `/openapi.json`. It uses
/// no keyword that only OpenAPI 3.0 knows (`nullable`, boolean `exclusiveMinimum`), so its
/// schemas are also valid JSON Schema draft 2020-12 as they stand.
pub fn openapi_json() -> &'static str {
    include_str!("openapi.json")
}
