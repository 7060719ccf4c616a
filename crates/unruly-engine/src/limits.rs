//! The process's open-file limit, raised so many connections fit.

/// The open-file limit after trying to raise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    /// The soft limit now in force.
    pub current: u64,
    /// Whether it allows the number of connections asked for.
    pub sufficient: bool,
}

/// File descriptors kept free beyond one per connection (stdio, reports, runtime).
const RESERVED_FILES: u64 = 64;

/// Raises the soft open-file limit (up to the hard limit) so `connections`
/// sockets fit, and says whether they do.
pub fn raise_open_file_limit(connections: u64) -> FileLimit {
    let needed = connections.saturating_add(RESERVED_FILES);
    let current = rlimit::increase_nofile_limit(needed).unwrap_or_else(|_| {
        rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(0)
    });
    FileLimit {
        current,
        sufficient: current >= needed,
    }
}
