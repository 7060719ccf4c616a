//! The terminal summary: the numbers a reader looks for, and nothing a hostile
//! target could use to take over the terminal.

mod common;

use unruly_report::{render_terminal, TerminalStyle};

fn plain(width: usize) -> String {
    render_terminal(&common::sample_report(), TerminalStyle::plain(width))
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

#[test]
fn prints_the_sample_report() {
    // Printed so that `cargo test -- --nocapture` shows what a user sees.
    println!("{}", plain(100));
    println!(
        "{}",
        render_terminal(
            &common::sample_report(),
            TerminalStyle {
                color: true,
                width: 100
            }
        )
    );
    let mut narrow = common::sample_report();
    narrow.interrupted = true;
    narrow.duration_s = 4.2;
    narrow.stats.operations[1].operation =
        "POST /organisations/{org}/projects/{project}/members".into();
    narrow.settings.model = "open".into();
    println!("{}", render_terminal(&narrow, TerminalStyle::plain(60)));
}

#[test]
fn header_names_command_target_duration_and_settings() {
    let text = plain(100);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("unruly run  http://127.0.0.1:8080"),
        "{header}"
    );
    assert!(header.contains("10.0s"), "{header}");
    assert!(header.contains("closed, 50 users, 2 threads"), "{header}");
    assert!(header.contains("seed 42"), "{header}");
}

#[test]
fn overall_numbers() {
    let text = plain(100);
    let requests = line_with(&text, "requests  ");
    assert!(requests.contains("123,456"), "{requests}");
    assert!(requests.contains("12,345.6/s"), "{requests}");
    let errors = line_with(&text, "  errors ");
    assert!(errors.contains("1,234 (1.00%)"), "{errors}");
    assert!(errors.contains("timeout 222"), "{errors}");
    assert!(errors.contains("status_5xx 1,012"), "{errors}");
    assert!(
        !errors.contains("connect"),
        "only classes that occurred: {errors}"
    );
    let latency = line_with(&text, "latency");
    assert!(
        latency.contains("p50 1.50ms  p90 9.00ms  p99 250ms  p99.9 900ms  max 5.00s"),
        "{latency}"
    );
    let status = line_with(&text, "  status ");
    assert!(
        status.contains("200: 99,988 · 201: 22,234 · 500: 1,012"),
        "{status}"
    );
}

#[test]
fn per_operation_table() {
    let text = plain(100);
    let head = line_with(&text, "operation");
    for column in ["requests", "rps", "errors", "p50", "p99", "max"] {
        assert!(head.contains(column), "{head}");
    }
    let users = line_with(&text, "POST /users ");
    for cell in ["23,456", "2,345.6", "5.21%", "9.80ms", "412ms", "5.00s"] {
        assert!(users.contains(cell), "{cell} in {users}");
    }
    let products = line_with(&text, "GET /products ");
    assert!(products.contains("0.01%"), "{products}");
}

#[test]
fn no_table_for_a_single_operation() {
    let mut report = common::sample_report();
    report.stats.operations.truncate(1);
    let text = render_terminal(&report, TerminalStyle::plain(100));
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("operation")),
        "{text}"
    );
}

#[test]
fn long_names_are_truncated_to_the_width() {
    let mut report = common::sample_report();
    report.stats.operations[1].operation = format!("POST /{}", "very-long-segment/".repeat(10));
    let text = render_terminal(&report, TerminalStyle::plain(80));
    let row = line_with(&text, "POST /very");
    assert!(row.contains('…'), "{row}");
    assert!(
        row.chars().count() <= 80,
        "{} columns: {row}",
        row.chars().count()
    );
    let header = text.lines().next().unwrap_or_default();
    assert!(header.chars().count() <= 80, "{header}");
}

#[test]
fn assumptions_held_and_broken() {
    let text = plain(100);
    assert!(text.contains("assumptions  1 held · 1 broken"), "{text}");
    let held = line_with(&text, "✓");
    assert!(held.contains("p99(\"GET /products\") < 300ms"), "{held}");
    assert!(
        held.contains("observed 8.10ms · expected < 300ms"),
        "{held}"
    );
    let broken = line_with(&text, "✗");
    assert!(broken.contains("error_rate < 1%"), "{broken}");
    assert!(
        broken.contains("observed 1.00% (1234 of 123456) · expected < 1%"),
        "{broken}"
    );
}

