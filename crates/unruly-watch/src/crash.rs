//! The `crash` finding: the watched process exited or restarted during the run.
