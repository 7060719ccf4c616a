//! Shrinking: smaller failing cases that keep the slot.

mod common;

use common::*;
use serde_json::Value;
use unruly_inputs::{shrink, Case, CaseBody, CaseGenerator, Category, MAX_SHRINK_CANDIDATES};

/// Shrinks `case` as the explorer would: keep the first candidate that still
/// "shows the bug", until none does.
fn minimise(
    generator: &CaseGenerator<'_>,
    mut case: Case,
    bug: impl Fn(&Case) -> bool,
) -> (Case, usize) {
    assert!(bug(&case));
    let mut rounds = 0;
    loop {
        let candidates = generator.shrink(&case);
        assert!(candidates.len() <= MAX_SHRINK_CANDIDATES);
        for c in &candidates {
            assert_eq!(c.slot, case.slot);
            assert_eq!(c.category, case.category);
            assert_eq!(c.expect, generator.judge(c), "expect recomputed");
        }
        match candidates.into_iter().find(|c| bug(c)) {
            Some(smaller) => case = smaller,
            None => return (case, rounds),
        }
        rounds += 1;
        assert!(rounds < 500, "shrinking does not end");
    }
}

fn body(case: &Case) -> &Value {
    match &case.body {
        Some(CaseBody::Json { value, .. }) => value,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_long_failing_string_shrinks_to_the_limit_and_keeps_its_slot() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let long = generator
        .cases(CREATE_ORDER, 1)
        .into_iter()
        .find(|c| c.label == "body /item: 10,000 characters")
        .unwrap();
    // The "bug": the service chokes on items longer than 20 characters.
    let bug = |c: &Case| {
        body(c)["item"]
            .as_str()
            .is_some_and(|s| s.chars().count() > 20)
    };
    let (small, rounds) = minimise(&generator, long, bug);
    assert_eq!(body(&small)["item"].as_str().unwrap().chars().count(), 21);
    assert_eq!(small.slot.as_deref(), Some("body /item"));
    assert_eq!(small.category, Category::Strange);
    assert!(small.label.ends_with("(shrunk)") && !small.label.ends_with("(shrunk) (shrunk)"));
    assert!(!small.expect.is_valid());
    assert!(rounds < 60, "{rounds} rounds");
    // Optional fields off the slot were dropped along the way.
    let keys: Vec<&String> = body(&small).as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["item", "quantity"]);
    assert!(small
        .parameter(unruly_core::ParameterLocation::Query, "dry_run")
        .is_none());
    // The free function gives the same candidates.
    assert_eq!(shrink(&small, &spec), generator.shrink(&small));
}

#[test]
fn numbers_shrink_toward_zero_or_the_limit() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let huge = generator
        .cases(CREATE_ORDER, 1)
        .into_iter()
        .find(|c| c.label == "body /quantity = 1e+308 (very large float)")
        .unwrap();
    let bug = |c: &Case| body(c)["quantity"].as_f64().is_some_and(|q| q > 10.0);
    let (small, _) = minimise(&generator, huge, bug);
    assert_eq!(body(&small)["quantity"], serde_json::json!(11));
    assert!(!small.expect.is_valid());
}

#[test]
fn parameters_and_large_bodies_shrink() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let cases = generator.cases(GET_USER, 1);
    let sql = cases
        .iter()
        .find(|c| c.label == "cookie session: SQL union")
        .cloned();
    let path = cases
        .iter()
        .find(|c| c.label == "path id: 10,000 characters")
        .cloned()
        .unwrap();
    let bug = |c: &Case| {
        c.parameter(unruly_core::ParameterLocation::Path, "id")
            .and_then(Value::as_str)
            .is_some_and(|s| s.len() >= 3)
    };
    let (small, _) = minimise(&generator, path, bug);
    assert_eq!(
        small
            .parameter(unruly_core::ParameterLocation::Path, "id")
            .unwrap()
            .as_str()
            .unwrap()
            .len(),
        3
    );
    assert!(
        sql.is_none(),
        "a cookie value with spaces is never generated"
    );

    let large = generator
        .cases(CREATE_ORDER, 1)
        .into_iter()
        .find(|c| c.category == Category::Large && c.label.starts_with("body: 100 MiB"))
        .unwrap();
    let sizes: Vec<u64> = generator
        .shrink(&large)
        .iter()
        .filter_map(|c| match &c.body {
            Some(CaseBody::Large { size, .. }) => Some(*size),
            _ => None,
        })
        .collect();
    assert_eq!(sizes[..5], [4 << 10, 64 << 10, 1 << 20, 10 << 20, 50 << 20]);
    // Then the same size without the optional query parameter.
    assert!(sizes[5..].iter().all(|s| *s == 100 << 20));
}

#[test]
fn the_smallest_cases_have_no_candidates_left() {
    let spec = spec();
    let generator = CaseGenerator::new(&spec).unwrap();
    let minimal = generator.positive(CREATE_ORDER, 1, 1);
    // Slot-less: only optional parameters and fields could go, and there are none.
    assert_eq!(body(&minimal).as_object().unwrap().len(), 2);
    assert!(generator.shrink(&minimal).is_empty());
}
