//! The `memory_growth` judgement: memory that grows with work and is not given back.
