//! `[[behaviour]]` tables and `[target] health`: what they parse to, and every
//! error at its exact place.

use std::time::Duration;
use unruly_core::{
    Behaviour, BehaviourKind, BehaviourSchedule, Expectation, Invariant, Plan, SlowMode,
};
use unruly_plan::parse_scenario_with_env;

fn no_env(_: &str) -> Option<String> {
    None
}

fn plan(source: &str) -> Plan {
    match parse_scenario_with_env(source, "s.toml", &no_env) {
        Ok(plan) => plan,
        Err(errors) => panic!("expected a plan, got:\n{errors}"),
    }
}

fn errors(source: &str) -> Vec<String> {
    match parse_scenario_with_env(source, "s.toml", &no_env) {
        Ok(plan) => panic!("expected errors, got {plan:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn one_error(source: &str) -> String {
    let errors = errors(source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap_or_default()
}

/// Lines 1-8; behaviours start on line 9.
const BASE: &str = r#"[target]
url = "http://h"
[[operation]]
name = "POST /accounts/{id}/withdraw"
method = "POST"
path = "/accounts/1/withdraw"
[[operation]]
path = "/accounts/1"
"#;

/// `BASE` with `behaviour` after it.
fn with(behaviour: &str) -> String {
    format!("{BASE}{behaviour}")
}

fn invariant(read: &str, expect: &str) -> Invariant {
    let (method, path) = read.split_once(' ').unwrap();
    Invariant {
        read_method: method.to_string(),
        read_path: path.to_string(),
        expect: Expectation::parse(expect).unwrap(),
        written: expect.to_string(),
    }
}

const FULL: &str = r#"[target]
url = "http://127.0.0.1:8080"
health = "/health"

[[operation]]
name = "POST /accounts/{id}/withdraw"
method = "POST"
path = "/accounts/1/withdraw"
json = { amount = 100 }

[[operation]]
name = "GET /accounts/{id}"
path = "/accounts/1"

[workload]
duration = "30s"

[[behaviour]]
kind = "burst"
operation = "POST /accounts/{id}/withdraw"
count = 20
at = "5s"
invariant = { read = "GET /accounts/{id}", expect = "$.balance >= 0" }

[[behaviour]]
name = "double click"
kind = "double_submit"
operation = "POST /accounts/{id}/withdraw"
idempotency_key = true
every = "10s"

[[behaviour]]
kind = "double_submit"
operation = "POST /accounts/{id}/withdraw"
count = 3
idempotency_key = "X-Request-Key"
at = "1.5s"
every = "5s"
times = 3
[behaviour.invariant]
read = "get  /accounts/{id}?full=1"
expect = 'len($.moves) <= 1 && $.owner == "ann"'

[[behaviour]]
kind = "refresh_storm"
operation = "GET /accounts/{id}"

[[behaviour]]
kind = "refresh_storm"
operation = "GET /accounts/{id}"
tabs = 100
duration = "3s"
abandon = 1

[[behaviour]]
kind = "slow_clients"
mode = "headers"
operation = "GET /accounts/{id}"

[[behaviour]]
name = "slow readers"
kind = "slow_clients"
mode = "read"
operation = "GET /accounts/{id}"
clients = 10
duration = "1s"
bytes_per_second = 512

[[behaviour]]
kind = "slow_clients"
mode = "upload"
operation = "POST /accounts/{id}/withdraw"
"#;

#[test]
fn full_example_maps_to_behaviours() {
    let plan = plan(FULL);
    assert_eq!(plan.target.health.as_deref(), Some("/health"));
    let once = |at: u64| BehaviourSchedule {
        at: Duration::from_millis(at),
        every: None,
        times: 1,
    };
    let withdraw = "POST /accounts/{id}/withdraw".to_string();
    let read = "GET /accounts/{id}".to_string();
    let expected = vec![
        Behaviour {
            name: "behaviour 1".into(),
            kind: BehaviourKind::Burst {
                operation: withdraw.clone(),
                count: 20,
                invariant: Some(invariant("GET /accounts/{id}", "$.balance >= 0")),
            },
            schedule: once(5000),
        },
        Behaviour {
            name: "double click".into(),
            kind: BehaviourKind::DoubleSubmit {
                operation: withdraw.clone(),
                count: 2,
                idempotency_key: Some("Idempotency-Key".into()),
                invariant: None,
            },
            schedule: BehaviourSchedule {
                at: Duration::ZERO,
                every: Some(Duration::from_secs(10)),
                times: u32::MAX,
            },
        },
        Behaviour {
            name: "behaviour 3".into(),
            kind: BehaviourKind::DoubleSubmit {
                operation: withdraw.clone(),
                count: 3,
                idempotency_key: Some("X-Request-Key".into()),
                invariant: Some(invariant(
                    "GET /accounts/{id}?full=1",
                    r#"len($.moves) <= 1 && $.owner == "ann""#,
                )),
            },
            schedule: BehaviourSchedule {
                at: Duration::from_millis(1500),
                every: Some(Duration::from_secs(5)),
                times: 3,
            },
        },
        Behaviour {
            name: "behaviour 4".into(),
            kind: BehaviourKind::RefreshStorm {
                operation: read.clone(),
                tabs: 20,
                duration: Duration::from_secs(2),
                abandon: 0.25,
            },
            schedule: once(0),
        },
        Behaviour {
            name: "behaviour 5".into(),
            kind: BehaviourKind::RefreshStorm {
                operation: read.clone(),
                tabs: 100,
                duration: Duration::from_secs(3),
                abandon: 1.0,
            },
            schedule: once(0),
        },
        Behaviour {
            name: "behaviour 6".into(),
            kind: BehaviourKind::SlowClients {
                mode: SlowMode::Headers,
                operation: read.clone(),
                clients: 64,
                duration: Duration::from_secs(5),
                bytes_per_second: 1,
            },
            schedule: once(0),
        },
        Behaviour {
            name: "slow readers".into(),
            kind: BehaviourKind::SlowClients {
                mode: SlowMode::Read,
                operation: read.clone(),
                clients: 10,
                duration: Duration::from_secs(1),
                bytes_per_second: 512,
            },
            schedule: once(0),
        },
        Behaviour {
            name: "behaviour 8".into(),
            kind: BehaviourKind::SlowClients {
                mode: SlowMode::Upload,
                operation: withdraw,
                clients: 64,
                duration: Duration::from_secs(5),
                bytes_per_second: 1,
            },
            schedule: once(0),
        },
    ];
    assert_eq!(plan.behaviours, expected);
}

#[test]
fn scenarios_without_behaviours_have_none() {
    let base = plan(BASE);
    assert!(base.behaviours.is_empty());
    assert_eq!(base.target.health, None);
    let empty = plan(&format!("behaviour = []\n{BASE}"));
    assert!(empty.behaviours.is_empty());
}

#[test]
fn inline_array_of_behaviours_works_too() {
    let source = format!(
        "behaviour = [{{ kind = \"refresh_storm\", operation = \"GET /accounts/1\" }}]\n{BASE}"
    );
    let plan = plan(&source);
    assert_eq!(plan.behaviours.len(), 1);
    assert_eq!(plan.behaviours[0].kind.name(), "refresh_storm");
    assert_eq!(plan.behaviours[0].kind.operation(), "GET /accounts/1");
}

#[test]
fn unknown_operation_lists_the_names() {
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = \"burst\"\noperation = \"POST /withdraw\"\n"
        )),
        "s.toml:11:13: no operation is named \"POST /withdraw\": expected one of \"POST /accounts/{id}/withdraw\", \"GET /accounts/1\""
    );
    assert_eq!(
        one_error(&with("[[behaviour]]\nkind = \"burst\"\n")),
        "s.toml:9:1: [[behaviour]] has no `operation`: expected operation = the name of an [[operation]] (one of \"POST /accounts/{id}/withdraw\", \"GET /accounts/1\")"
    );
}

