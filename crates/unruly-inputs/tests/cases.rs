//! Case generation: determinism, categories, judgement, boundaries, corpus, large bodies.

mod common;

use std::time::Instant;

use common::*;
use serde_json::{json, Value};
use unruly_inputs::{
    corpus, BodyParts, Case, CaseBody, CaseGenerator, Category, Expect, LargeShape,
};

fn labels(cases: &[Case]) -> Vec<&str> {
    cases.iter().map(|c| c.label.as_str()).collect()
}

#[test]
fn same_seed_same_cases_different_seed_differs() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    for i in 0..spec.operations.len() {
        let a = generator.cases(i, 7);
        let b = CaseGenerator::new(&spec).unwrap().cases(i, 7);
        assert_eq!(a, b, "operation {i}");
    }
    assert_ne!(
        generator.cases(CREATE_ORDER, 7),
        generator.cases(CREATE_ORDER, 8)
    );
    assert_eq!(
        generator.positive(GET_USER, 3, 5),
        generator.positive(GET_USER, 3, 5)
    );
    assert_ne!(
        generator.positive(GET_USER, 3, 5),
        generator.positive(GET_USER, 3, 6)
    );
    assert!(generator.cases(99, 1).is_empty());
}

#[test]
fn categories_come_in_order() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    for i in 0..spec.operations.len() {
        let cases = generator.cases(i, 1);
        let order: Vec<Category> = cases.iter().map(|c| c.category).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "operation {i}");
        assert!(cases.iter().all(|c| c.operation == i));
        assert!(cases
            .iter()
            .all(|c| c.parameters.len() == spec.operations[i].parameters.len()));
    }
}

#[test]
fn positives_are_valid() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    for i in [CREATE_ORDER, GET_USER, SEARCH, UPLOAD, PUT_BLOB, FORM, TREE] {
        for n in 0..20 {
            let case = generator.positive(i, 11, n);
            assert_eq!(case.expect, Expect::Valid, "operation {i} #{n}: {case:?}");
            assert_eq!(case.category, Category::Positive);
            assert_eq!(case.slot, None);
        }
    }
    // oneOf: each branch is reachable and valid.
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..20 {
        let case = generator.positive(8, 2, n);
        assert_eq!(case.expect, Expect::Valid, "{case:?}");
        if let Some(CaseBody::Json { value, .. }) = &case.body {
            seen.extend(value.as_object().unwrap().keys().cloned());
        }
    }
    assert!(seen.contains("bark") && seen.contains("meow"), "{seen:?}");
}

