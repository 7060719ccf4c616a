//! Checking requests against the service's own OpenAPI document: request bodies with a real
//! JSON Schema validator (draft 2020-12, formats asserted), integers in paths and queries
//! in their one canonical spelling, and the body's media type.

use std::num::ParseIntError;
use std::sync::LazyLock;

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use jsonschema::{Draft, Validator};
use serde_json::Value;

use crate::respond::ApiError;

/// A request body schema of the document, by its name under `#/components/schemas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodySchema {
    /// `POST /orders`.
    NewOrder,
    /// `POST /users`.
    NewUser,
    /// `POST /accounts`.
    NewAccount,
    /// `POST /accounts/{id}/withdrawals`.
    Withdrawal,
}

impl BodySchema {
    /// The name under `#/components/schemas`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BodySchema::NewOrder => "NewOrder",
            BodySchema::NewUser => "NewUser",
            BodySchema::NewAccount => "NewAccount",
            BodySchema::Withdrawal => "Withdrawal",
        }
    }
}

/// The compiled body validators, built once from the served document.
struct Validators {
    new_order: Validator,
    new_user: Validator,
    new_account: Validator,
    withdrawal: Validator,
}

static VALIDATORS: LazyLock<Validators> = LazyLock::new(|| Validators {
    new_order: compile(BodySchema::NewOrder),
    new_user: compile(BodySchema::NewUser),
    new_account: compile(BodySchema::NewAccount),
    withdrawal: compile(BodySchema::Withdrawal),
});

/// Compiles the body validators now rather than on the first request that needs them.
pub(crate) fn prepare() {
    LazyLock::force(&VALIDATORS);
}

/// A validator whose root is the whole document plus `"$ref": "#/components/schemas/NAME"`,
/// so that every reference inside resolves as it does for a client reading the document.
fn compile(schema: BodySchema) -> Validator {
    // The document is a constant of this crate, and a test compiles every schema of it: a
    // failure here is a bug in the crate, not something a client can cause.
    let mut root: Value =
        serde_json::from_str(crate::openapi_json()).expect("the OpenAPI document is JSON");
    if let Value::Object(fields) = &mut root {
        fields.insert(
            "$ref".to_owned(),
            Value::from(format!("#/components/schemas/{}", schema.name())),
        );
    }
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the OpenAPI document's schemas compile")
}

/// Checks `body` against `schema`. The error names where in the schema the body failed,
/// never the offending value (which the client chose and may be huge or hostile).
pub(crate) fn body(schema: BodySchema, body: &Value) -> Result<(), ApiError> {
    let validator = match schema {
        BodySchema::NewOrder => &VALIDATORS.new_order,
        BodySchema::NewUser => &VALIDATORS.new_user,
        BodySchema::NewAccount => &VALIDATORS.new_account,
        BodySchema::Withdrawal => &VALIDATORS.withdrawal,
    };
    match validator.iter_errors(body).next() {
        None => Ok(()),
        Some(error) => {
            let at = error.schema_path.to_string();
            let at = at.strip_prefix("/$ref").unwrap_or(&at);
            Err(ApiError::BadRequest(format!(
                "the body breaks the {} schema at {}",
                schema.name(),
                if at.is_empty() { "/" } else { at }
            )))
        }
    }
}

/// Parses a JSON body; the error says where the JSON broke, never what it held.
pub(crate) fn json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}

/// Whether the request declares a JSON body: `Content-Type: application/json`, in any case,
/// with any parameters.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// `415` unless the request declares a JSON body.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    if is_json(headers) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// An integer written the one way JSON writes it: `0` or an optional `-` and digits without
/// a leading zero. `+5`, `05`, ` 5`, `5.0` and `1e3` are refused (as a JSON parser would)
/// with the error `str::parse` gives for a non-digit; an overflow keeps its own error.
pub(crate) fn integer<T>(raw: &str) -> Result<T, ParseIntError>
where
    T: std::str::FromStr<Err = ParseIntError>,
{
    let parsed = raw.parse::<T>()?;
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let canonical = !raw.starts_with('+') && (digits == "0" || !digits.starts_with('0'));
    if canonical {
        Ok(parsed)
    } else {
        Err(non_digit())
    }
}