#[test]
fn kind_errors() {
    assert_eq!(
        one_error(&with("[[behaviour]]\nkind = \"bursts\"\noperation = \"GET /accounts/1\"\n")),
        "s.toml:10:8: kind \"bursts\" is not a behaviour: expected \"burst\", \"double_submit\", \"refresh_storm\" or \"slow_clients\" (did you mean \"burst\"?)"
    );
    assert_eq!(
        one_error(&with("[[behaviour]]\noperation = \"GET /accounts/1\"\n")),
        "s.toml:9:1: [[behaviour]] has no `kind`: expected kind = \"burst\", \"double_submit\", \"refresh_storm\" or \"slow_clients\""
    );
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = 3\noperation = \"GET /accounts/1\"\n"
        )),
        "s.toml:10:8: `kind` in [[behaviour]]: expected a string, found an integer (3)"
    );
}

#[test]
fn unknown_and_misplaced_keys() {
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\ncout = 3\n"
        )),
        "s.toml:12:1: unknown field `cout` in [[behaviour]]: expected one of kind, name, operation, at, every, times, count, invariant (did you mean `count`?)"
    );
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\ntabs = 3\n"
        )),
        "s.toml:12:1: `tabs` in [[behaviour]] does not apply to kind = \"burst\" (it is for refresh_storm): expected one of kind, name, operation, at, every, times, count, invariant"
    );
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = \"refresh_storm\"\noperation = \"GET /accounts/1\"\ninvariant = { read = \"GET /a\", expect = \"$.a\" }\n"
        )),
        "s.toml:12:1: `invariant` in [[behaviour]] does not apply to kind = \"refresh_storm\" (it is for burst and double_submit): expected one of kind, name, operation, at, every, times, tabs, duration, abandon"
    );
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = \"slow_clients\"\nmode = \"read\"\noperation = \"GET /accounts/1\"\ninvariant = { read = \"GET /a\", expect = \"$.a\" }\n"
        )),
        "s.toml:13:1: `invariant` in [[behaviour]] does not apply to kind = \"slow_clients\" (it is for burst and double_submit): expected one of kind, name, operation, at, every, times, mode, clients, duration, bytes_per_second"
    );
    // With an unknown kind, every kind's keys are allowed.
    assert_eq!(
        errors(&with(
            "[[behaviour]]\nkind = \"storm\"\noperation = \"GET /accounts/1\"\ntabs = 3\nfoo = 1\n"
        )),
        [
            "s.toml:10:8: kind \"storm\" is not a behaviour: expected \"burst\", \"double_submit\", \"refresh_storm\" or \"slow_clients\"",
            "s.toml:13:1: unknown field `foo` in [[behaviour]]: expected one of kind, name, operation, at, every, times, count, idempotency_key, invariant, tabs, duration, abandon, mode, clients, bytes_per_second",
        ]
    );
}

