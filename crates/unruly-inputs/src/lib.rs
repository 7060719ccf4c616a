//! unruly-inputs: reserved for a later issue (see shared/design.md).
#![forbid(unsafe_code)]
