//! report.html: escaped, self-contained, locked down by its Content-Security-Policy,
//! with its charts, and bounded in size.

mod common;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use unruly_core::{
    BehaviourWindow, FaultWindow, MetricPoint, ProcessExit, ProcessSample, Report, ScrapedSeries,
    TargetWatch, Window,
};
use unruly_report::{render_html, write_report_html, HTML_FILE};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";
const PRE: &str = "</pre>";

/// The shared sample report with hostile markup in every field a target can fill,
/// and a watched process, scraped series, faults and behaviours.
fn hostile_report() -> Report {
    let mut report = common::sample_report();
    let payload = format!("{SCRIPT} {IMG} {PRE}");
    report.target = format!("http://127.0.0.1:8080/{payload}");
    let finding = &mut report.findings[0];
    finding.summary = format!("POST /users answered 500: {payload}");
    finding.operation = format!("POST /users{payload}");
    finding.evidence.request = format!("POST http://127.0.0.1:8080/users\n\n{payload}");
    finding.evidence.excerpt = Some(format!("{payload}\n{}", common::HOSTILE_EXCERPT));
    finding.evidence.measurements.insert(payload.clone(), 1.0);
    finding.reproduce = format!("curl -i 'http://127.0.0.1:8080/users' --data-binary '{payload}'");
    report.assumptions[1].name = format!("error_rate < 1% {payload}");
    report.assumptions[1].observed = payload.clone();
    report.settings.operations.push(payload.clone());
    report.faults.push(FaultWindow {
        name: format!("db latency {payload}"),
        dependency: payload.clone(),
        start_s: 1.0,
        end_s: 2.0,
    });
    report.behaviours.push(BehaviourWindow {
        name: format!("burst {payload}"),
        start_s: 0.5,
        end_s: 1.5,
    });
    report.watch = Some(TargetWatch {
        source: format!("spawned: ./server {payload}"),
        pid: Some(4242),
        samples: (0..12)
            .map(|i| ProcessSample {
                t_s: i as f64 * 0.25,
                rss_bytes: (40 + i) << 20,
                cpu_percent: 50.0 + i as f64,
                threads: 8,
                fds: 20 + i,
            })
            .collect(),
        exit: Some(ProcessExit {
            t_s: 2.9,
            how: format!("exit status 3 {payload}"),
            restarted: false,
        }),
        log_lines: 12,
        scraped: vec![ScrapedSeries {
            name: format!("http_requests_total{{code=\"500\",x=\"{payload}\"}}"),
            points: (0..4)
                .map(|i| MetricPoint {
                    t_s: i as f64,
                    value: i as f64 * 10.0,
                })
                .collect(),
        }],
    });
    report
}

/// The value of the first `name="..."` attribute after `from` in `html`.
fn attribute<'a>(html: &'a str, from: &str, name: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from} is in the page"));
    let rest = &html[start..];
    let key = format!("{name}=\"");
    let at = rest.find(&key).expect("the attribute") + key.len();
    let end = rest[at..].find('"').expect("a closing quote");
    &rest[at..at + end]
}

#[test]
fn hostile_text_appears_only_escaped() {
    let html = render_html(&hostile_report());
    for raw in [SCRIPT, IMG, "<img", "onerror=\"", "<script>alert"] {
        assert!(!html.contains(raw), "{raw} appears unescaped");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;/pre&gt;"));
    // One script element, ours; every <pre> closed by its own </pre>.
    assert_eq!(html.matches("<script").count(), 1);
    assert_eq!(html.matches("<pre").count(), html.matches("</pre>").count());
    // Terminal escape sequences in the excerpt are shown, not passed through.
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains("\\x1b[2J"));
}