#[test]
fn wrong_types_and_ranges() {
    let burst = "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\n";
    assert_eq!(
        one_error(&with(&format!("{burst}count = \"20\"\n"))),
        "s.toml:12:9: `count` in [[behaviour]]: expected an integer from 2 to 1000, found a string (\"20\")"
    );
    assert_eq!(
        one_error(&with(&format!("{burst}count = 1\n"))),
        "s.toml:12:9: `count` in [[behaviour]]: expected an integer from 2 to 1000, found 1"
    );
    let submit = "[[behaviour]]\nkind = \"double_submit\"\noperation = \"GET /accounts/1\"\n";
    assert_eq!(
        one_error(&with(&format!("{submit}count = 101\n"))),
        "s.toml:12:9: `count` in [[behaviour]]: expected an integer from 2 to 100, found 101"
    );
    assert_eq!(
        one_error(&with(&format!("{submit}idempotency_key = 3\n"))),
        "s.toml:12:19: `idempotency_key` in [[behaviour]]: expected true, false or a header name such as \"Idempotency-Key\", found an integer (3)"
    );
    assert_eq!(
        one_error(&with(&format!("{submit}idempotency_key = \"Bad Key\"\n"))),
        "s.toml:12:19: \"Bad Key\" is not a valid header name: expected letters, digits and `-`, e.g. \"Idempotency-Key\" (or true for that one)"
    );
    let storm = "[[behaviour]]\nkind = \"refresh_storm\"\noperation = \"GET /accounts/1\"\n";
    assert_eq!(
        errors(&with(&format!(
            "{storm}tabs = 0\nabandon = 1.5\nduration = \"0s\"\n"
        ))),
        [
            "s.toml:12:8: `tabs` in [[behaviour]]: expected an integer from 1 to 10000, found 0",
            "s.toml:13:11: `abandon` in [[behaviour]]: expected a share from 0 to 1, e.g. 0.25, found 1.5",
            "s.toml:14:12: `duration` in [[behaviour]]: expected a duration above 0",
        ]
    );
    assert_eq!(
        one_error(&with(&format!("{storm}abandon = \"half\"\n"))),
        "s.toml:12:11: `abandon` in [[behaviour]]: expected a share from 0 to 1, e.g. 0.25, found a string (\"half\")"
    );
    let slow = "[[behaviour]]\nkind = \"slow_clients\"\noperation = \"GET /accounts/1\"\n";
    assert_eq!(
        one_error(&with(slow)),
        "s.toml:9:1: [[behaviour]] of kind = \"slow_clients\" has no `mode`: expected mode = \"headers\" (a slow request head), \"upload\" (a slow body) or \"read\" (slow reading of the answer)"
    );
    assert_eq!(
        errors(&with(&format!(
            "{slow}mode = \"write\"\nclients = 10001\nbytes_per_second = 0\nduration = \"forever\"\n"
        ))),
        [
            "s.toml:12:8: mode \"write\" is not a slow-client mode: expected \"headers\", \"upload\" or \"read\"",
            "s.toml:13:11: `clients` in [[behaviour]]: expected an integer from 1 to 10000, found 10001",
            "s.toml:14:20: `bytes_per_second` in [[behaviour]]: expected an integer from 1 to 1000000000, found 0",
            "s.toml:15:12: \"forever\" is not a duration: expected e.g. \"300ms\", \"10s\", \"2m\"",
        ]
    );
}

