//! unruly-inputs: from an API description, deterministic test cases for each
//! operation — valid, boundary, invalid, strange and large — together with
//! their wire form ([`Case::to_request`]) and shrinking ([`shrink`]).
//!
//! Nothing here sends a request: the explorer does. Every random choice flows
//! from [`unruly_core::SeededRng`], so the same spec and seed give the same cases
//! in the same order. Whether a case is valid ([`Expect`]) is decided by a real
//! JSON Schema validator (draft 2020-12, formats checked), never guessed.
//!
//! ```no_run
//! # fn demo(spec: &unruly_core::ApiSpec) -> Result<(), unruly_inputs::InputsError> {
//! let generator = unruly_inputs::CaseGenerator::new(spec)?;
//! for case in generator.cases(0, 42) {
//!     let request = case.to_request(spec);
//!     // ... send it, compare the answer with case.expect ...
//!     # let _ = request;
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod case;
mod combine;
pub mod corpus;
mod generate;
mod judge;
mod large;
mod media;
mod pointer;
mod schema;
mod serialize;
mod shrink;
mod values;

pub use case::{
    body_field_slot, parameter_slot, Case, CaseBody, CaseParameter, Category, Expect, LargeShape,
};
pub use generate::{CaseGenerator, EXTRA_FIELD, LARGE_SIZES, POSITIVE_CASES};
pub use large::{LargeBody, CHUNK_SIZE};
pub use serialize::{BodyParts, RequestParts, MULTIPART_BOUNDARY};
pub use shrink::{shrink, MAX_SHRINK_CANDIDATES};

/// Why a [`CaseGenerator`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// The API document could not be registered for `$ref` resolution.
    #[error("the API document cannot be used to resolve schema references: {0}")]
    Document(String),
}
