//! The OpenAPI document: valid JSON, 3.0.3, every endpoint described, its schemas valid
//! JSON Schema draft 2020-12 as they stand, and served as is.

mod common;

use serde_json::{json, Value};
use unruly_core::FindingKind;
use unruly_demo::{openapi_json, Trigger, Variant, PLANTED_BUGS};

const OPERATIONS: [(&str, &str); 13] = [
    ("get", "/health"),
    ("get", "/openapi.json"),
    ("get", "/products"),
    ("get", "/products/{id}"),
    ("get", "/products/{id}/shipping"),
    ("get", "/search"),
    ("post", "/orders"),
    ("get", "/orders/{id}"),
    ("post", "/users"),
    ("get", "/users/{id}"),
    ("post", "/accounts"),
    ("get", "/accounts/{id}"),
    ("post", "/accounts/{id}/withdrawals"),
];

fn document() -> Value {
    serde_json::from_str(openapi_json()).expect("the document is JSON")
}

#[test]
fn document_is_openapi_3_0_3_with_every_path() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().expect("paths");
    assert_eq!(paths.len(), OPERATIONS.len());
    for (method, path) in OPERATIONS {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        assert!(operation["operationId"].is_string(), "{method} {path}");
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            let schema = &response["content"]["application/json"]["schema"];
            assert!(
                schema.is_object(),
                "{method} {path} {status} has no JSON schema"
            );
            if status.starts_with('4') {
                assert_eq!(
                    schema["$ref"], "#/components/schemas/Error",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[test]
fn every_reference_resolves() {
    fn walk(value: &Value, doc: &Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let pointer = target.strip_prefix('#').expect("a local reference");
                    assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
                }
                map.values().for_each(|v| walk(v, doc));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, doc)),
            _ => {}
        }
    }
    let doc = document();
    walk(&doc, &doc);
}