#[test]
fn schedule_errors() {
    let burst = "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\n";
    assert_eq!(
        one_error(&with(&format!("{burst}at = \"soon\"\n"))),
        "s.toml:12:6: \"soon\" is not a duration: expected e.g. \"300ms\", \"10s\", \"2m\""
    );
    assert_eq!(
        one_error(&with(&format!("{burst}every = \"0s\"\n"))),
        "s.toml:12:9: `every` in [[behaviour]]: expected a duration above 0"
    );
    assert_eq!(
        one_error(&with(&format!("{burst}times = 3\n"))),
        "s.toml:12:9: `times` in [[behaviour]]: 3 firings need a period: expected every = \"10s\" as well, or times removed"
    );
    assert_eq!(
        one_error(&with(&format!("{burst}every = \"1s\"\ntimes = 0\n"))),
        "s.toml:13:9: `times` in [[behaviour]]: expected an integer from 1 to 4294967295, found 0"
    );
    // The default run lasts 10 s.
    assert_eq!(
        one_error(&with(&format!("{burst}at = \"10s\"\n"))),
        "s.toml:12:6: `at` in [[behaviour]]: 10s is not before the run ends (after 10s): expected an earlier time, or a longer run"
    );
    // A run bounded by requests has no known end.
    let plan = plan(&format!(
        "{}[workload]\nrequests = 100\n",
        with(&format!("{burst}at = \"1h\"\n"))
    ));
    assert_eq!(plan.behaviours[0].schedule.at, Duration::from_secs(3600));
}

