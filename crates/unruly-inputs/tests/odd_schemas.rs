//! Odd and broken schemas give fewer cases, never a panic or a hang.

mod common;

use std::time::Instant;

use common::*;
use serde_json::{json, Value};
use unruly_core::{ApiSpec, ParameterLocation, ParameterStyle};
use unruly_inputs::{BodyParts, CaseGenerator};

fn odd_schemas() -> Vec<Value> {
    vec![
        json!({"type": "integer", "minimum": 10, "maximum": 5}),
        json!({"type": "string", "minLength": 5, "maxLength": 2}),
        json!({"enum": []}),
        json!({"type": []}),
        json!({"type": "unknown"}),
        json!({"type": "integer", "multipleOf": 0}),
        json!({"type": "integer", "multipleOf": -3}),
        json!({"type": "number", "multipleOf": 1e-300, "minimum": 1, "maximum": 2}),
        json!({"type": "number", "minimum": -1e308, "maximum": 1e308}),
        json!({"type": "array", "items": false, "minItems": 3}),
        json!({"type": "array", "prefixItems": [{"type": "integer"}], "items": false}),
        json!({"type": "string", "pattern": "\\"}),
        json!({"type": "string", "pattern": "a{99999}"}),
        json!({"type": "string", "pattern": "^(a+)+$"}),
        json!({"type": "string", "pattern": "(?<=x)y"}),
        json!({"type": "string", "format": "date", "maxLength": 3}),
        json!({"type": "integer", "exclusiveMinimum": 1e300}),
        json!({"type": "integer", "maximum": -1e300}),
        json!({"anyOf": []}),
        json!({"oneOf": [false]}),
        json!({"allOf": [{"type": "string"}, {"type": "integer"}]}),
        json!({"not": {}}),
        json!({"$ref": "#/components/schemas/Missing"}),
        json!({"$ref": 5}),
        json!({"$ref": "http://example.invalid/schema.json"}),
        json!({"properties": {"a": {"$ref": "#/components/schemas/Chain"}}, "required": ["a", "b"]}),
        json!({"type": "object", "minProperties": 1000000, "additionalProperties": false}),
        json!({"type": "object", "minProperties": 1000000}),
        json!({"type": "array", "minItems": 1e12}),
        json!({"type": "array", "maxItems": 99, "items": {"$ref": "#/components/schemas/Order"}}),
        json!({"type": "string", "minLength": 1e12}),
        json!({"type": "string", "maxLength": 99999}),
        json!({"type": ["null"]}),
        json!({"const": {"a": [1, 2, {"b": null}]}}),
        json!(5),
        json!("string"),
        json!(null),
        json!([]),
        json!(true),
        json!(false),
    ]
}

fn odd_spec() -> ApiSpec {
    let mut spec = spec();
    spec.operations = Vec::new();
    for schema in odd_schemas() {
        spec.operations.push(op(
            "POST",
            "/odd/{p}",
            vec![
                param(
                    "p",
                    ParameterLocation::Path,
                    true,
                    ParameterStyle::Simple,
                    false,
                    schema.clone(),
                ),
                param(
                    "q",
                    ParameterLocation::Query,
                    true,
                    ParameterStyle::DeepObject,
                    true,
                    schema.clone(),
                ),
                param(
                    "h",
                    ParameterLocation::Header,
                    true,
                    ParameterStyle::Simple,
                    false,
                    schema.clone(),
                ),
                param(
                    "c",
                    ParameterLocation::Cookie,
                    true,
                    ParameterStyle::Form,
                    false,
                    schema.clone(),
                ),
            ],
            body("application/json", schema.clone()),
        ));
        spec.operations.push(op(
            "POST",
            "/form",
            vec![],
            body("application/x-www-form-urlencoded", schema.clone()),
        ));
        spec.operations.push(op(
            "POST",
            "/multi",
            vec![],
            body("multipart/form-data", schema.clone()),
        ));
        spec.operations
            .push(op("POST", "/raw", vec![], body("text/*", schema)));
    }
    spec
}

#[test]
fn odd_schemas_do_not_panic_or_hang() {
    let spec = odd_spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let start = Instant::now();
    let mut total = 0;
    for i in 0..spec.operations.len() {
        let op_start = Instant::now();
        let cases = generator.cases(i, 3);
        let gen_time = op_start.elapsed();
        assert!(!cases.is_empty(), "operation {i}");
        total += cases.len();
        for c in &cases {
            let r = c.to_request(&spec);
            for (_, v) in &r.headers {
                assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{v:?}");
            }
            if let BodyParts::Stream(s) = r.body {
                assert!(!s.is_empty());
            }
        }
        for c in cases
            .iter()
            .filter(|c| c.category != unruly_inputs::Category::Strange)
            .take(12)
        {
            let _ = generator.shrink(c);
        }
        if op_start.elapsed().as_millis() > 500 {
            eprintln!(
                "operation {i}: cases {gen_time:?}, all {:?}, {} cases",
                op_start.elapsed(),
                cases.len()
            );
        }
        assert!(
            op_start.elapsed().as_secs() < 10,
            "operation {i} took {:?}",
            op_start.elapsed()
        );
    }
    eprintln!("{total} cases in {:?}", start.elapsed());
}