#[test]
fn every_body_case_is_judged_like_an_independent_validator() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let order = component_validator("Order");
    let cases = generator.cases(CREATE_ORDER, 3);
    let mut valid = 0;
    let mut invalid = 0;
    for case in &cases {
        let Some(CaseBody::Json {
            value,
            content_type,
        }) = &case.body
        else {
            continue;
        };
        if !case.slot.as_deref().unwrap_or("body").starts_with("body")
            || content_type != "application/json"
        {
            continue;
        }
        // Plain JSON Schema knows nothing of OpenAPI's int32/int64/float bounds;
        // those fields are checked in `boundaries_are_present_and_judged`.
        let slot = case.slot.as_deref().unwrap_or("");
        if ["body /serial", "body /small", "body /ratio"].contains(&slot) {
            continue;
        }
        assert_eq!(
            case.expect.is_valid(),
            order.is_valid(value),
            "{}: {:?}",
            case.label,
            case.expect
        );
        if case.expect.is_valid() {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    assert!(
        valid > 20 && invalid > 20,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn parameters_are_judged_as_the_text_they_travel_as() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(GET_USER, 5);
    for case in cases
        .iter()
        .filter(|c| c.slot.as_deref() == Some("query limit"))
    {
        let limit = case.parameter(unruly_core::ParameterLocation::Query, "limit");
        let ok = match limit {
            Some(Value::Number(n)) => {
                n.as_i64().is_some_and(|i| (1..=100).contains(&i))
                    || n.as_f64()
                        .is_some_and(|f| f.fract() == 0.0 && (1.0..=100.0).contains(&f))
            }
            Some(Value::String(s)) => s.parse::<i64>().is_ok_and(|i| (1..=100).contains(&i)),
            _ => false,
        };
        assert_eq!(
            case.expect.is_valid(),
            ok,
            "{}: {:?}",
            case.label,
            case.expect
        );
    }
    let missing = cases
        .iter()
        .find(|c| c.label == "query limit: missing required parameter")
        .expect("missing required parameter case");
    assert_eq!(
        missing.expect,
        Expect::Invalid("query limit: required parameter is missing".into())
    );
    let abc = cases
        .iter()
        .find(|c| c.label == "query limit: wrong type: string \"abc\"")
        .unwrap();
    assert!(!abc.expect.is_valid());
    // A path value substituted by the explorer is judged again.
    let mut edited = generator.positive(GET_USER, 5, 0);
    edited.set_parameter(unruly_core::ParameterLocation::Path, "id", Some(json!("")));
    assert!(!generator.judge(&edited).is_valid());
    edited.set_parameter(unruly_core::ParameterLocation::Path, "id", Some(json!(42)));
    assert!(generator.judge(&edited).is_valid());
}

#[test]
fn boundaries_are_present_and_judged() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(CREATE_ORDER, 1);
    let find = |label: &str| {
        cases
            .iter()
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("no case {label:?} in {:#?}", labels(&cases)))
    };
    assert_eq!(find("body /quantity = 10 (maximum)").expect, Expect::Valid);
    assert_eq!(find("body /quantity = 1 (minimum)").expect, Expect::Valid);
    let over = find("body /quantity = 11 (maximum + 1)");
    assert_eq!(over.category, Category::Boundary);
    assert_eq!(over.slot.as_deref(), Some("body /quantity"));
    assert_eq!(
        over.expect,
        Expect::Invalid("body /quantity: 11 is greater than the maximum of 10".into())
    );
    assert!(!find("body /quantity = 0 (minimum - 1)").expect.is_valid());
    for edge in [
        "2^31",
        "2^53",
        "2^63",
        "very large float",
        "smallest positive float",
        "minus one",
    ] {
        assert!(
            cases
                .iter()
                .any(|c| c.label.starts_with("body /quantity = ")
                    && c.label.ends_with(&format!("({edge})"))),
            "{edge}"
        );
    }
    let at_max = cases
        .iter()
        .find(|c| c.label.starts_with("body /item = ") && c.label.ends_with("(maxLength)"))
        .unwrap();
    assert!(at_max.expect.is_valid());
    let past = cases
        .iter()
        .find(|c| c.label.starts_with("body /item = ") && c.label.ends_with("(maxLength + 1)"))
        .unwrap();
    match &past.body {
        Some(CaseBody::Json { value, .. }) => {
            assert_eq!(value["item"].as_str().unwrap().chars().count(), 21)
        }
        other => panic!("{other:?}"),
    }
    assert!(!past.expect.is_valid());
    assert!(!find("body /item = \"\" (minLength - 1)").expect.is_valid());
    assert!(find("body /tags = [] (empty array)").expect.is_valid());
    assert!(cases.iter().any(|c| c.label.starts_with("body /tags = ")
        && c.label.ends_with("(maxItems + 1)")
        && !c.expect.is_valid()));
    assert!(
        find("body /created = \"2023-02-29T00:00:00Z\" (date-time: not a leap day)").expect
            != Expect::Valid
    );
    // OpenAPI's numeric formats bound the values.
    assert!(find("body /serial = 9223372036854775807 (int64 max)")
        .expect
        .is_valid());
    assert!(!find("body /serial = 9223372036854775808 (int64 max + 1)")
        .expect
        .is_valid());
    assert!(find("body /small = 2147483647 (int32 max)")
        .expect
        .is_valid());
    assert!(!find("body /small = 2147483648 (int32 max + 1)")
        .expect
        .is_valid());
    assert!(!find("body /ratio = 1e+308 (very large float)")
        .expect
        .is_valid());
    assert!(find("body /ratio = 5e-324 (smallest positive float)")
        .expect
        .is_valid());
    // Header parameter bounds.
    assert!(cases
        .iter()
        .any(|c| c.slot.as_deref() == Some("header X-Request-Id")
            && c.label.ends_with("(maxLength + 1)")));
}

