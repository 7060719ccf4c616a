//! The target's logs: its output or a followed file, scanned for errors, panics and tracebacks.
