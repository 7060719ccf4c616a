//! The `crash` finding: the watched process exited or restarted during the run.

use std::collections::BTreeMap;
use unruly_core::{Evidence, Finding, FindingKind, ProcessExit, Severity};

/// Log lines quoted at most in a crash finding (the last ones).
pub const CRASH_LOG_LINES: usize = 40;
/// Bytes of log quoted at most in a crash finding.
pub const CRASH_LOG_BYTES: usize = 4 * 1024;

/// The `crash` finding for `exit`: `last_lines` are the target's last log lines (the last
/// [`CRASH_LOG_LINES`] are quoted, within [`CRASH_LOG_BYTES`]), `running` says what unruly
/// was doing then (`burst on POST /orders`; empty if nothing in particular).
pub fn crash_finding(
    exit: &ProcessExit,
    last_lines: &[String],
    running: &str,
    id: String,
    seed: u64,
) -> Finding {
    let running = running.trim();
    let during = if running.is_empty() {
        String::new()
    } else {
        format!(", during {running}")
    };
    let summary = if exit.restarted {
        format!(
            "the target ended and was {} at {:.1} s{during}",
            exit.how, exit.t_s
        )
    } else {
        format!(
            "the target exited ({}) at {:.1} s{during}",
            exit.how, exit.t_s
        )
    };
    let excerpt = log_excerpt(last_lines, CRASH_LOG_LINES, CRASH_LOG_BYTES);
    let mut measurements = BTreeMap::new();
    measurements.insert("exit_s".to_owned(), exit.t_s);
    if let Some(code) = number_after(&exit.how, "exit status ") {
        measurements.insert("exit_status".to_owned(), code);
    }
    if let Some(signal) = number_after(&exit.how, "killed by signal ") {
        measurements.insert("signal".to_owned(), signal);
    }
    let what = if running.is_empty() {
        "the process ended during the run".to_owned()
    } else {
        format!("the process ended during {running}")
    };
    Finding {
        id,
        kind: FindingKind::Crash,
        severity: Severity::Critical,
        operation: "(process)".to_owned(),
        summary,
        evidence: Evidence {
            request: if running.is_empty() {
                "(the run)".to_owned()
            } else {
                running.to_owned()
            },
            excerpt: (!excerpt.is_empty()).then_some(excerpt),
            measurements,
            ..Evidence::default()
        },
        reproduce: format!(
            "# {what}, {:.1} s in ({}). Rehearse again with the same flags (seed {seed}) and the\n\
             # target watched (--spawn or --watch-pid); its last output lines are in the evidence.",
            exit.t_s, exit.how
        ),
        seed,
        first_seen_s: exit.t_s,
        count: 1,
    }
}

/// The last `max_lines` of `lines`, joined, keeping the end within `max_bytes` (whole lines
/// where possible; a single line longer than that keeps its end).
pub fn log_excerpt(lines: &[String], max_lines: usize, max_bytes: usize) -> String {
    let start = lines.len().saturating_sub(max_lines);
    let mut kept: Vec<&str> = Vec::new();
    let mut bytes = 0;
    for line in lines[start..].iter().rev() {
        let cost = line.len() + usize::from(!kept.is_empty());
        if bytes + cost > max_bytes {
            if kept.is_empty() {
                kept.push(tail(line, max_bytes));
            }
            break;
        }
        bytes += cost;
        kept.push(line);
    }
    kept.reverse();
    kept.join("\n")
}

/// The end of `s`, at most `max` bytes, cut at a character boundary.
fn tail(s: &str, max: usize) -> &str {
    let mut from = s.len().saturating_sub(max);
    while !s.is_char_boundary(from) {
        from += 1;
    }
    &s[from..]
}

/// The number right after `prefix` in `text`: `3` in `exit status 3`.
fn number_after(text: &str, prefix: &str) -> Option<f64> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(how: &str, restarted: bool) -> ProcessExit {
        ProcessExit {
            t_s: 12.34,
            how: how.to_owned(),
            restarted,
        }
    }

    #[test]
    fn crash_finding_says_how_when_and_during_what() {
        let lines: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
        let f = crash_finding(
            &exit("killed by signal 9 (SIGKILL)", false),
            &lines,
            "burst on POST /orders",
            "F3".to_owned(),
            7,
        );
        assert_eq!(
            f.summary,
            "the target exited (killed by signal 9 (SIGKILL)) at 12.3 s, during burst on POST /orders"
        );
        assert_eq!(f.kind, FindingKind::Crash);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.operation, "(process)");
        assert_eq!(f.first_seen_s, 12.34);
        assert_eq!(f.seed, 7);
        let excerpt = f.evidence.excerpt.unwrap_or_default();
        assert_eq!(excerpt.lines().count(), 40);
        assert!(excerpt.starts_with("line 60\n") && excerpt.ends_with("line 99"));
        assert_eq!(f.evidence.measurements.get("signal"), Some(&9.0));
    }

    #[test]
    fn crash_finding_of_a_restart_and_an_exit_status() {
        let f = crash_finding(
            &exit("restarted as pid 4343", true),
            &[],
            "",
            "F1".into(),
            1,
        );
        assert_eq!(
            f.summary,
            "the target ended and was restarted as pid 4343 at 12.3 s"
        );
        assert_eq!(f.evidence.excerpt, None);
        let f = crash_finding(&exit("exit status 3", false), &[], " ", "F1".into(), 1);
        assert_eq!(f.summary, "the target exited (exit status 3) at 12.3 s");
        assert_eq!(f.evidence.measurements.get("exit_status"), Some(&3.0));
    }

    #[test]
    fn excerpt_is_capped_in_bytes() {
        let lines: Vec<String> = (0..40).map(|_| "é".repeat(200)).collect();
        let excerpt = log_excerpt(&lines, 40, 4096);
        assert!(excerpt.len() <= 4096);
        assert_eq!(excerpt.lines().count(), 10);
        let one = vec!["é".repeat(5000)];
        let excerpt = log_excerpt(&one, 40, 4096);
        assert!(excerpt.len() <= 4096 && excerpt.len() >= 4094);
    }
}