/// The error `str::parse` gives for a stray character (`InvalidDigit`).
fn non_digit() -> ParseIntError {
    match "x".parse::<u8>() {
        Err(error) => error,
        Ok(_) => unreachable!("x is not a number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;
    use std::num::IntErrorKind;

    #[test]
    fn canonical_integers_only() {
        assert_eq!(integer::<i64>("0"), Ok(0));
        assert_eq!(integer::<i64>("-7"), Ok(-7));
        assert_eq!(integer::<u64>("18446744073709551615"), Ok(u64::MAX));
        for raw in [
            "+5", "05", "-05", "00", " 5", "5 ", "5.0", "1e3", "", "-", "x", "-0x1",
        ] {
            let error = integer::<i64>(raw).expect_err(raw);
            assert!(
                matches!(
                    error.kind(),
                    IntErrorKind::InvalidDigit | IntErrorKind::Empty
                ),
                "{raw}: {error:?}"
            );
        }
        assert_eq!(
            integer::<i64>("99999999999999999999").map_err(|e| *e.kind()),
            Err(IntErrorKind::PosOverflow)
        );
        assert_eq!(integer::<i64>("-0"), Ok(0));
    }

    #[test]
    fn json_media_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, json) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            (" application/json ;x=1", true),
            ("text/plain", false),
            ("application/json-patch+json", false),
            ("application/x-www-form-urlencoded", false),
            ("", false),
        ] {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json(&headers), json, "{value}");
            assert_eq!(require_json(&headers).is_ok(), json, "{value}");
        }
    }

    #[test]
    fn bodies_are_checked_against_the_document() {
        let user = |v: Value| body(BodySchema::NewUser, &v).map_err(|e| e.to_string());
        assert!(user(json!({"name": "Ada", "email": "ada@example.com"})).is_ok());
        assert!(user(json!({"name": "Ada", "email": "ada@example.com", "x": [1]})).is_ok());
        assert!(user(json!({"name": "é".repeat(64), "email": "a@b.co"})).is_ok());
        let refused = [
            json!({"name": "Ada"}),
            json!({"email": "ada@example.com"}),
            json!({"name": "", "email": "ada@example.com"}),
            json!({"name": "é".repeat(65), "email": "ada@example.com"}),
            json!({"name": "Ada", "email": "not an email"}),
            json!({"name": "Ada", "email": "ada@"}),
            json!({"name": 7, "email": "ada@example.com"}),
            json!({"name": "Ada", "email": null}),
            json!({"name": "Ada", "email": format!("{}@example.com", "a".repeat(250))}),
            json!(null),
            json!([]),
        ];
        for value in refused {
            let error = user(value.clone()).expect_err(&value.to_string());
            assert!(error.starts_with("the body breaks the NewUser schema at /"));
        }
        let order = |v: Value| body(BodySchema::NewOrder, &v).is_ok();
        assert!(order(
            json!({"product_id": 1, "quantity": 10, "customer": "a"})
        ));
        assert!(!order(
            json!({"product_id": 1, "quantity": 11, "customer": "a"})
        ));
        assert!(!order(
            json!({"product_id": 0, "quantity": 1, "customer": "a"})
        ));
        let account = |v: Value| body(BodySchema::NewAccount, &v).is_ok();
        assert!(account(json!({"owner": "Ada", "balance": 0})));
        assert!(account(
            json!({"owner": "é".repeat(64), "balance": 1_000_000})
        ));
        for refused in [
            json!({"owner": "", "balance": 1}),
            json!({"owner": "a".repeat(65), "balance": 1}),
            json!({"owner": "Ada", "balance": -1}),
            json!({"owner": "Ada", "balance": 1_000_001}),
            json!({"owner": "Ada", "balance": 1.5}),
            json!({"owner": "Ada"}),
            json!({"balance": 1}),
        ] {
            assert!(!account(refused.clone()), "{refused}");
        }
        let withdrawal = |v: Value| body(BodySchema::Withdrawal, &v).is_ok();
        assert!(withdrawal(json!({"amount": 1})));
        assert!(withdrawal(json!({"amount": 1_000_000})));
        for refused in [
            json!({"amount": 0}),
            json!({"amount": 1_000_001}),
            json!({"amount": "1"}),
            json!({}),
        ] {
            assert!(!withdrawal(refused.clone()), "{refused}");
        }
    }

    #[test]
    fn errors_do_not_echo_the_body() {
        let hostile = "/srv/app/secret.py".repeat(10);
        let error = body(BodySchema::NewUser, &json!({"name": hostile, "email": "x"}))
            .expect_err("too long");
        assert!(!error.to_string().contains("/srv/"), "{error}");
    }
}
