//! `unruly demo` explores and loads the demo service: it finds every planted
//! input bug and the global lock, and nothing in the
//! correct twin.

mod common;

use common::*;
use std::collections::BTreeSet;

fn demo(correct: bool) -> serde_json::Value {
    let dir = temp_dir(if correct {
        "demo-correct"
    } else {
        "demo-buggy"
    });
    let mut args = vec!["demo", "-q", "--report-dir", dir.to_str().unwrap()];
    if correct {
        args.push("--correct");
    }
    let (output, _) = run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("report.json"),
        "the demo says where the report is: {stdout}"
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn demo_finds_every_planted_input_bug_and_the_lock() {
    let report = demo(false);
    let found: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["operation"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Every planted bug that inputs alone show must be found by the exploration.
    for bug in unruly_demo::PLANTED_BUGS
        .iter()
        .filter(|b| b.trigger == unruly_demo::Trigger::Input)
    {
        assert!(
            found.contains(&(bug.operation.to_string(), bug.kind.to_string())),
            "missed {} {} ({}); found {found:?}",
            bug.kind,
            bug.operation,
            bug.description
        );
    }
    let broken: Vec<&str> = report["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["held"] == false)
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        broken.iter().any(|name| name.contains("POST /orders")),
        "the global lock breaks the orders p99: {broken:?}"
    );
    for finding in report["findings"].as_array().unwrap() {
        // Requests are reproduced with curl; a bottleneck with the load that breaks it.
        let tool = if finding["kind"] == "latency_under_load" {
            "unruly load "
        } else {
            "curl "
        };
        assert!(
            finding["reproduce"].as_str().unwrap().contains(tool),
            "{finding:#}"
        );
    }
}

#[test]
fn demo_correct_twin_has_no_findings() {
    let report = demo(true);
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{:#}",
        report["findings"]
    );
    assert!(
        report["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["held"] == true),
        "{:#}",
        report["assumptions"]
    );
}
