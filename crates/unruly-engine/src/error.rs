//! Errors that stop a run before it starts.

/// Why the engine could not run a plan. Every variant names the offending value.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The target URL cannot be used.
    #[error("target `{url}` is not usable: {reason}")]
    InvalidTarget {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The target's host name did not resolve.
    #[error("cannot resolve host `{host}`: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// The target did not accept a connection before the run.
    #[error("target {url} is unreachable: {reason}; is the service running and listening there?")]
    Unreachable {
        /// The target's base URL.
        url: String,
        /// What the connection attempt said.
        reason: String,
    },
    /// The target answered the TLS handshake with a certificate that is not trusted
    /// (self-signed, private authority, wrong host name, expired...).
    #[error(
        "target {url} presented a TLS certificate that is not trusted: {reason}; to accept any \
         certificate (e.g. a self-signed one on a test server), pass -k/--insecure, or set \
         `insecure = true` under [target] in a scenario"
    )]
    UntrustedCertificate {
        /// The target's base URL.
        url: String,
        /// What the certificate check said.
        reason: String,
    },
    /// An operation cannot be turned into an HTTP request.
    #[error("operation `{operation}` cannot be sent: {reason}")]
    InvalidOperation {
        /// Operation name.
        operation: String,
        /// What is wrong.
        reason: String,
    },
    /// A worker thread or runtime could not be started.
    #[error("cannot start the engine: {0}")]
    Runtime(#[from] std::io::Error),
}
