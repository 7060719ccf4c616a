//! [`DemoOptions`]: how the demo service is wired to its dependency.

use std::net::SocketAddr;

/// Options of the demo service beyond its [`Variant`](crate::Variant).
///
/// `DemoOptions::default()` is what [`DemoHandle::start`](crate::DemoHandle::start) and
/// [`serve`](crate::serve) use: the shop starts its own
/// [`DependencyStub`](crate::DependencyStub) and calls it directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoOptions {
    /// Where the shop finds its shipping-quote dependency (`GET /quote?product=ID`, as
    /// [`DependencyStub`](crate::DependencyStub) answers it), e.g. a fault proxy in front
    /// of a stub. `None`: the shop starts a stub of its own and calls it directly.
    pub shipping: Option<SocketAddr>,
    /// Whether the shop also writes its log to stderr, as a service under a supervisor
    /// does: the lines it keeps (orders, failures of its dependency) and, in the buggy
    /// variant, the traceback or panic behind each of its 500s. `unruly demo` reads it
    /// there; tests leave it off.
    pub log_to_stderr: bool,
}
