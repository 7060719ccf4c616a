//! Unruly behaviours: what real users do to a service besides the steady
//! workload — rapid double clicks, bursts of identical requests, refresh
//! storms, slow clients — each fired on a schedule during the run, optionally
//! followed by an [`Invariant`] read to check that the service's state is
//! still sound.
//!
//! Built by `unruly-plan` from a scenario's `[[behaviour]]` tables, run by
//! `unruly-engine`. Nothing here does I/O.

use crate::expectation::Expectation;
use std::time::Duration;

/// One unruly behaviour of a scenario: what it does and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// The name reports use: the scenario's `name`, or `behaviour N` (1-based,
    /// in the order written) when none is given.
    pub name: String,
    /// What the behaviour does.
    pub kind: BehaviourKind,
    /// When it fires.
    pub schedule: BehaviourSchedule,
}

/// When a behaviour fires, measured from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BehaviourSchedule {
    /// The first firing, from the run's start; 0 by default.
    pub at: Duration,
    /// The period between firings, if it repeats.
    pub every: Option<Duration>,
    /// How many times it fires: 1 by default; when `every` is set and no count
    /// is given, `u32::MAX`, i.e. until the run ends.
    pub times: u32,
}

impl Default for BehaviourSchedule {
    /// Once, at the start of the run.
    fn default() -> Self {
        Self {
            at: Duration::ZERO,
            every: None,
            times: 1,
        }
    }
}

impl BehaviourSchedule {
    /// The time of firing number `n` (0-based) from the run's start, or `None`
    /// when the schedule fires fewer than `n + 1` times (or the time would
    /// overflow a `Duration`).
    pub fn firing(&self, n: u32) -> Option<Duration> {
        if n >= self.times {
            return None;
        }
        if n == 0 {
            return Some(self.at);
        }
        let every = self.every?;
        every.checked_mul(n)?.checked_add(self.at)
    }

    /// The firings strictly before `end`, in order.
    pub fn firings_before(&self, end: Duration) -> impl Iterator<Item = Duration> + '_ {
        (0..self.times)
            .map_while(move |n| self.firing(n))
            .take_while(move |t| *t < end)
    }
}

/// What a behaviour does.
#[derive(Debug, Clone, PartialEq)]
pub enum BehaviourKind {
    /// Requests released together with last-byte synchronisation: every
    /// request is sent but its last byte, then all the last bytes go at once.
    Burst {
        /// The name of a scenario `[[operation]]`.
        operation: String,
        /// Requests in the burst: 20 by default, 2 to 1000.
        count: usize,
        /// Checked once the burst's answers are in.
        invariant: Option<Invariant>,
    },
    /// The same submission repeated (a double click): `count` copies at once,
    /// then once more after they are answered. With `idempotency_key`, the
    /// copies carry the same key under that header name.
    DoubleSubmit {
        /// The name of a scenario `[[operation]]`.
        operation: String,
        /// Copies sent at once: 2 by default, 2 to 100.
        count: usize,
        /// The header that carries one shared idempotency key, if any:
        /// `idempotency_key = true` is `Idempotency-Key`, a string names the
        /// header, `false` or absent is `None`.
        idempotency_key: Option<String>,
        /// Checked once every copy is answered.
        invariant: Option<Invariant>,
    },
    /// Many tabs: the same GET from `tabs` connections as fast as possible for
    /// `duration`, a share `abandon` of them closed before their answer.
    RefreshStorm {
        /// The name of a scenario `[[operation]]`.
        operation: String,
        /// Connections refreshing at once: 20 by default, 1 to 10000.
        tabs: usize,
        /// How long the storm lasts: 2 s by default.
        duration: Duration,
        /// The share of requests abandoned before their answer, in `0..=1`:
        /// 0.25 by default.
        abandon: f64,
    },
    /// Old devices and slow networks: `clients` connections that send or read
    /// slowly for `duration`.
    SlowClients {
        /// What is slow.
        mode: SlowMode,
        /// The name of a scenario `[[operation]]`.
        operation: String,
        /// Slow connections held at once: 64 by default, 1 to 10000.
        clients: usize,
        /// How long the slow clients stay: 5 s by default.
        duration: Duration,
        /// The pace of the slow part, in bytes per second: 1 by default.
        bytes_per_second: u64,
    },
}

