//! Scenario files → Plan, and every kind of error at its exact place.

use std::time::Duration;
use unruly_core::{
    Comparison, Metric, Plan, RenderContext, SeededRng, Stage, StopCondition, Template, Threshold,
    Workload,
};
use unruly_plan::{load_scenario, parse_scenario, parse_scenario_with_env, PlanError};

fn env(name: &str) -> Option<String> {
    match name {
        "TOKEN" => Some("s3cret".into()),
        "USER_ID" => Some("42".into()),
        _ => None,
    }
}

fn plan(source: &str) -> Plan {
    match parse_scenario_with_env(source, "s.toml", &env) {
        Ok(plan) => plan,
        Err(errors) => panic!("expected a plan, got:\n{errors}"),
    }
}

/// The errors of `source`, as displayed.
fn errors(source: &str) -> Vec<String> {
    match parse_scenario_with_env(source, "s.toml", &env) {
        Ok(plan) => panic!("expected errors, got {plan:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn one_error(source: &str) -> String {
    let errors = errors(source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap_or_default()
}

const FULL: &str = r#"seed = 42

[target]
url = "http://127.0.0.1:8080/"
timeout = "2s"
insecure = true
headers = { Authorization = "Bearer {{env.TOKEN}}", Accept = "text/plain" }

[[operation]]
name = "list products"
method = "get"
path = "/products?page={{random_int(1, 5)}}"
headers = { Accept = "application/json" }
weight = 3

[[operation]]
method = "POST"
path = "/orders"
json = { user = "u{{vu}}", items = [1, 2], owner = "{{env.USER_ID}}" }

[[operation]]
method = "PUT"
path = "/raw"
body = 'plain {{seq}}'
weight = 0

[workload]
model = "open"
connections = 20
threads = 3

[[workload.stage]]
rate = 100
duration = "10s"

[[workload.stage]]
ramp_to = 1000
duration = "20s"

[[workload.stage]]
spike_to = 5000
duration = "10s"
rise = "2s"

[[assumption]]
check = 'p99("list products") < "300ms"'

[[assumption]]
check = "error_rate < 0.1%"
"#;

#[test]
fn full_scenario_maps_to_plan() {
    let plan = plan(FULL);
    assert_eq!(plan.seed, 42);
    assert_eq!(plan.target.base_url, "http://127.0.0.1:8080");
    assert_eq!(plan.timeout, Duration::from_secs(2));
    assert!(plan.insecure);
    assert_eq!(plan.threads, 3);
    assert_eq!(plan.max_body_bytes, 16 * 1024 * 1024);

    assert_eq!(plan.operations.len(), 3);
    let list = &plan.operations[0];
    assert_eq!(list.name, "list products");
    assert_eq!(list.method, "GET");
    assert_eq!(
        list.path,
        Template::parse("/products?page={{random_int(1, 5)}}").unwrap()
    );
    assert_eq!(list.weight, 3);
    assert_eq!(list.body, None);
    // Target headers first, the operation's own Accept wins (case-insensitive).
    assert_eq!(
        list.headers,
        vec![
            (
                "Authorization".to_string(),
                Template::literal("Bearer s3cret")
            ),
            ("Accept".to_string(), Template::literal("application/json")),
        ]
    );

    let order = &plan.operations[1];
    assert_eq!(order.name, "POST /orders");
    assert_eq!(order.weight, 1);
    let ctx = RenderContext {
        vu: 7,
        iteration: 0,
        seq: 0,
    };
    let body = order
        .body
        .as_ref()
        .map(|b| b.render(ctx, &mut SeededRng::new(1)));
    assert_eq!(
        body.as_deref(),
        Some(r#"{"user":"u7","items":[1,2],"owner":"42"}"#)
    );
    let header_names: Vec<&str> = order.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(header_names, ["Authorization", "Accept", "Content-Type"]);
    assert_eq!(order.headers[2].1, Template::literal("application/json"));

    let raw = &plan.operations[2];
    assert_eq!(raw.name, "PUT /raw");
    assert_eq!(raw.weight, 0);
    assert_eq!(raw.body, Some(Template::parse("plain {{seq}}").unwrap()));

    assert_eq!(
        plan.workload,
        Workload::Open {
            connections: 20,
            stages: vec![
                Stage::Hold {
                    rate: 100.0,
                    duration: Duration::from_secs(10)
                },
                Stage::Ramp {
                    from: 100.0,
                    to: 1000.0,
                    duration: Duration::from_secs(20)
                },
                Stage::Ramp {
                    from: 1000.0,
                    to: 5000.0,
                    duration: Duration::from_secs(2)
                },
                Stage::Hold {
                    rate: 5000.0,
                    duration: Duration::from_secs(6)
                },
                Stage::Ramp {
                    from: 5000.0,
                    to: 1000.0,
                    duration: Duration::from_secs(2)
                },
            ],
        }
    );
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(40)));

    assert_eq!(plan.assumptions.len(), 2);
    let p99 = &plan.assumptions[0];
    assert_eq!(p99.text, r#"p99("list products") < "300ms""#);
    assert_eq!(p99.metric, Metric::Percentile(99.0));
    assert_eq!(p99.operation.as_deref(), Some("list products"));
    assert_eq!(p99.comparison, Comparison::Less);
    assert_eq!(
        p99.threshold,
        Threshold {
            value: 300.0,
            written: "300ms".into()
        }
    );
    let rate = &plan.assumptions[1];
    assert_eq!(rate.metric, Metric::ErrorRate);
    assert!((rate.threshold.value - 0.001).abs() < 1e-12);
    assert_eq!(rate.threshold.written, "0.1%");
}

#[test]
fn minimal_scenario_gets_defaults() {
    let plan =
        plan("[target]\nurl = \"https://api.example.com/v1/\"\n\n[[operation]]\npath = \"/\"\n");
    assert_eq!(plan.seed, 1);
    assert_eq!(plan.target.base_url, "https://api.example.com/v1");
    assert_eq!(plan.timeout, Duration::from_secs(10));
    assert!(!plan.insecure);
    assert_eq!(
        plan.threads,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    assert_eq!(plan.operations[0].name, "GET /");
    assert_eq!(plan.operations[0].method, "GET");
    assert!(plan.operations[0].headers.is_empty());
    assert_eq!(
        plan.workload,
        Workload::Closed {
            users: 10,
            think_time: Duration::ZERO
        }
    );
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(10)));
    assert!(plan.assumptions.is_empty());
}

#[test]
fn closed_workload_with_requests_and_top_level_assumptions() {
    let plan = plan(
        r#"assumptions = ['p999 < 1.5s', "rps >= 100"]
[target]
url = "http://localhost:3000"
[[operation]]
path = "/a"
[workload]
users = 7
think_time = "100ms"
requests = 10000
"#,
    );
    assert_eq!(
        plan.workload,
        Workload::Closed {
            users: 7,
            think_time: Duration::from_millis(100)
        }
    );
    assert_eq!(plan.stop, StopCondition::Requests(10_000));
    assert_eq!(plan.assumptions[0].metric, Metric::Percentile(99.9));
    assert_eq!(plan.assumptions[0].threshold.value, 1500.0);
    assert_eq!(plan.assumptions[1].metric, Metric::Throughput);
}

#[test]
fn typo_key_points_at_the_key() {
    let source = "[target]\nurl = \"http://h\"\n\n[[operation]]\npath = \"/\"\n\n\
                  metod = \"POST\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:7:1: unknown field `metod` in [[operation]]: expected one of name, method, path, headers, body, json, weight (did you mean `method`?)"
    );
}

#[test]
fn bad_duration_points_at_the_value() {
    let source = "[target]\nurl = \"http://h\"\ntimeout = \"fast\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        r#"s.toml:3:11: "fast" is not a duration: expected e.g. "300ms", "10s", "2m""#
    );
}

