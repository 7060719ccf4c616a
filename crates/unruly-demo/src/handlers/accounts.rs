//! `POST /accounts`, `GET /accounts/{id}` and `POST /accounts/{id}/withdrawals`.
//!
//! Both variants validate bodies against the `NewAccount` and `Withdrawal` schemas. The
//! buggy variant checks the balance, then debits it a database round trip later without a
//! lock, so concurrent withdrawals take it below zero; the correct one makes the round trip
//! first, then checks and debits in one atomic step (no withdrawal waits for another).

use std::sync::Arc;

use http::header::{HeaderValue, LOCATION};
use http::request::Parts;
use http::{Response, StatusCode};
use serde_json::Value;

use crate::accounts::{Account, Insufficient};
use crate::respond::{self, ApiError, Body};
use crate::shop::Shop;
use crate::validate::{self, BodySchema};
use crate::Variant;

/// `POST /accounts`, once its body has arrived.
pub(crate) fn create(shop: &Shop, parts: &Parts, body: &[u8]) -> Result<Response<Body>, ApiError> {
    validate::require_json(&parts.headers)?;
    let value = validate::json(body)?;
    validate::body(BodySchema::NewAccount, &value)?;
    let (Some(owner), Some(balance)) = (
        value.get("owner").and_then(Value::as_str),
        value.get("balance").and_then(integer),
    ) else {
        // The schema requires both: this only guards against a schema edit.
        return Err(ApiError::BadRequest(
            "owner (a string) and balance (an integer) are required".to_owned(),
        ));
    };
    let account = shop.accounts.open(owner.to_owned(), balance);
    let mut response = respond::json(StatusCode::CREATED, &account.view());
    if let Ok(location) = HeaderValue::from_str(&format!("/accounts/{}", account.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /accounts/{id}`.
pub(crate) fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let account = find(shop, account_id(raw_id)?)?;
    Ok(respond::json(StatusCode::OK, &account.view()))
}

/// `POST /accounts/{id}/withdrawals`, once its body has arrived: the account after the
/// withdrawal, or a 409 when its balance is lower than the amount.
pub(crate) async fn withdraw(
    shop: &Shop,
    raw_id: &str,
    parts: &Parts,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let id = account_id(raw_id)?;
    validate::require_json(&parts.headers)?;
    let value = validate::json(body)?;
    validate::body(BodySchema::Withdrawal, &value)?;
    let Some(amount) = value.get("amount").and_then(integer) else {
        // The schema requires it: this only guards against a schema edit.
        return Err(ApiError::BadRequest(
            "amount (an integer) is required".to_owned(),
        ));
    };
    let account = find(shop, id)?;
    let withdrawn = match shop.variant {
        // Bug: check, wait, then subtract from whatever the balance is by then.
        Variant::Buggy => account.withdraw_racy(amount).await,
        Variant::Correct => account.withdraw_atomic(amount).await,
    };
    match withdrawn {
        Ok(balance) => Ok(respond::json(StatusCode::OK, &account.view_with(balance))),
        Err(Insufficient { balance }) => Err(ApiError::Conflict(format!(
            "account {id} has a balance of {balance}, {amount} requested"
        ))),
    }
}

/// A JSON integer as an `i64`: `60`, or `60.0`, which JSON Schema counts as an integer too.
/// Only for values the schema has already bounded (to at most 1,000,000), so the
/// conversion of a float is exact.
fn integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= 1e15)
            .map(|f| f as i64)
    })
}

/// An `{id}`: an integer of at least 1, in its canonical spelling.
fn account_id(raw_id: &str) -> Result<u64, ApiError> {
    validate::integer::<u64>(raw_id)
        .ok()
        .filter(|&id| id >= 1)
        .ok_or_else(|| ApiError::BadRequest("id must be an integer of at least 1".to_owned()))
}

/// The account with this id, or a 404.
fn find(shop: &Shop, id: u64) -> Result<Arc<Account>, ApiError> {
    shop.accounts
        .get(id)
        .ok_or_else(|| ApiError::NotFound(format!("account {id} not found")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_may_be_written_as_floats() {
        assert_eq!(integer(&serde_json::json!(60)), Some(60));
        assert_eq!(integer(&serde_json::json!(60.0)), Some(60));
        assert_eq!(integer(&serde_json::json!(1e20)), None);
        for not in [serde_json::json!(0.5), serde_json::json!("1"), Value::Null] {
            assert_eq!(integer(&not), None, "{not}");
        }
    }

    #[test]
    fn ids_are_canonical_integers_of_at_least_one() {
        assert_eq!(account_id("1").ok(), Some(1));
        assert_eq!(
            account_id("18446744073709551615").ok(),
            Some(18_446_744_073_709_551_615)
        );
        for raw in [
            "0",
            "-1",
            "01",
            "+1",
            "1.0",
            "x",
            "",
            "18446744073709551616",
        ] {
            assert!(account_id(raw).is_err(), "{raw}");
        }
    }
}