#[test]
fn negatives_cover_types_nulls_missing_extra_and_bodies() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(CREATE_ORDER, 1);
    let find = |label: &str| {
        cases
            .iter()
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("no case {label:?} in {:#?}", labels(&cases)))
    };
    for label in [
        "body /quantity: wrong type: string \"abc\"",
        "body /quantity: null",
        "body /quantity: missing required field",
        "body: unexpected extra field unruly_extra",
        "body: malformed JSON",
        "body: missing request body",
        "header X-Request-Id: missing required parameter",
    ] {
        let c = find(label);
        assert_eq!(c.category, Category::Negative);
        assert!(!c.expect.is_valid(), "{label} should be invalid");
    }
    // `note` may be null; an extra field inside address is allowed.
    assert!(find("body /note: wrong type: number 123").expect != Expect::Valid);
    assert!(cases.iter().all(|c| c.label != "body /note: null"));
    assert!(find("body /address: unexpected extra field unruly_extra")
        .expect
        .is_valid());
    let wrong = find("content-type: text/plain instead of application/json");
    assert_eq!(wrong.slot.as_deref(), Some("content-type"));
    assert!(
        matches!(&wrong.expect, Expect::Invalid(why) if why.starts_with("content-type: text/plain is not accepted"))
    );
    let malformed = find("body: malformed JSON");
    assert_eq!(
        malformed.expect,
        Expect::Invalid("body: malformed JSON".into())
    );
}

#[test]
fn corpus_goes_into_every_string_slot() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(CREATE_ORDER, 1);
    let strange: Vec<&Case> = cases
        .iter()
        .filter(|c| c.category == Category::Strange)
        .collect();
    let n = corpus::strings().len();
    for slot in [
        "body /item",
        "body /note",
        "body /email",
        "body /code",
        "body /address/street",
        "body /tags/0",
    ] {
        let count = strange
            .iter()
            .filter(|c| c.slot.as_deref() == Some(slot))
            .count();
        assert_eq!(count, n, "{slot}");
    }
    // Numbers get no corpus strings.
    assert!(strange
        .iter()
        .all(|c| c.slot.as_deref() != Some("body /quantity")));
    let rtl = strange
        .iter()
        .find(|c| c.label == "body /item: right-to-left override")
        .unwrap();
    assert!(
        rtl.expect.is_valid(),
        "a short strange string fits the item schema"
    );
    let long = strange
        .iter()
        .find(|c| c.label == "body /item: 10,000 characters")
        .unwrap();
    assert!(
        matches!(&long.expect, Expect::Invalid(why) if why.starts_with("body /item: ") && why.len() < 400)
    );
    let sql = strange
        .iter()
        .find(|c| c.label == "body /note: SQL drop table")
        .unwrap();
    assert!(sql.expect.is_valid());
    // Header values that are not plain ASCII are never generated.
    let header: Vec<&&Case> = strange
        .iter()
        .filter(|c| c.slot.as_deref() == Some("header X-Request-Id"))
        .collect();
    assert!(!header.is_empty() && header.len() < n);
    for c in &header {
        let request = c.to_request(&spec);
        let (_, v) = request
            .headers
            .iter()
            .find(|(k, _)| k == "X-Request-Id")
            .unwrap();
        let original = c
            .parameter(unruly_core::ParameterLocation::Header, "X-Request-Id")
            .unwrap();
        assert_eq!(original, &Value::String(v.clone()), "sent as it is");
    }
}