#[test]
fn unknown_operation_in_assumption_points_inside_the_string() {
    let source = r#"[target]
url = "http://h"
[[operation]]
path = "/products"
[[operation]]
name = "buy"
path = "/buy"
[[assumption]]
check = 'p99("GET /prodcts") < "300ms"'
"#;
    // `check = '` is 9 characters, then `p99(`: the quote is column 14.
    assert_eq!(
        one_error(source),
        r#"s.toml:9:14: no operation is named "GET /prodcts": expected one of "GET /products", "buy""#
    );
}

#[test]
fn assumption_syntax_error_points_inside_the_string() {
    let source = "assumptions = [\"error_rate < 0.01\", \"p99 = 3s\"]\n[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:1:42: expected a comparison (<, <=, >, >=) after p99, found `=`"
    );
}

#[test]
fn template_error_points_inside_the_body() {
    let source =
        "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\nbody = '{\"id\": {{nope}}}'\n";
    // `body = '` is 8 characters, `{"id": {{` 9 more: `nope` is at column 18.
    assert_eq!(
        one_error(source),
        "s.toml:5:18: unknown template variable `nope`: expected one of vu, iteration, seq, uuid, random_int(LOW, HIGH), random_string(LEN), env.NAME"
    );
}

#[test]
fn template_error_after_an_escape_still_points_at_the_character() {
    let source =
        "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\nbody = \"a\\\"b{{vu\"\n";
    // body = "a\"b{{vu" : the `{{` is at column 13 in the source.
    assert_eq!(
        one_error(source),
        "s.toml:5:13: `{{` is not closed: expected `}}` after the variable name"
    );
}

