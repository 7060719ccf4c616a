//! The buggy variant's email pre-check: a naive backtracking matcher of
//! `^([A-Za-z0-9._%+-]+)*@`, the kind of pattern that ends up in production after someone
//! "simplified" an email regex.
//!
//! The nested quantifier `(x+)*` can split a run of `n` matching characters in `2^(n-1)`
//! ways, and a backtracking matcher tries every one of them before it gives up when the run
//! is not followed by `@`: catastrophic backtracking. Normal addresses match on the first
//! try, in a handful of steps.
//!
//! In a release build a run of 24 takes ~0.3-0.5 s, and each more character doubles that.
//! Two bounds keep the demo from taking the machine down: only the first [`WINDOW`]
//! characters are looked at (so the worst case, any run of 26 or more, is ~1-1.5 s), and a
//! match gives up after [`MATCH_TIMEOUT`], as a regex engine's match timeout does (a debug
//! build is several times slower per step, and reaches it from a run of ~24). A match that
//! times out counts as no match: the address is refused with a 400, late.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How many characters of the address the matcher looks at.
pub(crate) const WINDOW: usize = 26;

/// How long one match may run before it gives up, as a regex engine's match timeout does.
pub(crate) const MATCH_TIMEOUT: Duration = Duration::from_millis(1500);

/// How often (in steps, a power of two) the clock is read.
const CLOCK_EVERY: u64 = 1 << 14;

/// The characters of the local part, as ranges: `[A-Za-z0-9._%+-]`.
const LOCAL_PART: &[(char, char)] = &[
    ('a', 'z'),
    ('A', 'Z'),
    ('0', '9'),
    ('.', '.'),
    ('_', '_'),
    ('%', '%'),
    ('+', '+'),
    ('-', '-'),
];

/// How a match ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The address starts with local-part characters and an `@`.
    Matched,
    /// It does not.
    NoMatch,
    /// The match ran past its timeout.
    TimedOut,
}

/// One node of a pattern.
#[derive(Debug)]
enum Node {
    /// One given character.
    Char(char),
    /// One character of a class, given as inclusive ranges.
    Class(&'static [(char, char)]),
    /// `body` at least `min` times, greedily.
    Repeat { body: Vec<Node>, min: usize },
}

/// `([A-Za-z0-9._%+-]+)*@`, anchored at the start.
fn pattern() -> Vec<Node> {
    vec![
        Node::Repeat {
            body: vec![Node::Repeat {
                body: vec![Node::Class(LOCAL_PART)],
                min: 1,
            }],
            min: 0,
        },
        Node::Char('@'),
    ]
}

/// Runs the pre-check on `email` with the [`MATCH_TIMEOUT`].
pub(crate) fn check_email(email: &str) -> Outcome {
    let input: Vec<char> = email.chars().take(WINDOW).collect();
    let mut matcher = Matcher::new(&input, Some(Instant::now() + MATCH_TIMEOUT));
    matcher.run()
}

/// How many steps the buggy variant's email matcher takes on `email` (without its
/// timeout): a handful for a normal address, about `2^(n+2)` for a run of `n` local-part
/// characters not followed by `@`, with `n` at most 26 (the characters it looks at).
///
/// Exposed so that tests can show the catastrophic backtracking without timing anything.
pub fn backtracking_steps(email: &str) -> u64 {
    steps_within(email, WINDOW)
}

/// [`backtracking_steps`] with another window.
fn steps_within(email: &str, window: usize) -> u64 {
    let input: Vec<char> = email.chars().take(window).collect();
    let mut matcher = Matcher::new(&input, None);
    matcher.run();
    matcher.steps.get()
}

/// A backtracking matcher in continuation-passing style: each node is matched, then the
/// rest of the pattern is tried as a continuation; when the continuation fails, the node
/// gives back what it took and tries the next way.
struct Matcher<'a> {
    input: &'a [char],
    steps: Cell<u64>,
    deadline: Option<Instant>,
    timed_out: Cell<bool>,
}