#[test]
fn large_bodies_stream_with_exact_length() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(CREATE_ORDER, 1);
    let large: Vec<&Case> = cases
        .iter()
        .filter(|c| c.category == Category::Large)
        .collect();
    assert_eq!(large.len(), 3);
    let sizes: Vec<u64> = large
        .iter()
        .map(|c| match &c.body {
            Some(CaseBody::Large { size, .. }) => *size,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, vec![1 << 20, 10 << 20, 100 << 20]);
    // The 1 MiB one is a whole valid JSON document; it stretches a field without a maxLength.
    let request = large[0].to_request(&spec);
    let BodyParts::Stream(stream) = request.body else {
        panic!("not streamed")
    };
    assert_eq!(stream.len(), 1 << 20);
    let bytes: Vec<u8> = stream.flat_map(|c| c.to_vec()).collect();
    assert_eq!(bytes.len(), 1 << 20);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(component_validator("Order").is_valid(&doc));
    assert!(large[0].expect.is_valid(), "{:?}", large[0].expect);
    // The 100 MiB one is iterated chunk by chunk, never held.
    let request = large[2].to_request(&spec);
    assert!(request
        .headers
        .contains(&("Content-Type".into(), "application/json".into())));
    let BodyParts::Stream(stream) = request.body else {
        panic!("not streamed")
    };
    assert_eq!(stream.len(), 100 << 20);
    let mut total = 0u64;
    let mut chunks = 0;
    for chunk in stream {
        assert!(!chunk.is_empty() && chunk.len() <= 1 << 20);
        total += chunk.len() as u64;
        chunks += 1;
    }
    assert_eq!(total, 100 << 20);
    assert!(chunks >= 100);

    // Octet-stream: raw bytes; multipart: a file part; form: a stretched field.
    for (op, shape_ok) in [
        (
            PUT_BLOB,
            (|s: &LargeShape| matches!(s, LargeShape::Binary)) as fn(&LargeShape) -> bool,
        ),
        (
            UPLOAD,
            |s| matches!(s, LargeShape::MultipartFile { name, .. } if name == "file"),
        ),
        (FORM, |s| matches!(s, LargeShape::FormField { .. })),
    ] {
        let cases = generator.cases(op, 1);
        let first = cases
            .iter()
            .find(|c| c.category == Category::Large)
            .unwrap();
        let Some(CaseBody::Large { shape, size, .. }) = &first.body else {
            panic!()
        };
        assert!(shape_ok(shape), "{shape:?}");
        let BodyParts::Stream(s) = first.to_request(&spec).body else {
            panic!()
        };
        assert_eq!(s.len(), *size);
        assert_eq!(s.map(|c| c.len() as u64).sum::<u64>(), *size);
    }
}

#[test]
fn cyclic_schemas_terminate() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let start = Instant::now();
    for op in [TREE, 7] {
        let cases = generator.cases(op, 4);
        assert!(!cases.is_empty());
        for n in 0..10 {
            let _ = generator.positive(op, 4, n);
        }
    }
    assert!(start.elapsed().as_secs() < 20);
    assert!(generator.positive(TREE, 4, 0).expect.is_valid());
}

#[test]
fn weird_specs_give_fewer_cases_not_panics() {
    let mut spec = spec();
    spec.operations.push(op(
        "POST",
        "/weird/{missing}",
        vec![
            param("x", unruly_core::ParameterLocation::Query, true, unruly_core::ParameterStyle::Form, true, json!(false)),
            param("y", unruly_core::ParameterLocation::Header, false, unruly_core::ParameterStyle::Simple, false, json!({"$ref": "#/nowhere"})),
            param("bad name", unruly_core::ParameterLocation::Header, true, unruly_core::ParameterStyle::Simple, false, json!({"type": "string", "pattern": "(?<=x)y["})),
            param("z", unruly_core::ParameterLocation::Query, false, unruly_core::ParameterStyle::Form, true, json!({"type": ["integer", "string"], "minimum": 5e300, "maxLength": 99999999999u64, "minLength": 99999999999u64})),
        ],
        body("*/*", json!({"type": "object", "minProperties": 3, "properties": {"a": {"type": "array", "minItems": 100000000}}})),
    ));
    let index = spec.operations.len() - 1;
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(index, 1);
    assert!(!cases.is_empty());
    for c in &cases {
        let r = c.to_request(&spec);
        assert!(r.path_and_query.starts_with("/weird/"));
        for (k, v) in &r.headers {
            assert!(k.bytes().all(|b| b.is_ascii_graphic()));
            assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{v:?}");
        }
    }
}

#[test]
fn cases_are_fast() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let _ = generator.cases(CREATE_ORDER, 0);
    let start = Instant::now();
    let mut count = 0;
    for seed in 0..5 {
        count += generator.cases(CREATE_ORDER, seed).len();
    }
    let per_call = start.elapsed() / 5;
    eprintln!(
        "cases(): {} cases per call, {per_call:?} per call",
        count / 5
    );
    // Generous for debug builds; release builds are far faster.
    assert!(per_call.as_millis() < 2_000);
}

#[test]
fn the_generator_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<CaseGenerator<'static>>();
    shareable::<Case>();
    shareable::<unruly_inputs::RequestParts>();
}
