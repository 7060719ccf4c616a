//! `unruly init` writes a starter scenario that runs as-is.

mod common;

use common::*;
use unruly_demo::{DemoHandle, Variant};

#[test]
fn starter_from_the_demo_openapi_runs_against_the_demo() {
    let demo = DemoHandle::start(Variant::Correct).unwrap();
    let dir = temp_dir("init");
    let spec = dir.join("openapi.json");
    std::fs::write(&spec, unruly_demo::openapi_json()).unwrap();
    let scenario = dir.join("unruly.toml");
    let (output, _) = run(&[
        "init",
        "--target",
        &demo.base_url(),
        "--openapi",
        spec.to_str().unwrap(),
        "-o",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let text_of_scenario = std::fs::read_to_string(&scenario).unwrap();
    assert!(
        text_of_scenario.contains("GET /products"),
        "{text_of_scenario}"
    );
    assert!(
        text_of_scenario
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            > 10,
        "commented"
    );
    // Writing again without --force refuses.
    let (again, _) = run(&["init", "-o", scenario.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    // Shorten the run, then run it as written.
    let short = text_of_scenario.replace("duration = \"10s\"", "duration = \"1s\"");
    std::fs::write(&scenario, short).unwrap();
    let report_dir = dir.join("report");
    let (output, took) = run(&[
        "run",
        scenario.to_str().unwrap(),
        "--report-dir",
        report_dir.to_str().unwrap(),
        "-q",
        "--json",
    ]);
    assert!(
        matches!(output.status.code(), Some(0) | Some(1)),
        "{}",
        text(&output)
    );
    assert!(took.as_secs() < 20);
    let report = json(&output);
    assert!(report["stats"]["overall"]["requests"].as_u64().unwrap() > 0);
    assert!(report["stats"]["operations"].as_array().unwrap().len() >= 2);
}

#[test]
fn starter_without_openapi_parses() {
    let (output, _) = run(&["init", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let dir = temp_dir("init-plain");
    let path = dir.join("s.toml");
    std::fs::write(&path, &output.stdout).unwrap();
    // A closed port: the scenario parses, and the run stops at the preflight (exit 2, unreachable).
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (output, _) = run(&[
        "run",
        path.to_str().unwrap(),
        "--target",
        &url,
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("unreachable"),
        "{}",
        text(&output)
    );
}
