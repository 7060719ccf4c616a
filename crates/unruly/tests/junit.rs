//! junit.xml, read by a real consumer: Python's junitparser (installed by scripts/test).

mod common;

use common::*;
use std::process::Command;
use unruly_demo::{DemoHandle, Variant};

#[test]
fn junit_xml_has_a_case_per_assumption_and_per_finding_and_junitparser_reads_it() {
    let demo = DemoHandle::start(Variant::Buggy).expect("the demo starts");
    let dir = temp_dir("junit");
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"
[target]
url = "{}"

[[operation]]
name = "search"
path = "/search?q=%3Cscript%3E%26'"

[workload]
users = 2
requests = 50

[[assumption]]
check = 'p99 < "10s"'

[[assumption]]
check = 'error_rate < 0.1%'
"#,
            demo.base_url()
        ),
    )
    .expect("write the scenario");
    let (output, _) = run(&[
        "run",
        scenario.to_str().expect("UTF-8"),
        "-q",
        "--report-dir",
        dir.to_str().expect("UTF-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    let findings = report["findings"].as_array().expect("findings").len();
    assert!(findings > 0, "the search answers 500s: {}", text(&output));
    let script = r#"
import sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    failed = sum(1 for case in suite if any(isinstance(r, Failure) for r in case.result))
    print(suite.name, suite.tests, suite.failures, failed, len(list(suite)))
"#;
    let parsed = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.join("junit.xml"))
        .output()
        .expect("python3 runs");
    assert!(
        parsed.status.success(),
        "junitparser reads junit.xml (scripts/test installs it): {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let lines = String::from_utf8_lossy(&parsed.stdout).into_owned();
    let kinds_by_operation: std::collections::BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default().to_owned(),
                f["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = format!(
        "assumptions 2 1 1 2\nfindings {0} {0} {0} {0}\n",
        kinds_by_operation.len()
    );
    assert_eq!(
        lines, expected,
        "suites: name, tests, failures, failed cases, cases"
    );
}
