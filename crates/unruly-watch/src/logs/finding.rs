//! The `log_error` finding: one per group of errors in the target's log, tied to the
//! operation that was failing (or busiest) in the seconds around its first occurrence.

use super::{Language, LogErrorGroup, LogErrorKind};
use std::collections::BTreeMap;
use unruly_core::{Evidence, Finding, FindingKind, Window};

/// The operation of a finding whose time matches no request.
pub(crate) const NO_OPERATION: &str = "(log)";

/// What the timeline says about the seconds around a time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Around {
    operation: String,
    requests: u64,
    errors: u64,
}

/// The operation with the most requests in the second before, of and after `t_s`,
/// preferring operations that had errors then.
fn around(timeline: &[Window], t_s: f64) -> Option<Around> {
    let second = t_s.max(0.0).floor() as u64;
    let mut per_operation: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for window in timeline
        .iter()
        .filter(|w| w.t_s + 1 >= second && w.t_s <= second + 1)
    {
        for (name, op) in &window.operations {
            let entry = per_operation.entry(name).or_default();
            entry.0 += op.requests;
            entry.1 += op.errors;
        }
    }
    per_operation
        .into_iter()
        .filter(|(_, (requests, errors))| requests + errors > 0)
        // Ties go to the first name, for the same answer on every run.
        .rev()
        .max_by_key(|(_, (requests, errors))| (*errors > 0, *requests, *errors))
        .map(|(name, (requests, errors))| Around {
            operation: name.to_owned(),
            requests,
            errors,
        })
}

