//! The committed JSON Schema is current, and real reports conform to it.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use unruly_report::report_schema;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json")
}

fn committed() -> Value {
    let text = std::fs::read_to_string(committed_path()).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nregenerate it with: UPDATE_SCHEMA=1 cargo test -p unruly-report --test schema",
            committed_path().display()
        )
    });
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&committed()).expect("the committed schema is a valid JSON Schema")
}

#[test]
fn committed_schema_matches_the_report_types() {
    let generated = report_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1") {
        let mut text = serde_json::to_string_pretty(&generated).expect("schema to JSON");
        text.push('\n');
        // Renamed into place: the other tests of this file may be reading it.
        let tmp = committed_path().with_extension("json.tmp");
        std::fs::write(&tmp, text).expect("write the schema");
        std::fs::rename(&tmp, committed_path()).expect("replace the committed schema");
        return;
    }
    assert!(
        committed() == generated,
        "\n{} is out of date with unruly_core::Report.\n\
         If the change is deliberate, regenerate it:\n\n    UPDATE_SCHEMA=1 cargo test -p unruly-report --test schema\n\n\
         and bump unruly_core::SCHEMA_VERSION if the change is incompatible (a field removed, renamed or retyped).\n",
        committed_path().display()
    );
}

#[test]
fn a_realistic_report_is_valid() {
    let report = common::sample_report();
    let json: Value =
        serde_json::from_str(&unruly_report::render_load_json(&report)).expect("JSON");
    let errors: Vec<String> = validator()
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match the schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn an_interrupted_empty_report_is_valid() {
    let mut report = common::sample_report();
    report.interrupted = true;
    report.findings.clear();
    report.assumptions.clear();
    report.timeline.clear();
    report.settings.planned_duration_s = None;
    report.settings.planned_requests = Some(1000);
    report.settings.stages = vec!["ramp 10/s to 100/s over 5s".into()];
    let json = serde_json::to_value(&report).expect("JSON");
    assert!(validator().is_valid(&json));
}

#[test]
fn a_report_without_findings_is_invalid() {
    let mut json = serde_json::to_value(common::sample_report()).expect("JSON");
    json.as_object_mut().expect("an object").remove("findings");
    assert!(!validator().is_valid(&json));
}

#[test]
fn wrong_types_are_invalid() {
    let valid = serde_json::to_value(common::sample_report()).expect("JSON");
    type Break = fn(&mut Value);
    let cases: [(&str, Break); 5] = [
        ("seed as a string", |j| j["seed"] = "42".into()),
        ("findings as an object", |j| {
            j["findings"] = serde_json::json!({})
        }),
        ("unknown finding kind", |j| {
            j["findings"][0]["kind"] = "made_up".into()
        }),
        ("negative request count", |j| {
            j["stats"]["overall"]["requests"] = (-1).into()
        }),
        ("severity not in the list", |j| {
            j["findings"][0]["severity"] = "urgent".into()
        }),
    ];
    let validator = validator();
    for (what, break_it) in cases {
        let mut json = valid.clone();
        break_it(&mut json);
        assert!(!validator.is_valid(&json), "{what} was accepted");
    }
}
