//! Tying a logged error to the failed request that caused it.
//!
//! The per-second timeline says which operation was failing around a log error; a
//! finding about a failed request says more: which request, and a curl command that sends
//! it again. A log error is tied to such a finding when the failure's response shows the
//! same error (lines of the logged block appear in the response excerpt: a service that
//! echoes its traceback), or, for a log error the timeline could not place (an
//! exploration has no timeline), when the failure was first seen within
//! [`NEAR_S`] of the first logging.

use super::LogErrorGroup;
use unruly_core::Finding;

/// How close in time a failure and a log error must first be seen to be tied, when the
/// response does not show the error.
pub const NEAR_S: f64 = 0.5;

/// Lines of a logged block shorter than this are too common to tie anything.
const MIN_LINE: usize = 12;

/// Ties each log-error finding (`logged[i]` made from `groups[i]`) to the failure among
/// `failures` that shows the same error, or else (when it has no operation yet) to the
/// one first seen closest in time: its operation, request and status become the log
/// error's, its reproduction is put first, and the summary says which finding it is.
pub fn tie_to_failures(logged: &mut [Finding], groups: &[LogErrorGroup], failures: &[Finding]) {
    for (finding, group) in logged.iter_mut().zip(groups) {
        let failed = failures
            .iter()
            .filter(|f| failed_request(f))
            .map(|f| (shared_lines(group, f), f))
            .filter(|(shared, _)| *shared > 0)
            .max_by_key(|(shared, f)| (*shared, std::cmp::Reverse(id_number(f))))
            .map(|(_, f)| f)
            .or_else(|| {
                if finding.operation != super::finding::NO_OPERATION {
                    return None;
                }
                // Only when one failure alone was first seen then: among several, time
                // cannot tell which request it was.
                let mut near = failures.iter().filter(|f| {
                    failed_request(f) && (f.first_seen_s - group.first_t_s).abs() <= NEAR_S
                });
                match (near.next(), near.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            });
        if let Some(failure) = failed {
            tie(finding, group, failure);
        }
    }
}

/// Whether a finding is about a request that failed (a 5xx or no answer).
fn failed_request(finding: &Finding) -> bool {
    !finding.evidence.request.is_empty()
        && (finding.evidence.status.is_some_and(|status| status >= 500)
            || finding.evidence.error.is_some())
}

/// How many lines of the logged block the failure's response shows; 0 unless it shows at
/// least half of them (one shared boilerplate line, such as Rust's `note: run with
/// RUST_BACKTRACE=1`, ties nothing).
fn shared_lines(group: &LogErrorGroup, failure: &Finding) -> usize {
    let Some(excerpt) = failure.evidence.excerpt.as_deref() else {
        return 0;
    };
    let lines: Vec<&str> = group
        .excerpt
        .lines()
        .map(str::trim)
        .filter(|line| line.len() >= MIN_LINE)
        .collect();
    let shared = lines.iter().filter(|line| excerpt.contains(*line)).count();
    if shared * 2 >= lines.len() {
        shared
    } else {
        0
    }
}

fn id_number(finding: &Finding) -> u64 {
    finding
        .id
        .trim_start_matches('F')
        .parse()
        .unwrap_or(u64::MAX)
}

fn tie(finding: &mut Finding, group: &LogErrorGroup, failure: &Finding) {
    finding.operation = failure.operation.clone();
    finding.evidence.request = failure.evidence.request.clone();
    finding.evidence.status = failure.evidence.status;
    finding.evidence.error = failure.evidence.error;
    if let Some(summary) = finding.summary.strip_suffix('.') {
        finding.summary = format!(
            "{summary}; {} logs it when {} fails ({}).",
            "the target", failure.operation, failure.id
        );
    }
    let source = if group.source.is_empty() {
        "log"
    } else {
        group.source.as_str()
    };
    finding.reproduce = format!(
        "# Send the request that failed with it ({}); the target's {source} then shows: {}\n{}",
        failure.id, group.signature, failure.reproduce
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::{Evidence, FindingKind, Severity};

    fn failure(id: &str, operation: &str, at: f64, excerpt: &str) -> Finding {
        Finding {
            id: id.to_owned(),
            kind: FindingKind::ServerError,
            severity: Severity::High,
            operation: operation.to_owned(),
            summary: format!("{operation} answered 500."),
            evidence: Evidence {
                request: format!("GET http://127.0.0.1:8080{}", &operation[4..]),
                status: Some(500),
                excerpt: Some(excerpt.to_owned()),
                ..Evidence::default()
            },
            reproduce: format!("curl -i 'http://127.0.0.1:8080{}'", &operation[4..]),
            seed: 1,
            first_seen_s: at,
            count: 3,
        }
    }

    fn logged(at: f64, excerpt: &str) -> (Finding, LogErrorGroup) {
        let group = LogErrorGroup {
            signature: "python traceback: KeyError in get_product (app/views.py)".to_owned(),
            excerpt: excerpt.to_owned(),
            first_t_s: at,
            count: 4,
            ..LogErrorGroup::default()
        };
        let finding = Finding {
            id: "F9".to_owned(),
            kind: FindingKind::LogError,
            severity: Severity::High,
            operation: super::super::finding::NO_OPERATION.to_owned(),
            summary: "Python traceback KeyError logged 4 times.".to_owned(),
            evidence: Evidence::default(),
            reproduce: "# Watch the target's stderr for: KeyError".to_owned(),
            seed: 1,
            first_seen_s: at,
            count: 4,
        };
        (finding, group)
    }

    const TRACEBACK: &str = "Traceback (most recent call last):\n  File \"app/views.py\", line 42, in get_product\n    product = PRODUCTS[product_id]\nKeyError: 77";

    #[test]
    fn a_response_showing_the_logged_traceback_ties_it_whatever_the_time() {
        let (mut finding, group) = logged(9.0, TRACEBACK);
        let failures = [
            failure(
                "F1",
                "GET /search",
                8.9,
                "java.lang.IllegalArgumentException",
            ),
            failure("F2", "GET /products/{id}", 0.2, TRACEBACK),
        ];
        tie_to_failures(std::slice::from_mut(&mut finding), &[group], &failures);
        assert_eq!(finding.operation, "GET /products/{id}");
        assert_eq!(finding.evidence.status, Some(500));
        assert!(finding
            .reproduce
            .starts_with("# Send the request that failed with it (F2)"));
        assert!(finding
            .reproduce
            .contains("curl -i 'http://127.0.0.1:8080/products/{id}'"));
        assert!(
            finding
                .summary
                .ends_with("when GET /products/{id} fails (F2)."),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn without_a_shared_line_the_failure_first_seen_at_the_same_moment_is_chosen() {
        let (mut finding, group) = logged(3.0, TRACEBACK);
        let failures = [
            failure("F1", "GET /search", 1.0, "internal error"),
            failure("F2", "GET /orders/{id}", 3.2, "internal error"),
        ];
        tie_to_failures(
            std::slice::from_mut(&mut finding),
            std::slice::from_ref(&group),
            &failures,
        );
        assert_eq!(finding.operation, "GET /orders/{id}");

        let (mut far, group) = logged(6.0, TRACEBACK);
        tie_to_failures(std::slice::from_mut(&mut far), &[group], &failures);
        assert_eq!(
            far.operation,
            super::super::finding::NO_OPERATION,
            "nothing near 6 s"
        );
    }

    #[test]
    fn one_shared_boilerplate_line_or_several_failures_at_once_tie_nothing() {
        let panic = "thread 'main' panicked at src/handlers.rs:88:14:\ncalled `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        let (mut finding, group) = logged(0.1, panic);
        let other_panic = "thread 'main' panicked at src/users.rs:42:23:\nbyte index 16 is not a char boundary\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        let failures = [
            failure("F1", "POST /users", 0.0, other_panic),
            failure("F2", "GET /products/{id}", 0.1, TRACEBACK),
        ];
        tie_to_failures(std::slice::from_mut(&mut finding), &[group], &failures);
        assert_eq!(finding.operation, super::super::finding::NO_OPERATION);
    }

    #[test]
    fn an_operation_placed_by_the_timeline_is_kept_without_a_shared_line() {
        let (mut finding, group) = logged(3.0, TRACEBACK);
        finding.operation = "GET /products".to_owned();
        let failures = [failure("F2", "GET /orders/{id}", 3.0, "internal error")];
        tie_to_failures(std::slice::from_mut(&mut finding), &[group], &failures);
        assert_eq!(finding.operation, "GET /products");
    }
}