/// `3 times`, `once`.
fn times(count: u64) -> String {
    match count {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// `Python traceback KeyError in get (app.py)`, `ERROR line "db down after # ms"`.
fn what(group: &LogErrorGroup) -> String {
    let language = Language::from_name(&group.language);
    match group.kind {
        LogErrorKind::Error | LogErrorKind::Fatal => {
            let level = if group.kind == LogErrorKind::Fatal {
                "FATAL"
            } else {
                "ERROR"
            };
            let prefix = match language {
                Language::Generic => String::new(),
                l => format!("{} ", l.display_name()),
            };
            format!("{prefix}{level} line \"{}\"", group.title)
        }
        kind => format!(
            "{} {} {}",
            language.display_name(),
            kind.as_str(),
            group.title
        ),
    }
}

/// A curl command for `operation` (`POST /orders`) against `$TARGET`.
fn curl(operation: &str) -> Option<String> {
    let (method, path) = operation.split_once(' ')?;
    if !path.starts_with('/') {
        return None;
    }
    let mut args = vec!["curl -i --max-time 10".to_owned()];
    if method.eq_ignore_ascii_case("HEAD") {
        args.push("--head".to_owned());
    } else if !method.eq_ignore_ascii_case("GET") {
        let method = if method.bytes().all(|b| b.is_ascii_alphanumeric()) {
            method.to_owned()
        } else {
            unruly_verdict::shell_quote(method)
        };
        args.push(format!("-X {method}"));
    }
    if path.contains(['[', ']', '{', '}']) {
        args.push("--globoff".to_owned());
    }
    args.push(format!("\"$TARGET\"{}", unruly_verdict::shell_quote(path)));
    Some(args.join(" "))
}

fn reproduction(group: &LogErrorGroup, operation: &str, during: Option<&str>) -> String {
    let source = if group.source.is_empty() {
        "log"
    } else {
        group.source.as_str()
    };
    let mut lines = vec![format!(
        "# Watch the target's {source} for: {}",
        group.signature
    )];
    let when = match during {
        Some(d) => format!("first logged at {:.1} s, during {d}", group.first_t_s),
        None => format!("first logged at {:.1} s", group.first_t_s),
    };
    match curl(operation) {
        Some(command) => {
            let params = if operation.contains('{') {
                " and fill in the path parameters"
            } else {
                ""
            };
            lines.push(format!(
                "# It was {when}; set TARGET to the target's base URL{params}, then send:"
            ));
            lines.push(command);
        }
        None => {
            lines.push(format!("# It was {when}; run the same scenario again:"));
            lines.push("unruly run <this scenario>".to_owned());
        }
    }
    lines.join("\n")
}

/// One `log_error` finding per group, with ids `F{first_id}`, `F{first_id + 1}`, …
///
/// The operation is the one with the most requests in the `timeline` windows of the
/// second before, of and after the group's first occurrence, preferring operations with
/// errors in those seconds; `(log)` when there is none. `running` says what the run was
/// doing at a time (`burst on POST /orders`). Severity is High for panics, tracebacks and
/// exceptions, Medium for plain ERROR lines.
pub fn log_error_findings(
    groups: &[LogErrorGroup],
    timeline: &[Window],
    running: &dyn Fn(f64) -> Option<String>,
    first_id: usize,
    seed: u64,
) -> Vec<Finding> {
    groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let near = around(timeline, group.first_t_s);
            let during = running(group.first_t_s);
            let operation = near
                .as_ref()
                .map_or_else(|| NO_OPERATION.to_owned(), |a| a.operation.clone());
            let mut summary = format!(
                "{} logged {}, first at {:.1} s",
                what(group),
                times(group.count),
                group.first_t_s
            );
            if let Some(during) = &during {
                summary.push_str(&format!(", during {during}"));
            }
            let mut measurements = BTreeMap::new();
            measurements.insert("count".to_owned(), group.count as f64);
            measurements.insert("first_t_s".to_owned(), group.first_t_s);
            measurements.insert("last_t_s".to_owned(), group.last_t_s);
            if let Some(near) = &near {
                let errors = match near.errors {
                    0 => "no failed requests".to_owned(),
                    1 => "1 failed request".to_owned(),
                    n => format!("{n} failed requests"),
                };
                summary.push_str(&format!(
                    ", alongside {} ({errors} of {} in the seconds around it)",
                    near.operation, near.requests
                ));
                measurements.insert("requests_around".to_owned(), near.requests as f64);
                measurements.insert("errors_around".to_owned(), near.errors as f64);
            }
            summary.push('.');
            Finding {
                id: format!("F{}", first_id + i),
                kind: FindingKind::LogError,
                severity: group.severity(),
                reproduce: reproduction(group, &operation, during.as_deref()),
                evidence: Evidence {
                    request: if near.is_some() {
                        operation.clone()
                    } else {
                        String::new()
                    },
                    excerpt: Some(group.excerpt.clone()),
                    measurements,
                    ..Evidence::default()
                },
                operation,
                summary,
                seed,
                first_seen_s: group.first_t_s,
                count: group.count,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::{Severity, WindowOperation};

    fn window(t_s: u64, ops: &[(&str, u64, u64)]) -> Window {
        Window {
            t_s,
            operations: ops
                .iter()
                .map(|(name, requests, errors)| {
                    (
                        (*name).to_owned(),
                        WindowOperation {
                            requests: *requests,
                            errors: *errors,
                            ..WindowOperation::default()
                        },
                    )
                })
                .collect(),
            ..Window::default()
        }
    }

    fn traceback_group() -> LogErrorGroup {
        LogErrorGroup {
            signature: "python traceback: KeyError in get_product (app/views.py)".to_owned(),
            language: "python".to_owned(),
            first_t_s: 4.2,
            last_t_s: 9.0,
            count: 37,
            excerpt: "Traceback (most recent call last):\nKeyError: 'x'".to_owned(),
            times: vec![4.2, 9.0],
            kind: LogErrorKind::Traceback,
            title: "KeyError in get_product (app/views.py)".to_owned(),
            source: "stderr".to_owned(),
        }
    }

    #[test]
    fn a_finding_is_tied_to_the_busiest_operation_with_errors_around_it() {
        let timeline = vec![
            window(2, &[("GET /products/{id}", 0, 0), ("GET /health", 500, 0)]),
            window(3, &[("GET /products/{id}", 20, 5), ("GET /health", 100, 0)]),
            window(
                4,
                &[
                    ("GET /products/{id}", 30, 7),
                    ("POST /orders", 5, 1),
                    ("GET /health", 400, 0),
                ],
            ),
            window(5, &[("GET /products/{id}", 10, 0)]),
            window(9, &[("POST /orders", 900, 900)]),
        ];
        let running = |t: f64| (t > 4.0).then(|| "burst on POST /orders".to_owned());
        let findings = log_error_findings(&[traceback_group()], &timeline, &running, 3, 7);
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.id, "F3");
        assert_eq!(f.kind, FindingKind::LogError);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.operation, "GET /products/{id}");
        assert_eq!(
            f.summary,
            "Python traceback KeyError in get_product (app/views.py) logged 37 times, first at 4.2 s, \
             during burst on POST /orders, alongside GET /products/{id} (12 failed requests of 60 in the seconds around it)."
        );
        assert_eq!(f.evidence.measurements.get("count"), Some(&37.0));
        assert_eq!(f.evidence.measurements.get("first_t_s"), Some(&4.2));
        assert_eq!(f.evidence.measurements.get("last_t_s"), Some(&9.0));
        assert_eq!(
            f.evidence.excerpt.as_deref(),
            Some(traceback_group().excerpt.as_str())
        );
        assert_eq!((f.seed, f.first_seen_s, f.count), (7, 4.2, 37));
        assert!(f
            .reproduce
            .contains("curl -i --max-time 10 --globoff \"$TARGET\"'/products/{id}'"));
        assert!(f.reproduce.contains("during burst on POST /orders"));
    }

    #[test]
    fn without_errors_the_busiest_operation_is_named() {
        let timeline = vec![window(4, &[("GET /a", 3, 0), ("POST /b", 9, 0)])];
        let findings = log_error_findings(&[traceback_group()], &timeline, &|_| None, 1, 0);
        assert_eq!(findings[0].operation, "POST /b");
        assert!(findings[0].reproduce.contains("-X POST \"$TARGET\"'/b'"));
    }

    #[test]
    fn an_empty_timeline_gives_the_log_as_operation() {
        let mut group = traceback_group();
        group.kind = LogErrorKind::Error;
        group.language = "generic".to_owned();
        group.title = "payment # declined".to_owned();
        group.count = 1;
        let findings = log_error_findings(&[group.clone(), group], &[], &|_| None, 1, 0);
        assert_eq!(findings[0].operation, "(log)");
        assert_eq!(findings[0].severity, Severity::Medium);
        assert_eq!(findings[1].id, "F2");
        assert_eq!(
            findings[0].summary,
            "ERROR line \"payment # declined\" logged once, first at 4.2 s."
        );
        assert!(findings[0].reproduce.contains("unruly run <this scenario>"));
    }
}