#[test]
fn unset_environment_variable_is_named_where_used() {
    let source = "[target]\nurl = \"http://h\"\nheaders = { X-Key = \"k-{{ env.NOPE }}\" }\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:3:27: environment variable `NOPE` is not set: expected it set before the run (or a plain value instead of {{env.NOPE}})"
    );
}

#[test]
fn toml_syntax_error_has_its_place() {
    let source = "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\nweight = 1\n";
    let error = one_error(source);
    assert!(error.starts_with("s.toml:4:"), "{error}");
    assert!(error.contains("invalid TOML"), "{error}");
    let source = "[target]\nurl = = 3\n";
    let error = one_error(source);
    assert!(error.starts_with("s.toml:2:7: invalid TOML:"), "{error}");
}

#[test]
fn all_semantic_errors_are_reported_in_order() {
    let source = r#"seed = -1
[target]
url = "ftp://h"
timeout = 5
[[operation]]
method = "GE T"
path = "products"
weight = 1
colour = "red"
[workload]
users = 0
think_time = "soon"
connections = 3
"#;
    assert_eq!(
        errors(source),
        vec![
            "s.toml:1:8: `seed`: expected an integer from 0 to 9223372036854775807, found -1",
            "s.toml:3:7: unsupported scheme `ftp` in \"ftp://h\": expected http:// or https://",
            "s.toml:4:11: `timeout` in [target]: expected a duration string such as \"10s\" or \"300ms\", found an integer (5)",
            "s.toml:6:10: \"GE T\" is not an HTTP method: expected letters A-Z, e.g. \"GET\" or \"POST\"",
            "s.toml:7:9: path \"products\" must start with `/`: expected e.g. \"/products\"",
            "s.toml:9:1: unknown field `colour` in [[operation]]: expected one of name, method, path, headers, body, json, weight",
            "s.toml:11:9: `users` in [workload]: expected an integer from 1 to 1000000, found 0",
            "s.toml:12:14: \"soon\" is not a duration: expected e.g. \"300ms\", \"10s\", \"2m\"",
            "s.toml:13:1: `connections` in [workload] applies to the open model: expected it removed, or model = \"open\"",
        ]
    );
}

#[test]
fn missing_tables_are_whole_file_errors() {
    assert_eq!(
        errors("seed = 3\n"),
        vec![
            "s.toml: missing [target]: expected a [target] table with url = \"http://127.0.0.1:8080\"",
            "s.toml: no [[operation]]: expected at least one, e.g. [[operation]] with path = \"/\"",
        ]
    );
}

#[test]
fn model_mixups_are_named() {
    let base = "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        errors(&format!("{base}[workload]\nmodel = \"open\"\nusers = 5\nduration = \"3s\"\n")),
        vec![
            "s.toml:5:1: the open model needs at least one [[workload.stage]]: expected e.g. [[workload.stage]] with rate = 100 and duration = \"10s\"",
            "s.toml:7:1: `users` in [workload] applies to the closed model: expected it removed, or model = \"closed\"",
            "s.toml:8:1: `duration` in [workload] does not apply to the open model: it runs for the sum of its [[workload.stage]] durations",
        ]
    );
    assert_eq!(
        one_error(&format!("{base}[workload]\nmodel = \"closd\"\n")),
        "s.toml:6:9: model \"closd\" is not a workload model: expected \"closed\" or \"open\""
    );
    assert_eq!(
        one_error(&format!(
            "{base}[workload]\nduration = \"1s\"\nrequests = 5\n"
        )),
        "s.toml:7:1: `duration` and `requests` are both set in [workload]: expected one of them"
    );
}

#[test]
fn stage_errors() {
    let base =
        "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\n[workload]\nmodel = \"open\"\n";
    assert_eq!(
        one_error(&format!("{base}[[workload.stage]]\nspike_to = 10\nduration = \"2s\"\n")),
        "s.toml:9:12: a spike lasting 2s must last longer than twice its rise (1s): expected a duration above 2s"
    );
    assert_eq!(
        one_error(&format!("{base}[[workload.stage]]\nrate = -1\nduration = \"2s\"\n")),
        "s.toml:8:8: `rate` in [[workload.stage]]: expected a finite number of requests per second of at least 0, found -1"
    );
    assert_eq!(
        one_error(&format!("{base}[[workload.stage]]\nrate = 1\nramp_to = 2\nduration = \"2s\"\n")),
        "s.toml:9:1: `rate` and `ramp_to` are both set in [[workload.stage]]: expected one of rate, ramp_to, spike_to"
    );
    assert_eq!(
        one_error(&format!("{base}stage = []\n")),
        "s.toml:7:9: `stage` in [workload]: expected at least one [[workload.stage]]"
    );
    assert_eq!(
        one_error(&format!("{base}[[workload.stage]]\nrate = 1\n")),
        "s.toml:7:1: [[workload.stage]] has no `duration`: expected e.g. duration = \"10s\""
    );
}