#[test]
fn the_policy_forbids_the_network_and_names_the_one_script_by_its_hash() {
    let html = render_html(&hostile_report());
    let policy = attribute(&html, "http-equiv=\"Content-Security-Policy\"", "content");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(policy.contains("img-src data:"), "{policy}");
    assert!(!policy.contains("unsafe-inline';") || policy.contains("style-src 'unsafe-inline'"));
    let hash = policy
        .split("script-src '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("script-src names a hash");
    let start = html.find("<script>").expect("the script") + "<script>".len();
    let end = html[start..].find("</script>").expect("its end") + start;
    let digest = Sha256::digest(&html.as_bytes()[start..end]);
    let expected = format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    assert_eq!(hash, expected);
    // The policy comes before anything it governs.
    assert!(html.find("Content-Security-Policy").unwrap() < html.find("<style").unwrap());
}

#[test]
fn nothing_is_loaded_from_the_network() {
    let html = render_html(&hostile_report());
    for attr in [
        " src=\"",
        " href=\"",
        " action=\"",
        " srcset=\"",
        " xlink:href=\"",
    ] {
        for (at, _) in html.match_indices(attr) {
            let value = &html[at + attr.len()..];
            assert!(
                value.starts_with('#') || value.starts_with("data:"),
                "{attr} points outside the page: {}",
                &value[..value.len().min(80)]
            );
        }
    }
    for forbidden in [
        "<link", "<iframe", "<object", "<embed", "@import", "url(", "<base",
    ] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    // The only network-looking text outside escaped content is the SVG namespace.
    let unescaped_urls = ["=\"http://", "=\"https://", "=\"//"]
        .iter()
        .flat_map(|url| html.match_indices(url))
        .filter(|(at, _)| !html[..*at].ends_with("xmlns"))
        .count();
    assert_eq!(unescaped_urls, 0);
}

#[test]
fn charts_sections_and_findings_are_present() {
    let report = hostile_report();
    let html = render_html(&report);
    for key in [
        "latency", "rps", "errors", "memory", "cpu", "process", "scraped",
    ] {
        assert!(
            html.contains(&format!("class=\"chart\" data-chart=\"{key}\"")),
            "the {key} chart"
        );
    }
    assert!(html.contains("<path class=\"series\" d=\"M"));
    assert!(html.contains("data-kind=\"fault\""));
    assert!(html.contains("data-kind=\"behaviour\""));
    for finding in &report.findings {
        assert!(html.contains(&format!("id=\"{}\"", finding.id)));
        assert!(html.contains(&format!("data-copy=\"{}-reproduce\"", finding.id)));
    }
    assert_eq!(html.matches("<article class=\"finding").count(), 3);
    for section in [
        "charts",
        "findings",
        "assumptions",
        "operations",
        "settings",
    ] {
        assert!(html.contains(&format!("id=\"{section}\"")), "{section}");
    }
    assert!(html.contains("✗ broken") && html.contains("✓ held"));
    assert!(html.contains("3 findings · 1 of 2 assumptions broken"));
    assert!(html.contains("unruly 0.1.0"));
    assert!(!html.contains("interrupted\""), "not interrupted");
}

#[test]
fn an_empty_timeline_still_renders_the_stats_findings_and_memory() {
    let mut report = hostile_report();
    report.timeline.clear();
    report.command = "explore".into();
    report.interrupted = true;
    let html = render_html(&report);
    assert!(html.contains("no per-second timeline"));
    assert!(!html.contains("data-chart=\"latency\""));
    assert!(html.contains("data-chart=\"memory\""));
    assert_eq!(html.matches("<article class=\"finding").count(), 3);
    assert!(html.contains("class=\"badge interrupted\""));

    let mut bare = common::sample_report();
    bare.timeline.clear();
    bare.findings.clear();
    bare.assumptions.clear();
    let html = render_html(&bare);
    assert!(html.contains("Nothing else was sampled over time."));
    assert!(html.contains("No findings."));
    assert!(!html.contains("<svg"));
}

#[test]
fn a_huge_report_stays_bounded() {
    let mut report = common::sample_report();
    let window = report.timeline[0].clone();
    report.timeline = (0..3600)
        .map(|t| Window {
            t_s: t,
            ..window.clone()
        })
        .collect();
    let finding = report.findings[0].clone();
    report.findings = (0..10_000)
        .map(|i| {
            let mut f = finding.clone();
            f.id = format!("F{}", i + 1);
            f
        })
        .collect();
    let html = render_html(&report);
    assert!(html.len() < 4 << 20, "{} bytes", html.len());
    assert_eq!(html.matches("<article class=\"finding").count(), 200);
    assert!(html.contains("Showing 200 of 10000 findings in full"));
    for (at, _) in html.match_indices("<path class=\"series\" d=\"") {
        let d = &html[at..];
        let d = &d[..d.find("\" ").expect("end of d")];
        assert!(d.matches('L').count() < 600, "a series is thinned");
    }
}

#[test]
fn report_html_is_written_next_to_report_json() {
    let dir = common::temp_dir("html");
    let path = write_report_html(&common::sample_report(), &dir).expect("write report.html");
    assert_eq!(path, dir.join(HTML_FILE));
    assert_eq!(HTML_FILE, "report.html");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with("<!DOCTYPE html>"));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["report.html".to_string()],
        "no temporary file left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
