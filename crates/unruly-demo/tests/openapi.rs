//! The OpenAPI document: valid JSON, 3.0.3, every endpoint described, and served as is.

mod common;

use serde_json::Value;
use unruly_core::FindingKind;
use unruly_demo::{openapi_json, Variant, PLANTED_BUGS};

const OPERATIONS: [(&str, &str); 7] = [
    ("get", "/health"),
    ("get", "/openapi.json"),
    ("get", "/products"),
    ("get", "/products/{id}"),
    ("get", "/search"),
    ("post", "/orders"),
    ("get", "/orders/{id}"),
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
        serde_json::json!(["product_id", "quantity", "customer"])
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
