//! Exit codes, as the design fixes them.

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Every assumption held and nothing was found.
    Clean = 0,
    /// Findings, or a broken assumption.
    Findings = 1,
    /// Bad usage, bad config, or the target was unreachable before any load.
    Usage = 2,
    /// Interrupted; a partial report was still written.
    Interrupted = 130,
}
