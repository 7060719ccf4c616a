//! `unruly load` flags → Plan.

use std::time::Duration;
use unruly_core::{Metric, Stage, StopCondition, Template, Workload};
use unruly_plan::{parse_duration, plan_from_load_options, FlagError, LoadOptions};

fn options(url: &str) -> LoadOptions {
    LoadOptions {
        url: url.into(),
        connections: 50,
        duration: None,
        requests: None,
        rate: None,
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        threads: Some(2),
        timeout: Duration::from_secs(5),
        insecure: false,
        seed: 7,
        assumptions: Vec::new(),
    }
}

fn flag_error(o: &LoadOptions) -> String {
    plan_from_load_options(o).unwrap_err().to_string()
}

#[test]
fn closed_benchmark() {
    let mut o = options("http://127.0.0.1:8080/products?page=2");
    o.duration = Some(Duration::from_secs(30));
    o.method = "post".into();
    o.headers = vec!["Content-Type: application/json".into(), "X-Empty:".into()];
    o.body = Some(r#"{"a": "{{vu}}"}"#.into());
    o.assumptions = vec![
        r#"p99("POST /products?page=2") < 300ms"#.into(),
        "error_rate < 1%".into(),
    ];
    let plan = plan_from_load_options(&o).unwrap();
    assert_eq!(plan.target.base_url, "http://127.0.0.1:8080");
    assert_eq!(plan.operations.len(), 1);
    let op = &plan.operations[0];
    assert_eq!(op.name, "POST /products?page=2");
    assert_eq!(op.method, "POST");
    assert_eq!(op.path, Template::literal("/products?page=2"));
    // Literal: no template variables for `load`.
    assert_eq!(op.body, Some(Template::literal(r#"{"a": "{{vu}}"}"#)));
    assert_eq!(
        op.headers,
        vec![
            (
                "Content-Type".to_string(),
                Template::literal("application/json")
            ),
            ("X-Empty".to_string(), Template::literal("")),
        ]
    );
    assert_eq!(op.weight, 1);
    assert_eq!(
        plan.workload,
        Workload::Closed {
            users: 50,
            think_time: Duration::ZERO
        }
    );
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(30)));
    assert_eq!(plan.timeout, Duration::from_secs(5));
    assert_eq!(plan.threads, 2);
    assert_eq!(plan.seed, 7);
    assert_eq!(plan.max_body_bytes, 16 * 1024 * 1024);
    assert_eq!(plan.assumptions.len(), 2);
    assert_eq!(plan.assumptions[0].metric, Metric::Percentile(99.0));
    assert_eq!(plan.assumptions[1].threshold.value, 0.01);
}

#[test]
fn defaults_and_scheme() {
    let mut o = options("localhost:3000");
    o.threads = None;
    let plan = plan_from_load_options(&o).unwrap();
    assert_eq!(plan.target.base_url, "http://localhost:3000");
    assert_eq!(plan.operations[0].name, "GET /");
    assert_eq!(plan.operations[0].path, Template::literal("/"));
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(10)));
    assert!(plan.threads >= 1);
    let plan = plan_from_load_options(&options("https://example.com?q=1")).unwrap();
    assert_eq!(plan.target.base_url, "https://example.com");
    assert_eq!(plan.operations[0].name, "GET /?q=1");
}

#[test]
fn requests_stop_the_run() {
    let mut o = options("http://h");
    o.requests = Some(1000);
    let plan = plan_from_load_options(&o).unwrap();
    assert_eq!(plan.stop, StopCondition::Requests(1000));
    assert_eq!(
        plan.workload,
        Workload::Closed {
            users: 50,
            think_time: Duration::ZERO
        }
    );
}

#[test]
fn rate_makes_an_open_workload() {
    let mut o = options("http://h");
    o.rate = Some(200.0);
    o.duration = Some(Duration::from_secs(5));
    let plan = plan_from_load_options(&o).unwrap();
    assert_eq!(
        plan.workload,
        Workload::Open {
            connections: 50,
            stages: vec![Stage::Hold {
                rate: 200.0,
                duration: Duration::from_secs(5)
            }],
        }
    );
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(5)));

    o.duration = None;
    o.requests = Some(1000);
    let plan = plan_from_load_options(&o).unwrap();
    assert_eq!(
        plan.workload,
        Workload::Open {
            connections: 50,
            stages: vec![Stage::Hold {
                rate: 200.0,
                duration: Duration::from_secs(5)
            }],
        }
    );
    assert_eq!(plan.stop, StopCondition::Requests(1000));
}

#[test]
fn bad_flags_name_the_flag_and_value() {
    let base = options("http://h");
    let with = |f: &dyn Fn(&mut LoadOptions)| {
        let mut o = base.clone();
        f(&mut o);
        flag_error(&o)
    };
    assert_eq!(
        with(&|o| o.headers = vec!["Accept application/json".into()]),
        "-H 'Accept application/json': expected `Name: value`, e.g. -H 'Accept: application/json'"
    );
    assert_eq!(
        with(&|o| o.connections = 0),
        "-c '0': expected from 1 to 1000000 connections"
    );
    assert_eq!(
        with(&|o| o.connections = 1_000_001),
        "-c '1000001': expected from 1 to 1000000 connections"
    );
    assert_eq!(
        with(&|o| o.rate = Some(0.0)),
        "--rate '0': expected a number of requests per second above 0"
    );
    assert_eq!(
        with(&|o| o.rate = Some(f64::NAN)),
        "--rate 'NaN': expected a number of requests per second above 0"
    );
    assert_eq!(
        with(&|o| o.url = "ftp://h".into()),
        "URL 'ftp://h': unsupported scheme `ftp` in \"ftp://h\": expected http:// or https://"
    );
    assert_eq!(
        with(&|o| o.url = "http://:80/".into()),
        "URL 'http://:80/': \"http://:80/\" has no host: expected e.g. \"http://127.0.0.1:8080\""
    );
    assert_eq!(
        with(&|o| o.method = "GE T".into()),
        "-m 'GE T': not an HTTP method: expected letters A-Z, e.g. GET or POST"
    );
    assert_eq!(
        with(&|o| {
            o.duration = Some(Duration::from_secs(3));
            o.requests = Some(9);
        }),
        "-n '9': cannot be combined with -d 3s: expected a duration or a number of requests"
    );
    assert_eq!(
        with(&|o| o.threads = Some(0)),
        "--threads '0': expected at least 1 thread"
    );
    assert_eq!(
        with(&|o| o.assumptions = vec!["p99 << 3s".into()]),
        "--assume 'p99 << 3s': at character 6: expected a threshold after `<`, e.g. \"300ms\", found `<`"
    );
    assert_eq!(
        with(&|o| o.assumptions = vec![r#"p99("GET /x") < 3s"#.into()]),
        "--assume 'p99(\"GET /x\") < 3s': no operation is named \"GET /x\": expected \"GET /\" or no operation"
    );
    let e: FlagError = plan_from_load_options(&LoadOptions {
        connections: 0,
        ..base.clone()
    })
    .unwrap_err();
    assert_eq!((e.flag, e.value.as_str()), ("-c", "0"));
}

#[test]
fn durations_for_the_cli() {
    assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
    assert!(parse_duration("soon").is_err());
}
