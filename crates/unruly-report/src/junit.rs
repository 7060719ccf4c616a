//! `junit.xml`: the report as JUnit XML, so that CI systems show it. A test case per
//! assumption (failed when broken) and per finding kind × operation (always failed: a
//! finding is a problem found).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use unruly_core::{Finding, Report};

/// The name of the JUnit file in a run's output directory.
pub const JUNIT_FILE: &str = "junit.xml";

/// The report as a JUnit XML document.
pub fn render_junit(report: &Report) -> String {
    let mut findings: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        findings
            .entry((finding.kind.as_str().to_owned(), finding.operation.clone()))
            .or_default()
            .push(finding);
    }
    let broken = report.assumptions.iter().filter(|a| !a.held).count();
    let tests = report.assumptions.len() + findings.len();
    let failures = broken + findings.len();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" time=\"{:.3}\">",
        escaped(&format!("unruly {} {}", report.command, report.target)),
        report.duration_s
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"assumptions\" tests=\"{}\" failures=\"{broken}\" time=\"{:.3}\" timestamp=\"{}\">",
        report.assumptions.len(),
        report.duration_s,
        escaped(&report.started_at)
    );
    for assumption in &report.assumptions {
        let _ = write!(
            xml,
            "    <testcase classname=\"unruly.assumptions\" name=\"{}\" time=\"0\"",
            escaped(&assumption.name)
        );
        if assumption.held {
            xml.push_str("/>\n");
        } else {
            let message = format!(
                "observed {} · expected {}",
                assumption.observed, assumption.expected
            );
            let _ = writeln!(
                xml,
                ">\n      <failure type=\"broken_assumption\" message=\"{}\">{}</failure>\n    </testcase>",
                escaped(&message),
                escaped(&message)
            );
        }
    }
    xml.push_str("  </testsuite>\n");
    let _ = writeln!(
        xml,
        "  <testsuite name=\"findings\" tests=\"{0}\" failures=\"{0}\" time=\"{1:.3}\" timestamp=\"{2}\">",
        findings.len(),
        report.duration_s,
        escaped(&report.started_at)
    );
    for ((kind, operation), group) in &findings {
        let first = group[0];
        let mut body = String::new();
        for finding in group {
            let _ = writeln!(
                body,
                "{} {} (seen {}×)",
                finding.id, finding.summary, finding.count
            );
            if let Some(excerpt) = &finding.evidence.excerpt {
                let _ = writeln!(body, "{excerpt}");
            }
            let _ = writeln!(body, "reproduce:\n{}\n", finding.reproduce);
        }
        let _ = writeln!(
            xml,
            "    <testcase classname=\"unruly.findings.{}\" name=\"{}\" time=\"0\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
            escaped(kind),
            escaped(operation),
            escaped(kind),
            escaped(&first.summary),
            escaped(&body)
        );
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Writes `dir/junit.xml` and returns its path.
pub fn write_junit_xml(report: &Report, dir: &Path) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(JUNIT_FILE);
    let tmp = dir.join(format!(".{JUNIT_FILE}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, render_junit(report))?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Text for an attribute value or an element's content: escaped, with the characters
/// XML 1.0 cannot hold dropped.
fn escaped(value: &str) -> String {
    quick_xml::escape::escape(xml_chars(value)).into_owned()
}

/// Keeps the characters XML 1.0 allows (a target's bytes may hold control characters).
fn xml_chars(value: &str) -> String {
    value
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_a_target_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            escaped("<img src=x onerror=alert(1)> & \u{1}\u{8}ok\n"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; ok\n"
        );
        assert_eq!(
            escaped("say \"hi\" 'there'"),
            "say &quot;hi&quot; &apos;there&apos;"
        );
    }
}