#[test]
fn duplicate_names() {
    let b = "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\nname = \"x\"\n";
    assert_eq!(
        one_error(&with(&format!("{b}{b}"))),
        "s.toml:16:8: behaviour name \"x\" is already used on line 12: expected each [[behaviour]] to have its own `name`"
    );
    let unnamed = "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\n";
    let clash = "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\nname = \"behaviour 1\"\n";
    assert_eq!(
        one_error(&with(&format!("{unnamed}{clash}"))),
        "s.toml:15:8: behaviour name \"behaviour 1\" is already used on line 9: expected each [[behaviour]] to have its own `name`"
    );
}

/// A burst on the withdraw operation with this invariant, on line 12.
fn burst_with(invariant: &str) -> String {
    with(&format!(
        "[[behaviour]]\nkind = \"burst\"\noperation = \"POST /accounts/{{id}}/withdraw\"\ninvariant = {invariant}\n"
    ))
}

#[test]
fn invariant_read_errors() {
    // `invariant = { read = ` is 21 characters: the value starts at column 22.
    assert_eq!(
        one_error(&burst_with(r#"{ read = "/accounts/{id}", expect = "$.a" }"#)),
        "s.toml:12:22: `read` in the invariant: \"/accounts/{id}\" has no method: expected \"METHOD /path\", e.g. \"GET /accounts/{id}\""
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "GET", expect = "$.a" }"#)),
        "s.toml:12:22: `read` in the invariant: \"GET\" is not \"METHOD /path\": expected e.g. \"GET /accounts/{id}\""
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "GE-T /a", expect = "$.a" }"#)),
        "s.toml:12:23: \"GE-T\" is not an HTTP method: expected letters A-Z, e.g. \"GET\""
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "GET accounts", expect = "$.a" }"#)),
        "s.toml:12:27: the path \"accounts\" must start with `/`: expected e.g. \"GET /accounts\""
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "GET /a b", expect = "$.a" }"#)),
        "s.toml:12:29: a path cannot contain spaces or control characters: expected them percent-encoded, e.g. %20"
    );
    // `invariant = { read = "GET /users/` is 33 characters: `{user}` is at 34.
    assert_eq!(
        one_error(&burst_with(r#"{ read = "GET /users/{user}", expect = "$.a" }"#)),
        "s.toml:12:34: placeholder {user} in `read` does not appear in the operation \"POST /accounts/{id}/withdraw\": expected one of {id}"
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "GET /users/{{vu}}", expect = "$.a" }"#)),
        "s.toml:12:34: `{` in the path of `read` is not part of a placeholder: expected placeholders such as {id} (letters, digits, `_`, `-`, `.`)"
    );
    assert_eq!(
        one_error(&with(
            "[[behaviour]]\nkind = \"burst\"\noperation = \"GET /accounts/1\"\ninvariant = { read = \"GET /accounts/{id}\", expect = \"$.a\" }\n"
        )),
        "s.toml:12:37: placeholder {id} in `read` does not appear in the operation \"GET /accounts/1\", which has none: expected a path without placeholders, or an operation whose name has {id}"
    );
    assert_eq!(
        errors(&burst_with("{ reed = \"GET /a\" }")),
        [
            "s.toml:12:13: the invariant has no `read`: expected e.g. read = \"GET /accounts/{id}\"",
            "s.toml:12:13: the invariant has no `expect`: expected e.g. expect = \"$.balance >= 0\"",
            "s.toml:12:15: unknown field `reed` in the invariant: expected one of read, expect (did you mean `read`?)",
        ]
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "   ", expect = "$.a" }"#)),
        "s.toml:12:22: `read` in the invariant: \"   \" is not \"METHOD /path\": expected e.g. \"GET /accounts/{id}\""
    );
    assert_eq!(
        one_error(&burst_with(r#"{ read = "POST /a/{id", expect = "$.a" }"#)),
        "s.toml:12:31: `{` in the path of `read` is not part of a placeholder: expected placeholders such as {id} (letters, digits, `_`, `-`, `.`)"
    );
    assert_eq!(
        one_error(&burst_with("\"$.balance >= 0\"")),
        "s.toml:12:13: `invariant` in [[behaviour]]: expected a table such as { read = \"GET /accounts/{id}\", expect = \"$.balance >= 0\" }, found a string (\"$.balance >= 0\")"
    );
}

#[test]
fn invariant_expect_errors_point_inside_the_string() {
    // `invariant = { read = "GET /a", expect = "` is 41 characters: the
    // expectation starts at column 42.
    let at = |expect: &str| {
        one_error(&burst_with(&format!(
            "{{ read = \"GET /a\", expect = {expect} }}"
        )))
    };
    assert_eq!(
        at(r#""$.balance >=""#),
        "s.toml:12:54: expected a value after `>=` (a path such as `$.balance`, a number, a string, true, false, null, len($.items) or `(`), found the end of the expression"
    );
    let error = at(r#""$.balance >> 0""#);
    assert!(
        error.starts_with("s.toml:12:53: expected a value after `>`"),
        "{error}"
    );
    let error = at(r#"'balance >= 0'"#);
    assert!(
        error.starts_with("s.toml:12:42: expected a value")
            && error.ends_with("found `balance`: paths start with `$`, e.g. `$.balance`"),
        "{error}"
    );
    assert_eq!(
        at(r#"'($.a > 1'"#),
        "s.toml:12:50: expected `)` to close the `(`, found the end of the expression"
    );
    assert_eq!(
        at(r#"'$.name == "ann'"#),
        "s.toml:12:52: the string is not closed: expected a closing \""
    );
    // Escapes before the problem are walked: `\"ann\" ` is 8 characters
    // as written, 6 decoded.
    assert_eq!(
        at(r#""$.name == \"ann\" & 1""#),
        "s.toml:12:60: expected `&&`, found `&`"
    );
    // Characters, not bytes: `é` is one column.
    assert_eq!(
        at(r#"'$["é"] >= '"#),
        "s.toml:12:52: expected a value after `>=` (a path such as `$.balance`, a number, a string, true, false, null, len($.items) or `(`), found the end of the expression"
    );
    // A multi-line literal string: the line and column of the character.
    let source = burst_with("{ read = \"GET /a\", expect = '''\n$.a &&\n  $.b >>''' }");
    assert_eq!(
        one_error(&source),
        "s.toml:14:8: expected a value after `>` (a path such as `$.balance`, a number, a string, true, false, null, len($.items) or `(`), found `>`"
    );
}

#[test]
fn health_must_be_a_path() {
    let source = "[target]\nurl = \"http://h\"\nhealth = \"health\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:3:11: health path \"health\" must start with `/`: expected a path on the target, e.g. \"/health\""
    );
    let source =
        "[target]\nurl = \"http://h\"\nhealth = \"/he alth\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:3:14: a path cannot contain spaces or control characters: expected them percent-encoded, e.g. %20"
    );
    let source = "[target]\nurl = \"http://h\"\nhealth = true\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:3:10: `health` in [target]: expected a string, found a boolean (true)"
    );
    let plan = plan(
        "[target]\nurl = \"http://h\"\nhealth = \"/status?deep=1\"\n[[operation]]\npath = \"/\"\n",
    );
    assert_eq!(plan.target.health.as_deref(), Some("/status?deep=1"));
}

#[test]
fn several_errors_are_gathered_in_order() {
    let source = with(
        r#"[[behaviour]]
kind = "burst"
operation = "GET /nope"
count = 0
at = "later"
invariant = { read = "GET /a", expect = "$.a >" }
[[behaviour]]
kind = "slow_clients"
operation = "GET /accounts/1"
tabs = 2
"#,
    );
    assert_eq!(
        errors(&source),
        [
            "s.toml:11:13: no operation is named \"GET /nope\": expected one of \"POST /accounts/{id}/withdraw\", \"GET /accounts/1\"",
            "s.toml:12:9: `count` in [[behaviour]]: expected an integer from 2 to 1000, found 0",
            "s.toml:13:6: \"later\" is not a duration: expected e.g. \"300ms\", \"10s\", \"2m\"",
            "s.toml:14:47: expected a value after `>` (a path such as `$.balance`, a number, a string, true, false, null, len($.items) or `(`), found the end of the expression",
            "s.toml:15:1: [[behaviour]] of kind = \"slow_clients\" has no `mode`: expected mode = \"headers\" (a slow request head), \"upload\" (a slow body) or \"read\" (slow reading of the answer)",
            "s.toml:18:1: `tabs` in [[behaviour]] does not apply to kind = \"slow_clients\" (it is for refresh_storm): expected one of kind, name, operation, at, every, times, mode, clients, duration, bytes_per_second",
        ]
    );
}

/// The `toml` block after `heading` in `text`.
fn toml_block_after<'t>(text: &'t str, heading: &str) -> &'t str {
    let from = text.find(heading).expect("the heading");
    let start = from + text[from..].find("```toml").expect("a toml block") + "```toml".len();
    let end = start + text[start..].find("```").expect("a closed block");
    &text[start..end]
}

const DOC_BASE: &str = r#"[target]
url = "http://h"
[[operation]]
name = "POST /accounts/{id}/withdraw"
method = "POST"
path = "/accounts/1/withdraw"
[[operation]]
name = "GET /accounts/{id}"
path = "/accounts/1"
[workload]
duration = "60s"
"#;

#[test]
fn the_documented_examples_parse() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the workspace README");
    let example = toml_block_after(&readme, "### Behaviours\n");
    let readme_plan = plan(&format!("{DOC_BASE}{example}"));
    assert_eq!(readme_plan.behaviours.len(), 2);
    assert_eq!(readme_plan.behaviours[0].name, "withdraw race");
    assert_eq!(readme_plan.behaviours[0].schedule.times, 3);
    assert!(readme_plan.behaviours[0].kind.invariant().is_some());

    let source = include_str!("../src/scenario.rs");
    let doc: String = source
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let example = toml_block_after(&doc, "`[[behaviour]]` tables");
    let documented = plan(&format!("{DOC_BASE}{example}"));
    let kinds: Vec<&str> = documented
        .behaviours
        .iter()
        .map(|b| b.kind.name())
        .collect();
    assert_eq!(
        kinds,
        ["burst", "double_submit", "refresh_storm", "slow_clients"]
    );
}

#[test]
fn never_panics_on_mangled_behaviours() {
    let mut inputs: Vec<String> = FULL
        .char_indices()
        .step_by(2)
        .map(|(i, _)| FULL[..i].to_string())
        .collect();
    for (i, c) in FULL.char_indices().step_by(3) {
        for replacement in ["\"", "{", "\n", "é", "'", "=", "[", "0", "$", ">", "\\"] {
            inputs.push(format!(
                "{}{replacement}{}",
                &FULL[..i],
                &FULL[i + c.len_utf8()..]
            ));
        }
    }
    for garbage in [
        "expect = '\u{0}'",
        "expect = \"\\u00e9 >= (\"",
        "expect = '((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((($.a'",
        "read = \"\u{feff}GET /a\"",
        "read = \"GET /{\"",
        "read = \"GET /}{a\"",
        "read = \"   \"",
        "read = \"\"",
        "read = \" GET\t/a \"",
        "read = \"GET /a/{b\"",
        "expect = ''",
        "expect = '  '",
        "expect = \"\"\"\n\"\"\"",
    ] {
        inputs.push(FULL.replace("read = \"get  /accounts/{id}?full=1\"", garbage));
        inputs.push(FULL.replace(
            "expect = 'len($.moves) <= 1 && $.owner == \"ann\"'",
            garbage,
        ));
    }
    for input in inputs {
        if let Err(errors) = parse_scenario_with_env(&input, "m.toml", &no_env) {
            assert!(!errors.is_empty(), "no error reported for:\n{input}");
            for e in &errors {
                assert!(e.line >= 1 || e.column == 0, "{e}");
            }
        }
    }
}
