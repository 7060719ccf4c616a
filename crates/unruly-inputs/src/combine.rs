//! Combining cases: the value one case varies, carried into another, so random
//! exploration can try several strange values at once.

use crate::case::{parse_slot, Case, SlotRef};
use crate::pointer;

impl Case {
    /// Carries the value `donor` varies (its slot) into this case: a parameter,
    /// a place in the body (removed here when the donor omits it), or the whole
    /// body for `body` and `content-type` slots. Returns whether anything
    /// changed. Call [`CaseGenerator::judge`](crate::CaseGenerator::judge)
    /// afterwards to update `expect`.
    pub fn transplant(&mut self, donor: &Case) -> bool {
        if donor.operation != self.operation {
            return false;
        }
        let Some(slot) = donor.slot.as_deref().and_then(parse_slot) else {
            return false;
        };
        match slot {
            SlotRef::Parameter(location, name) => {
                let value = donor.parameter(location, &name).cloned();
                self.set_parameter(location, &name, value)
            }
            SlotRef::Body(at) if !at.is_empty() => {
                let (Some(target), Some(source)) = (
                    self.body.as_mut().and_then(|b| b.value_mut()),
                    donor.body.as_ref().and_then(|b| b.value()),
                ) else {
                    return false;
                };
                match source.pointer(&at) {
                    Some(value) => {
                        let value = value.clone();
                        pointer::replace(target, &at, value.clone()) || insert(target, &at, value)
                    }
                    None => pointer::remove(target, &at),
                }
            }
            SlotRef::Body(_) | SlotRef::ContentType => {
                self.body = donor.body.clone();
                true
            }
        }
    }
}

/// Adds `value` at `at` when its parent object exists.
fn insert(root: &mut serde_json::Value, at: &str, value: serde_json::Value) -> bool {
    let Some((parent, name)) = pointer::split_last(at) else {
        return false;
    };
    match root.pointer_mut(parent).and_then(|p| p.as_object_mut()) {
        Some(object) => {
            object.insert(name, value);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::case::{CaseBody, CaseParameter, Category, Expect};
    use crate::Case;
    use serde_json::json;
    use unruly_core::ParameterLocation;

    fn case(slot: Option<&str>, q: Option<serde_json::Value>, body: serde_json::Value) -> Case {
        Case {
            operation: 0,
            category: Category::Strange,
            label: "x".into(),
            expect: Expect::Valid,
            parameters: vec![CaseParameter {
                name: "q".into(),
                location: ParameterLocation::Query,
                value: q,
            }],
            body: Some(CaseBody::Json {
                content_type: "application/json".into(),
                value: body,
            }),
            slot: slot.map(str::to_owned),
        }
    }

    #[test]
    fn slots_carry_over() {
        let mut base = case(None, Some(json!("a")), json!({"name": "Ada", "n": 1}));
        assert!(base.transplant(&case(Some("query q"), Some(json!("'")), json!({}))));
        assert_eq!(
            base.parameter(ParameterLocation::Query, "q"),
            Some(&json!("'"))
        );
        assert!(base.transplant(&case(Some("body /name"), None, json!({"name": "😀"}))));
        assert!(base.transplant(&case(Some("body /n"), None, json!({"name": "x"}))));
        assert_eq!(
            base.body.as_ref().unwrap().value(),
            Some(&json!({"name": "😀"}))
        );
        assert!(!base.transplant(&case(None, None, json!({}))));
    }
}
