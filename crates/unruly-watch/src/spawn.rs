//! `--spawn`: unruly starts the target, captures its output, waits until it answers, stops it.