impl<'a> Matcher<'a> {
    fn new(input: &'a [char], deadline: Option<Instant>) -> Matcher<'a> {
        Matcher {
            input,
            steps: Cell::new(0),
            deadline,
            timed_out: Cell::new(false),
        }
    }

    /// Matches the pattern at the start of the input.
    fn run(&mut self) -> Outcome {
        let matched = self.seq(&pattern(), 0, &mut |_| true);
        if self.timed_out.get() {
            Outcome::TimedOut
        } else if matched {
            Outcome::Matched
        } else {
            Outcome::NoMatch
        }
    }

    /// Counts a step; false once the deadline has passed.
    fn step(&self) -> bool {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps & (CLOCK_EVERY - 1) == 0 {
            if let Some(deadline) = self.deadline {
                if Instant::now() >= deadline {
                    self.timed_out.set(true);
                }
            }
        }
        !self.timed_out.get()
    }

    /// Matches `nodes` from `at`, then hands the end position to `then`.
    fn seq(&self, nodes: &[Node], at: usize, then: &mut dyn FnMut(usize) -> bool) -> bool {
        let Some((first, rest)) = nodes.split_first() else {
            return then(at);
        };
        if !self.step() {
            return false;
        }
        match first {
            Node::Char(c) => self.input.get(at) == Some(c) && self.seq(rest, at + 1, then),
            Node::Class(ranges) => {
                self.input
                    .get(at)
                    .is_some_and(|c| ranges.iter().any(|(lo, hi)| (lo..=hi).contains(&c)))
                    && self.seq(rest, at + 1, then)
            }
            Node::Repeat { body, min } => {
                self.repeat(body, *min, 0, at, &mut |end| self.seq(rest, end, then))
            }
        }
    }

    /// Greedy repetition: one more round of `body` first (if it consumes something), and
    /// only when everything after that fails, stopping here.
    fn repeat(
        &self,
        body: &[Node],
        min: usize,
        done: usize,
        at: usize,
        then: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        let another = self.seq(body, at, &mut |end| {
            end > at && self.repeat(body, min, done + 1, end, then)
        });
        another || (done >= min && !self.timed_out.get() && then(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(email: &str) -> Outcome {
        check_email(email)
    }

    #[test]
    fn addresses_match_quickly() {
        // Zero rounds of the group are a match too: `@x.org` passes the pre-check (and
        // fails the real validation after it).
        for email in [
            "ada@example.com",
            "a.b+c_d%e-f@x.org",
            "Z9@y",
            "a@",
            "@x.org",
        ] {
            assert_eq!(outcome(email), Outcome::Matched, "{email}");
            assert!(backtracking_steps(email) < 40, "{email}");
        }
    }

    #[test]
    fn non_addresses_do_not_match() {
        for email in ["", "a b@x.org", "ada!", "ñ@x.org", "🎉@x.org"] {
            assert_eq!(outcome(email), Outcome::NoMatch, "{email}");
        }
    }

    #[test]
    fn a_run_without_an_at_sign_doubles_the_work_with_each_character() {
        let steps = |n: usize| backtracking_steps(&format!("{}!", "a".repeat(n)));
        for n in 4..=14 {
            assert_eq!(steps(n), 1 << (n + 2), "{n}");
            assert_eq!(steps(n + 1), 2 * steps(n), "{n}");
        }
        // Any character outside the class ends the run, not just `!`.
        assert_eq!(backtracking_steps("aaaaaaaaaaaa "), steps(12));
        assert_eq!(backtracking_steps("John_123__t"), steps(11));
    }

    #[test]
    fn only_the_window_is_looked_at() {
        let long = "a".repeat(10_000);
        assert_eq!(steps_within(&long, 12), steps_within(&"a".repeat(12), 12));
        assert_eq!(steps_within("aaaa@", 3), steps_within("aaa", 3));
    }

    #[test]
    fn the_timeout_stops_a_runaway_match() {
        let input: Vec<char> = "a".repeat(WINDOW).chars().collect();
        let mut matcher = Matcher::new(&input, Some(Instant::now()));
        assert_eq!(matcher.run(), Outcome::TimedOut);
        assert!(matcher.steps.get() <= 2 * CLOCK_EVERY);
    }
}