#[test]
fn operation_set_errors() {
    let source = "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/a\"\nweight = 0\n[[operation]]\npath = \"/a\"\nweight = 0\n";
    assert_eq!(
        errors(source),
        vec![
            "s.toml:4:8: every [[operation]] has weight 0: expected at least one weight above 0",
            "s.toml:7:8: operation name \"GET /a\" is already used on line 4: expected each [[operation]] to have its own `name`",
        ]
    );
    let source = "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\nbody = \"x\"\njson = { a = 1 }\n";
    assert_eq!(
        one_error(source),
        "s.toml:6:1: `body` and `json` are both set in [[operation]]: expected one of them"
    );
    let source = "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/a b\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:4:11: a path cannot contain spaces or control characters: expected them percent-encoded, e.g. %20"
    );
    let source = "[target]\nurl = \"http://h\"\n[[operation]]\npath = \"/\"\nheaders = { \"Bad Name\" = \"x\" }\n";
    assert_eq!(
        one_error(source),
        "s.toml:5:13: \"Bad Name\" is not a valid header name: expected letters, digits and `-`, e.g. \"X-Request-Id\""
    );
}

#[test]
fn urls_without_host_or_with_query_are_errors() {
    let source = "[target]\nurl = \"http://\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:2:7: \"http://\" has no host: expected e.g. \"http://127.0.0.1:8080\""
    );
    let source = "[target]\nurl = \"127.0.0.1:8080\"\n[[operation]]\npath = \"/\"\n";
    assert_eq!(
        one_error(source),
        "s.toml:2:7: \"127.0.0.1:8080\" has no scheme: expected http:// or https://, e.g. \"http://127.0.0.1:8080\""
    );
}

#[test]
fn display_prints_one_error_per_line() {
    let err = parse_scenario("seed = 1\n", "x.toml").unwrap_err();
    assert_eq!(err.len(), 2);
    assert_eq!(err.to_string().lines().count(), 2);
    let e = PlanError {
        file: "f".into(),
        line: 3,
        column: 4,
        message: "m".into(),
    };
    assert_eq!(e.to_string(), "f:3:4: m");
}

#[test]
fn unreadable_file_is_one_error_naming_it() {
    let err = load_scenario(std::path::Path::new("/nonexistent/dir/s.toml")).unwrap_err();
    assert_eq!(err.len(), 1);
    let e = &err.errors[0];
    assert_eq!(e.file, "/nonexistent/dir/s.toml");
    assert_eq!(e.line, 0);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/s.toml: cannot read the scenario: "),
        "{e}"
    );
}

#[test]
fn load_scenario_reads_a_file() {
    let dir = std::env::temp_dir().join(format!("unruly-plan-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        "[target]\nurl = \"http://h:1\"\n[[operation]]\npath = \"/x\"\n",
    )
    .unwrap();
    let plan = load_scenario(&path).unwrap();
    assert_eq!(plan.operations[0].name, "GET /x");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_documented_example_parses() {
    // The module documentation of `scenario` is the format's contract: its
    // example must be a valid scenario.
    let source = include_str!("../src/scenario.rs");
    let doc: String = source
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let start = doc.find("```toml").expect("a toml example") + "```toml".len();
    let end = start + doc[start..].find("```").expect("closed example");
    let plan = plan(&doc[start..end]);
    assert_eq!(plan.seed, 42);
    assert_eq!(plan.operations.len(), 2);
    assert_eq!(plan.operations[1].name, "POST /orders");
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(40)));
    assert_eq!(
        plan.assumptions[0].operation.as_deref(),
        Some("list products")
    );
}

#[test]
fn never_panics_and_never_fails_silently_on_mangled_input() {
    let mut inputs: Vec<String> = FULL
        .char_indices()
        .map(|(i, _)| FULL[..i].to_string())
        .collect();
    // Replace each character in turn with something troublesome.
    for (i, c) in FULL.char_indices().step_by(3) {
        for with in ["\"", "{{", "\n", "é", "'", "=", "[", "0"] {
            inputs.push(format!("{}{with}{}", &FULL[..i], &FULL[i + c.len_utf8()..]));
        }
    }
    for input in inputs {
        if let Err(errors) = parse_scenario_with_env(&input, "m.toml", &env) {
            assert!(!errors.is_empty(), "no error reported for:\n{input}");
            for e in &errors {
                assert!(e.line >= 1 || e.column == 0, "{e}");
            }
        }
    }
}