impl BehaviourKind {
    /// The kind as a scenario writes it: `burst`, `double_submit`,
    /// `refresh_storm` or `slow_clients`.
    pub fn name(&self) -> &'static str {
        match self {
            BehaviourKind::Burst { .. } => "burst",
            BehaviourKind::DoubleSubmit { .. } => "double_submit",
            BehaviourKind::RefreshStorm { .. } => "refresh_storm",
            BehaviourKind::SlowClients { .. } => "slow_clients",
        }
    }

    /// The name of the scenario operation the behaviour sends.
    pub fn operation(&self) -> &str {
        match self {
            BehaviourKind::Burst { operation, .. }
            | BehaviourKind::DoubleSubmit { operation, .. }
            | BehaviourKind::RefreshStorm { operation, .. }
            | BehaviourKind::SlowClients { operation, .. } => operation,
        }
    }

    /// The invariant checked after the behaviour, if it has one (only bursts
    /// and double submits do).
    pub fn invariant(&self) -> Option<&Invariant> {
        match self {
            BehaviourKind::Burst { invariant, .. }
            | BehaviourKind::DoubleSubmit { invariant, .. } => invariant.as_ref(),
            BehaviourKind::RefreshStorm { .. } | BehaviourKind::SlowClients { .. } => None,
        }
    }
}

/// What a slow client does slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowMode {
    /// Slowloris: the request head is sent a byte at a time.
    Headers,
    /// The head at once, the body a byte at a time.
    Upload,
    /// The request at once, the answer read at `bytes_per_second`.
    Read,
}

impl SlowMode {
    /// The mode as a scenario writes it: `headers`, `upload` or `read`.
    pub fn name(self) -> &'static str {
        match self {
            SlowMode::Headers => "headers",
            SlowMode::Upload => "upload",
            SlowMode::Read => "read",
        }
    }
}

/// A property of the service's state checked after a behaviour: `read` is
/// sent, and `expect` must hold on its JSON answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invariant {
    /// The method of the read, upper case, e.g. `GET`.
    pub read_method: String,
    /// The path of the read as written, e.g. `/accounts/{id}`; it may contain
    /// `{name}` placeholders, each of which also appears in the behaviour's
    /// operation name (see [`placeholders`]).
    pub read_path: String,
    /// The parsed expectation.
    pub expect: Expectation,
    /// The expectation as written, e.g. `$.balance >= 0`.
    pub written: String,
}

impl Invariant {
    /// The names of the `{name}` placeholders of the read path, in order.
    pub fn placeholders(&self) -> Vec<&str> {
        placeholders(&self.read_path)
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    }
}

/// The `{name}` placeholders of `text` with the byte offset of each `{`, in
/// order. A name is letters, digits, `_`, `-` or `.`; braces that do not
/// enclose such a name (e.g. `{}`) and `{{template}}` variables are not
/// placeholders.
pub fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{') {
        let start = from + open;
        if text[start..].starts_with("{{") {
            // A template variable, not a placeholder.
            from = text[start + 2..]
                .find("}}")
                .map_or(start + 2, |close| start + 2 + close + 2);
            continue;
        }
        let inner = start + 1;
        let len = text[inner..]
            .find(|c: char| !is_placeholder_char(c))
            .unwrap_or(text.len() - inner);
        if len > 0 && text[inner + len..].starts_with('}') {
            out.push((start, &text[inner..inner + len]));
            from = inner + len + 1;
        } else {
            from = inner;
        }
    }
    out
}

/// Whether `c` may appear in a placeholder name.
pub fn is_placeholder_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_firings() {
        let once = BehaviourSchedule::default();
        assert_eq!(once.firing(0), Some(Duration::ZERO));
        assert_eq!(once.firing(1), None);
        let repeat = BehaviourSchedule {
            at: Duration::from_secs(5),
            every: Some(Duration::from_secs(10)),
            times: u32::MAX,
        };
        let times: Vec<u64> = repeat
            .firings_before(Duration::from_secs(40))
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(times, [5, 15, 25, 35]);
        let three = BehaviourSchedule { times: 3, ..repeat };
        assert_eq!(three.firings_before(Duration::MAX).count(), 3);
        let huge = BehaviourSchedule {
            at: Duration::MAX,
            every: Some(Duration::MAX),
            times: 5,
        };
        assert_eq!(huge.firing(1), None);
    }

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("/accounts/{id}/moves/{move_id}"),
            vec![(10, "id"), (21, "move_id")]
        );
        assert!(placeholders("/a/{}/{{vu}}/{x").is_empty());
        assert!(placeholders("{{a}").is_empty());
        assert_eq!(placeholders("{{vu}}/{b}"), vec![(7, "b")]);
    }
}
