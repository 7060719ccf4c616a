//! `unruly init`: the starter scenario parses back into the expected plan.

use std::time::Duration;
use unruly_core::{Metric, Plan, StopCondition, Template, Workload};
use unruly_plan::{parse_scenario, parse_scenario_with_env, starter_scenario, OpenApiSource};

fn parse(text: &str) -> Plan {
    parse_scenario(text, "starter.toml").unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn names(plan: &Plan) -> Vec<&str> {
    plan.operations.iter().map(|o| o.name.as_str()).collect()
}

#[test]
fn plain_starter_parses_with_defaults() {
    let text = starter_scenario("127.0.0.1:8080/", None).unwrap();
    let plan = parse(&text);
    assert_eq!(plan.target.base_url, "http://127.0.0.1:8080");
    assert_eq!(names(&plan), ["GET /"]);
    assert_eq!(plan.operations[0].path, Template::literal("/"));
    assert_eq!(
        plan.workload,
        Workload::Closed {
            users: 10,
            think_time: Duration::ZERO
        }
    );
    assert_eq!(plan.stop, StopCondition::Duration(Duration::from_secs(10)));
    assert_eq!(plan.timeout, Duration::from_secs(10));
    let texts: Vec<&str> = plan.assumptions.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(texts, ["error_rate < 0.01", "p99 < \"500ms\""]);
    // It teaches the format: every section and the main keys are explained.
    for needle in [
        "[target]",
        "[[operation]]",
        "[workload]",
        "[[workload.stage]]",
        "ramp_to",
        "spike_to",
        "think_time",
        "json",
        "weight",
        "{{env.",
        "[[assumption]]",
        "error_rate",
    ] {
        assert!(text.contains(needle), "starter does not mention {needle}");
    }
}

const YAML: &str = r#"openapi: 3.0.3
info:
  title: Shop
  version: "1"
servers:
  - url: /api
paths:
  /products:
    get:
      summary: List products
      parameters:
        - name: limit
          in: query
          required: true
          schema: { type: integer }
        - name: sort
          in: query
          schema: { type: string }
    post:
      requestBody:
        content:
          application/json:
            example: { name: "Lamp's", price: 12.5 }
  /products/{id}:
    parameters:
      - $ref: '#/components/parameters/Id'
    get:
      summary: Get one product
    put:
      requestBody:
        content:
          application/json:
            schema: { type: object }
  /users/{name}:
    get:
      parameters:
        - name: name
          in: path
          required: true
          schema: { type: object }
  /health:
    delete: {}
components:
  parameters:
    Id:
      name: id
      in: path
      required: true
      schema: { type: string, enum: [p 1, p2] }
"#;

#[test]
fn yaml_spec_gives_runnable_operations_and_todos() {
    let spec = OpenApiSource {
        name: "api.yaml".into(),
        text: YAML.into(),
    };
    let text = starter_scenario("http://localhost:3000", Some(&spec)).unwrap();
    let plan = parse(&text);
    assert_eq!(
        names(&plan),
        ["GET /products", "POST /products", "GET /products/{id}"]
    );
    let paths: Vec<Option<String>> = plan
        .operations
        .iter()
        .map(|o| o.path.as_literal())
        .collect();
    assert_eq!(
        paths,
        [
            Some("/api/products?limit=1".to_string()),
            Some("/api/products".to_string()),
            Some("/api/products/p%201".to_string()),
        ]
    );
    let post = &plan.operations[1];
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.body.as_ref().and_then(Template::as_literal).as_deref(),
        Some(r#"{"name":"Lamp's","price":12.5}"#)
    );
    assert!(
        post.headers
            .iter()
            .any(|(n, v)| n == "Content-Type"
                && v.as_literal().as_deref() == Some("application/json"))
    );
    // The PUT without an example and the unfillable GET are there, commented out.
    assert!(
        text.contains("# TODO: the spec gives no example of the JSON body"),
        "{text}"
    );
    assert!(text.contains("# name = \"PUT /products/{id}\""), "{text}");
    assert!(
        text.contains("# TODO: path parameter `{name}` has no example"),
        "{text}"
    );
    assert!(!text.contains("/health"), "{text}");
    let p99 = &plan.assumptions[1];
    assert_eq!(p99.text, r#"p99("GET /products") < "500ms""#);
    assert_eq!(p99.metric, Metric::Percentile(99.0));
    assert_eq!(p99.operation.as_deref(), Some("GET /products"));
}

#[test]
fn json_spec_works_too() {
    let json = r#"{
  "openapi": "3.1.0",
  "info": {"title": "Users", "version": "1"},
  "paths": {
    "/users/{id}": {
      "get": {
        "parameters": [
          {"name": "id", "in": "path", "required": true, "schema": {"type": ["integer", "null"]}}
        ]
      }
    },
    "/users": {
      "post": {
        "requestBody": {"content": {"application/json": {
          "examples": {"first": {"value": {"name": "Ada", "tags": ["{{x}}"]}}}
        }}}
      },
      "put": {
        "requestBody": {"content": {"application/vnd.api+json": {
          "schema": {"example": {"id": 7}}
        }}}
      }
    }
  }
}"#;
    let spec = OpenApiSource {
        name: "api.json".into(),
        text: json.into(),
    };
    let text = starter_scenario("https://api.test/v2", Some(&spec)).unwrap();
    let plan = parse(&text);
    assert_eq!(plan.target.base_url, "https://api.test/v2");
    assert_eq!(names(&plan), ["GET /users/{id}", "PUT /users"]);
    assert_eq!(
        plan.operations[0].path.as_literal().as_deref(),
        Some("/users/1")
    );
    assert_eq!(
        plan.operations[1]
            .body
            .as_ref()
            .and_then(Template::as_literal)
            .as_deref(),
        Some(r#"{"id":7}"#)
    );
    // A body holding `{{` would be read as a template: left commented out.
    assert!(
        text.contains("# TODO: the example body contains `{{`"),
        "{text}"
    );
}

#[test]
fn spec_without_runnable_operations_still_parses() {
    let yaml =
        "openapi: '3.0.0'\ninfo: {title: t, version: '1'}\npaths:\n  /things/{id}:\n    get: {}\n";
    let spec = OpenApiSource {
        name: "s.yaml".into(),
        text: yaml.into(),
    };
    let text = starter_scenario("http://h", Some(&spec)).unwrap();
    let plan = parse_scenario_with_env(&text, "s", &|_| None).unwrap();
    assert_eq!(names(&plan), ["GET /"]);
    assert!(text.contains("# name = \"GET /things/{id}\""));
}

#[test]
fn invalid_specs_are_errors_naming_the_file() {
    let err = |text: &str| {
        let spec = OpenApiSource {
            name: "bad.yaml".into(),
            text: text.into(),
        };
        starter_scenario("http://h", Some(&spec))
            .unwrap_err()
            .to_string()
    };
    let e = err("openapi: 3.0.0\npaths:\n  /a: [unclosed\n");
    assert!(
        e.starts_with("bad.yaml:4:1: not a valid YAML or JSON document: "),
        "{e}"
    );
    assert_eq!(
        err("info: {}\nswagger: \"2.0\"\n"),
        "bad.yaml:2:1: Swagger 2.0 is not supported: expected an OpenAPI 3.0 or 3.1 document (convert it first, e.g. with swagger2openapi)"
    );
    assert_eq!(
        err("info: {}\n"),
        "bad.yaml: no `openapi` version: expected `openapi: 3.0.x` or `3.1.x` at the top"
    );
    assert_eq!(
        err("openapi: 2.5\n"),
        "bad.yaml:1:1: openapi version \"2.5\" is not supported: expected 3.0.x or 3.1.x"
    );
    assert_eq!(
        err("openapi: 3.0.0\npaths: [1]\n"),
        "bad.yaml:2:1: `paths` is not a mapping: expected path names such as `/users` with their operations"
    );
    assert_eq!(
        err("- 1\n"),
        "bad.yaml: expected an OpenAPI 3.0 or 3.1 document: a mapping with `openapi: 3.x` at the top"
    );
}

#[test]
fn bad_target_is_an_error() {
    let e = starter_scenario("ftp://h", None).unwrap_err().to_string();
    assert_eq!(
        e,
        "target URL: unsupported scheme `ftp` in \"ftp://h\": expected http:// or https://"
    );
}