#[test]
fn schemas_state_the_bounds() {
    let doc = document();
    let new_order = &doc["components"]["schemas"]["NewOrder"];
    assert_eq!(
        new_order["required"],
        json!(["product_id", "quantity", "customer"])
    );
    assert_eq!(new_order["properties"]["quantity"]["minimum"], 1);
    assert_eq!(new_order["properties"]["quantity"]["maximum"], 10);
    assert_eq!(new_order["properties"]["customer"]["maxLength"], 64);
    assert_eq!(
        doc["components"]["schemas"]["Product"]["properties"]["stock"]["minimum"],
        0
    );
    let limit = &doc["paths"]["/products"]["get"]["parameters"][0]["schema"];
    assert_eq!(
        (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
        (Some(1), Some(100))
    );
    let schemas = &doc["components"]["schemas"];
    let new_account = &schemas["NewAccount"];
    assert_eq!(new_account["required"], json!(["owner", "balance"]));
    assert_eq!(new_account["properties"]["owner"]["minLength"], 1);
    assert_eq!(new_account["properties"]["owner"]["maxLength"], 64);
    assert_eq!(new_account["properties"]["balance"]["minimum"], 0);
    assert_eq!(new_account["properties"]["balance"]["maximum"], 1_000_000);
    assert_eq!(
        new_account["example"],
        json!({"owner": "Ada", "balance": 100})
    );
    assert_eq!(
        schemas["Account"]["required"],
        json!(["id", "owner", "balance"])
    );
    assert_eq!(schemas["Account"]["properties"]["balance"]["minimum"], 0);
    let amount = &schemas["Withdrawal"]["properties"]["amount"];
    assert_eq!(
        (amount["minimum"].as_i64(), amount["maximum"].as_i64()),
        (Some(1), Some(1_000_000))
    );
    assert_eq!(schemas["Withdrawal"]["example"], json!({"amount": 60}));
}

#[test]
fn orders_document_the_idempotency_key() {
    let doc = document();
    let operation = &doc["paths"]["/orders"]["post"];
    let parameters = operation["parameters"].as_array().expect("parameters");
    let key = parameters
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("an Idempotency-Key parameter");
    assert_eq!(key["in"], "header");
    assert_eq!(key["required"], false);
    assert_eq!(key["schema"], json!({"type": "string"}));
    assert!(key["description"]
        .as_str()
        .is_some_and(|d| d.contains("draft-ietf-httpapi-idempotency-key-header")));
    for (status, says) in [("409", "Idempotency-Key"), ("422", "different body")] {
        let description = operation["responses"][status]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(description.contains(says), "{status}: {description}");
    }
}

#[test]
fn operations_with_bodies_document_every_refusal() {
    let doc = document();
    for (path, success) in [
        ("/orders", "201"),
        ("/users", "201"),
        ("/accounts", "201"),
        ("/accounts/{id}/withdrawals", "200"),
    ] {
        let operation = &doc["paths"][path]["post"];
        assert_eq!(operation["requestBody"]["required"], true, "{path}");
        for status in [success, "400", "408", "413", "415"] {
            assert!(
                operation["responses"][status].is_object(),
                "POST {path} does not document {status}"
            );
        }
    }
    for path in [
        "/products/{id}",
        "/products/{id}/shipping",
        "/orders/{id}",
        "/users/{id}",
        "/accounts/{id}",
    ] {
        for status in ["200", "400", "404"] {
            assert!(
                doc["paths"][path]["get"]["responses"][status].is_object(),
                "GET {path} does not document {status}"
            );
        }
    }
}

#[test]
fn no_keyword_only_openapi_3_0_knows() {
    fn walk(value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                assert!(!map.contains_key("nullable"), "nullable at {at}");
                for bound in ["exclusiveMinimum", "exclusiveMaximum"] {
                    assert!(
                        !map.get(bound).is_some_and(Value::is_boolean),
                        "a boolean {bound} at {at}"
                    );
                }
                for (key, value) in map {
                    walk(value, &format!("{at}/{key}"));
                }
            }
            Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(value, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    walk(&document(), "");
}

/// A draft 2020-12 validator (formats asserted) of the schema at `pointer`, with the
/// document's components beside it so that its references resolve.
fn validator(doc: &Value, pointer: &str) -> jsonschema::Validator {
    let mut root = doc.pointer(pointer).expect("a schema").clone();
    root["components"] = doc["components"].clone();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{pointer} does not compile: {e}"))
}

#[test]
fn every_schema_compiles_as_draft_2020_12() {
    let doc = document();
    let names: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .cloned()
        .collect();
    for name in names {
        let validator = validator(&doc, &format!("/components/schemas/{name}"));
        // The examples the document gives are valid.
        if let Some(example) = doc["components"]["schemas"][&name].get("example") {
            assert!(validator.is_valid(example), "{name}: {example}");
        }
    }
}

#[test]
fn user_schemas_assert_their_formats() {
    let doc = document();
    let user = validator(&doc, "/components/schemas/User");
    let good = serde_json::json!({
        "id": 1, "name": "🎉", "email": "ada@example.com", "display_name": "user 1",
        "created_at": "2025-03-01T12:34:56.789Z"
    });
    assert!(user.is_valid(&good));
    for (field, bad) in [
        ("display_name", Value::Null),
        ("display_name", Value::from("")),
        ("created_at", Value::from("yesterday")),
        ("email", Value::from("ada")),
        ("name", Value::from("x".repeat(65))),
    ] {
        let mut instance = good.clone();
        instance[field] = bad;
        assert!(!user.is_valid(&instance), "{field}: {instance}");
    }
}

#[test]
fn planted_bugs_name_real_operations_and_kinds() {
    let doc = document();
    assert!(!PLANTED_BUGS.is_empty());
    for bug in PLANTED_BUGS {
        let (method, path) = bug.operation.split_once(' ').expect("METHOD /path");
        assert!(
            doc["paths"][path][method.to_lowercase()].is_object(),
            "{} is not in the document",
            bug.operation
        );
        let kind: Result<FindingKind, _> = serde_json::from_value(Value::from(bug.kind));
        assert!(kind.is_ok(), "{} is not a finding kind", bug.kind);
        assert!(!bug.description.is_empty());
    }
    let input = |operation: &str, kind: &str| {
        PLANTED_BUGS
            .iter()
            .any(|b| b.operation == operation && b.kind == kind && b.trigger == Trigger::Input)
    };
    for (operation, kind) in [
        ("GET /products", "server_error"),
        ("POST /users", "server_error"),
        ("POST /users", "information_leak"),
        ("POST /users", "slow_response"),
        ("GET /users/{id}", "response_schema_violation"),
        ("GET /orders/{id}", "response_schema_violation"),
    ] {
        assert!(input(operation, kind), "{operation} {kind}");
    }
    let trigger = |kind: &str| {
        PLANTED_BUGS
            .iter()
            .find(|b| b.kind == kind)
            .map(|b| b.trigger)
    };
    assert_eq!(trigger("latency_under_load"), Some(Trigger::Load));
    assert_eq!(trigger("race_condition"), Some(Trigger::Concurrency));
    assert_eq!(trigger("memory_growth"), Some(Trigger::Watch));
    assert_eq!(trigger("dependency_cascade"), Some(Trigger::Dependency));
    let shipping = &doc["paths"]["/products/{id}/shipping"]["get"]["responses"]["503"];
    assert_eq!(shipping["headers"]["Retry-After"]["required"], true);
    for (operation, kind) in [
        ("POST /accounts/{id}/withdrawals", "race_condition"),
        ("POST /orders", "duplicate_side_effect"),
        ("POST /orders", "resource_exhaustion"),
    ] {
        assert!(
            PLANTED_BUGS.iter().any(|b| b.operation == operation
                && b.kind == kind
                && b.trigger == Trigger::Behaviour),
            "{operation} {kind}"
        );
    }
}

#[tokio::test]
async fn both_variants_serve_the_document() {
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        let response = common::get(demo.addr(), "/openapi.json").await;
        assert_eq!(response.status, 200);
        assert_eq!(common::json(&response), document());
        assert_eq!(response.text(), openapi_json());
    }
}