#[test]
fn findings_with_reproductions() {
    let text = plain(100);
    assert!(text.contains("findings  3 · 3 high"), "{text}");
    let f1 = line_with(&text, "F1  high");
    assert!(f1.contains("server_error"), "{f1}");
    assert!(f1.contains("POST /users"), "{f1}");
    assert!(f1.contains("seen 1,000×, first at 1.5s"), "{f1}");
    let f2 = line_with(&text, "F2  high");
    assert!(f2.contains("information_leak"), "{f2}");
    assert!(text.contains("      Python stack trace in the 500 response to POST /users."));
    assert!(text.contains(
        "      curl -i --max-time 10 -X POST -H 'Authorization: <redacted>' -H 'Content-Type: application/json' --data-binary '{\"email\":null}' 'http://127.0.0.1:8080/users'"
    ));
    assert!(
        text.contains("      │ Traceback (most recent call last):"),
        "{text}"
    );
}

#[test]
fn escape_sequences_from_the_target_are_neutralised() {
    let mut report = common::sample_report();
    report.findings[0].summary = "boom\u{1b}]52;c;cHduZWQ=\u{07} \u{9b}31mred".into();
    report.findings[0].operation = "POST /users\u{1b}[2K".into();
    report.target = "http://127.0.0.1:8080\u{1b}[8m".into();
    report.assumptions[0].observed = "1ms\r\u{1b}[1A".into();
    for color in [false, true] {
        let text = render_terminal(&report, TerminalStyle { color, width: 100 });
        // The excerpt's "\x1b[2J", "\x1b]0;pwned\x07" and "\x1b[31m", and the above, are gone.
        assert!(!text.contains("[2J"), "{text}");
        assert!(!text.contains("pwned"), "{text}");
        assert!(!text.contains("52;c"), "{text}");
        assert!(!text.contains('\u{07}'));
        assert!(!text.contains('\u{9b}'));
        assert!(!text.contains('\r'));
        assert!(
            text.contains("KeyError: 'email'"),
            "the text around them is kept"
        );
        if !color {
            assert!(!text.contains('\u{1b}'), "{text}");
        } else {
            // The only escapes are our own colors: ESC [ digits/; m.
            for (i, _) in text.match_indices('\u{1b}') {
                let rest = &text[i + 1..];
                let sgr = rest.starts_with('[')
                    && rest[1..].find('m').is_some_and(|end| {
                        rest[1..1 + end]
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == ';')
                    });
                assert!(
                    sgr,
                    "foreign escape at {i}: {:?}",
                    &rest[..rest.len().min(12)]
                );
            }
        }
    }
}

#[test]
fn interrupted_runs_say_so() {
    let mut report = common::sample_report();
    report.interrupted = true;
    report.duration_s = 4.2;
    let text = render_terminal(&report, TerminalStyle::plain(100));
    assert!(text.contains("4.2s of 10.0s"), "{text}");
    assert!(
        text.contains("interrupted: the run was stopped before its planned end"),
        "{text}"
    );
    assert!(!plain(100).contains("interrupted"));
}

#[test]
fn a_clean_run_is_short() {
    let mut report = common::sample_report();
    report.findings.clear();
    report.assumptions.clear();
    report.stats.operations.truncate(1);
    let text = render_terminal(&report, TerminalStyle::plain(100));
    assert!(text.contains("findings  none"), "{text}");
    assert!(text.lines().count() <= 10, "{text}");
}

#[test]
fn many_findings_are_capped() {
    let mut report = common::sample_report();
    let template = report.findings[2].clone();
    report.findings = (1..=30)
        .map(|i| {
            let mut f = template.clone();
            f.id = format!("F{i}");
            f
        })
        .collect();
    let text = render_terminal(&report, TerminalStyle::plain(100));
    assert!(text.contains("F20 "), "{text}");
    assert!(!text.contains("F21 "), "{text}");
    let kind = template.kind.as_str();
    assert!(
        text.contains(&format!("… 10 more findings in report.json: 10 {kind}")),
        "{text}"
    );
}

#[test]
fn a_kind_found_late_is_shown_among_the_capped_findings() {
    let mut report = common::sample_report();
    let template = report.findings[2].clone();
    let mut late = report.findings[0].clone();
    late.kind = unruly_core::FindingKind::MemoryGrowth;
    report.findings = (1..=30)
        .map(|i| {
            let mut f = template.clone();
            f.id = format!("F{i}");
            f
        })
        .collect();
    late.id = "F31".to_owned();
    report.findings.push(late);
    let text = render_terminal(&report, TerminalStyle::plain(100));
    assert!(
        text.contains("F31 "),
        "the only finding of its kind is shown: {text}"
    );
    assert!(text.contains("F19 "), "{text}");
    assert!(!text.contains("F20 "), "{text}");
    assert!(text.contains("… 11 more findings in report.json"), "{text}");
}

#[test]
fn no_requests_shows_dashes_not_zeros() {
    let mut report = common::sample_report();
    report.stats = Default::default();
    report.findings.clear();
    let text = render_terminal(&report, TerminalStyle::plain(100));
    let latency = line_with(&text, "latency");
    assert!(latency.trim_end().ends_with('-'), "{latency}");
}
