//! Sampling the watched process from /proc: RSS, CPU, threads, open file descriptors.
