//! `POST /orders` and `GET /orders/{id}`: where most of the buggy variant's bugs live.
//!
//! The correct variant honours the `Idempotency-Key` header of `POST /orders` (see
//! [`crate::idempotency`]); the buggy one ignores it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::header::{HeaderValue, LOCATION};
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Map, Value};

use crate::idempotency::Begin;
use crate::respond::{self, ApiError, Body, Recorded};
use crate::shop::{Order, Product, Shop};
use crate::validate::{self, BodySchema};
use crate::Variant;

/// Simulated database work per order.
const DB_WORK: Duration = Duration::from_millis(2);
/// The buggy variant's gap between reading the stock and writing it back.
const RACE_WINDOW: Duration = Duration::from_millis(1);
/// The largest id the buggy variant's orders table (an `int4` column) can hold.
const INT4_MAX: u64 = i32::MAX as u64;
/// The header that makes a retried order safe.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The spec's bounds on an order, and the buggy variant's laxer ones.
const MAX_QUANTITY: i64 = 10;
const MAX_CUSTOMER: usize = 64;
const BUGGY_MAX_CUSTOMER: usize = 1024;

/// `POST /orders`, once its body has arrived.
pub(crate) async fn create(
    shop: &Shop,
    parts: &Parts,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    if shop.variant == Variant::Buggy {
        // Bug: every body is kept forever.
        shop.leak.retain(body);
    }
    validate::require_json(&parts.headers)?;
    let new = NewOrder::parse(body, shop.variant)?;
    let product = shop
        .product(new.product_id)
        .ok_or_else(|| ApiError::NotFound(format!("product {} not found", new.product_id)))?;
    match shop.variant {
        Variant::Buggy => place_buggy(shop, product, new).await,
        Variant::Correct => {
            let key = idempotency_key(&parts.headers)?;
            place_correct(shop, product, new, key, body).await
        }
    }
}

/// The buggy variant's order: the Idempotency-Key is never looked at (a repeated
/// submission places a second order), the stock is checked then taken without a lock, and
/// the "database" work holds one global lock.
async fn place_buggy(
    shop: &Shop,
    product: &Product,
    new: NewOrder,
) -> Result<Response<Body>, ApiError> {
    // Bug: check-then-act on the stock, with a gap in between.
    let reserved = reserve_racy(product, new.quantity).await;
    // Bug: one global lock around the "database" work.
    let _db = shop.global_lock.lock().await;
    tokio::time::sleep(DB_WORK).await;
    if !reserved {
        return Err(out_of_stock(product, new.quantity));
    }
    let order = shop.place_order(product, new.quantity, new.customer);
    Ok(created(&order).into_response())
}

/// The correct variant's order. A request with an Idempotency-Key first claims it: a key
/// already used with the same body replays the first answer (no second order, no second
/// reservation), one still in flight is a 409, one used with another body a 422. A
/// request that fails, or is abandoned, gives its key back.
///
/// The database work runs first, with no lock held; then the stock is reserved, the order
/// recorded and the key completed with no await in between, so an abandoned request
/// changes nothing or everything.
async fn place_correct(
    shop: &Shop,
    product: &Product,
    new: NewOrder,
    key: Option<&[u8]>,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let claim = match key.map(|key| shop.idempotency.begin(key, body)) {
        None => None,
        Some(Begin::Claimed(claim)) => Some(claim),
        Some(Begin::Replay(answer)) => return Ok(answer.into_response()),
        Some(Begin::InFlight) => {
            return Err(ApiError::Conflict(
                "a request with this Idempotency-Key is still being processed".to_owned(),
            ))
        }
        Some(Begin::Mismatch) => {
            return Err(ApiError::UnprocessableEntity(
                "this Idempotency-Key was already used with a different body".to_owned(),
            ))
        }
    };
    tokio::time::sleep(DB_WORK).await;
    if !reserve_atomic(product, new.quantity) {
        return Err(out_of_stock(product, new.quantity));
    }
    let answer = created(&shop.place_order(product, new.quantity, new.customer));
    if let Some(claim) = claim {
        claim.complete(&answer);
    }
    Ok(answer.into_response())
}

/// The request's Idempotency-Key, as its raw bytes (any string is a key, the empty one
/// included), if it has one.
///
/// # Errors
///
/// 400 when the header is sent more than once: which request would it be?
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&[u8]>, ApiError> {
    let mut keys = headers.get_all(IDEMPOTENCY_KEY).iter();
    let key = keys.next();
    if keys.next().is_some() {
        return Err(bad("the Idempotency-Key header must be sent at most once"));
    }
    Ok(key.map(HeaderValue::as_bytes))
}

/// The 409 for an order the stock cannot meet.
fn out_of_stock(product: &Product, quantity: i64) -> ApiError {
    ApiError::Conflict(format!(
        "product {} has {} left, {quantity} requested",
        product.id,
        product.stock.load(Ordering::SeqCst),
    ))
}

/// `GET /orders/{id}`. In the buggy variant an id past 2^31-1 does not fit the orders
/// table's `int4` id column: the typed lookup fails, the error is swallowed, and the request
/// falls through to the router's plain-text not-found answer.
pub(crate) fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = validate::integer::<u64>(raw_id)
        .ok()
        .filter(|&id| id >= 1)
        .ok_or_else(|| ApiError::BadRequest("id must be an integer of at least 1".to_owned()))?;
    if shop.variant == Variant::Buggy && id > INT4_MAX {
        // Bug: a 404 in a content type the spec does not document.
        return Ok(respond::text(StatusCode::NOT_FOUND, "404 page not found\n"));
    }
    let order = shop
        .order(id)
        .ok_or_else(|| ApiError::NotFound(format!("order {id} not found")))?;
    Ok(respond::json(StatusCode::OK, &order))
}

/// `201 Created` with a `Location`, recorded so that an Idempotency-Key can replay it.
fn created(order: &Order) -> Recorded {
    let answer = Recorded::json(StatusCode::CREATED, order);
    match HeaderValue::from_str(&format!("/orders/{}", order.id)) {
        Ok(location) => answer.with_header(LOCATION, location),
        Err(_) => answer,
    }
}

/// Takes `quantity` from the stock in one atomic step, if there is enough.
fn reserve_atomic(product: &Product, quantity: i64) -> bool {
    product
        .stock
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |stock| {
            stock.checked_sub(quantity).filter(|&left| left >= 0)
        })
        .is_ok()
}

/// The buggy reservation: reads the stock, waits, then subtracts from whatever is there.
async fn reserve_racy(product: &Product, quantity: i64) -> bool {
    let seen = product.stock.load(Ordering::SeqCst);
    if seen < quantity {
        return false;
    }
    tokio::time::sleep(RACE_WINDOW).await;
    product.stock.fetch_sub(quantity, Ordering::SeqCst);
    true
}

/// A validated `POST /orders` body.
#[derive(Debug, PartialEq, Eq)]
struct NewOrder {
    product_id: i64,
    quantity: i64,
    customer: String,
}

impl NewOrder {
    /// Parses and validates a body: the correct variant against the `NewOrder` schema
    /// first; the buggy variant by hand, skipping the upper bounds.
    fn parse(body: &[u8], variant: Variant) -> Result<NewOrder, ApiError> {
        let value = validate::json(body)?;
        if variant == Variant::Correct {
            validate::body(BodySchema::NewOrder, &value)?;
        }
        let Value::Object(fields) = value else {
            return Err(bad("the body must be a JSON object"));
        };
        let product_id = integer(&fields, "product_id")?;
        if product_id < 1 {
            return Err(bad("product_id must be at least 1"));
        }
        let quantity = integer(&fields, "quantity")?;
        if quantity < 1 {
            return Err(bad("quantity must be at least 1"));
        }
        if quantity > MAX_QUANTITY && variant == Variant::Correct {
            return Err(bad("quantity must be at most 10"));
        }
        let customer = match fields.get("customer") {
            Some(Value::String(customer)) => customer,
            Some(_) => return Err(bad("customer must be a string")),
            None => return Err(bad("customer is required")),
        };
        let length = customer.chars().count();
        let max = match variant {
            Variant::Correct => MAX_CUSTOMER,
            // Bug: the database column is wider than the spec says.
            Variant::Buggy => BUGGY_MAX_CUSTOMER,
        };
        if length == 0 {
            return Err(bad("customer must not be empty"));
        }
        if length > max {
            return Err(ApiError::BadRequest(format!(
                "customer must be at most {max} characters"
            )));
        }
        Ok(NewOrder {
            product_id,
            quantity,
            customer: customer.clone(),
        })
    }
}

fn bad(message: &str) -> ApiError {
    ApiError::BadRequest(message.to_owned())
}

/// A required field holding an integer that fits an `i64` (not `1.0`, not `"1"`).
fn integer(fields: &Map<String, Value>, name: &str) -> Result<i64, ApiError> {
    match fields.get(name) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| ApiError::BadRequest(format!("{name} must be a 64-bit integer"))),
        Some(_) => Err(ApiError::BadRequest(format!("{name} must be an integer"))),
        None => Err(ApiError::BadRequest(format!("{name} is required"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str, variant: Variant) -> Result<NewOrder, String> {
        NewOrder::parse(body.as_bytes(), variant).map_err(|e| e.to_string())
    }

    #[test]
    fn valid_orders_parse_in_both_variants() {
        for variant in [Variant::Buggy, Variant::Correct] {
            let order = parse(
                r#"{"product_id":3,"quantity":10,"customer":"Zoë","x":null}"#,
                variant,
            );
            assert_eq!(
                order,
                Ok(NewOrder {
                    product_id: 3,
                    quantity: 10,
                    customer: "Zoë".into()
                })
            );
        }
    }

    #[test]
    fn invalid_orders_are_refused_in_both_variants() {
        for variant in [Variant::Buggy, Variant::Correct] {
            for body in [
                "",
                "{",
                "[]",
                "null",
                r#"{"quantity":1,"customer":"a"}"#,
                r#"{"product_id":0,"quantity":1,"customer":"a"}"#,
                r#"{"product_id":"1","quantity":1,"customer":"a"}"#,
                r#"{"product_id":1.5,"quantity":1,"customer":"a"}"#,
                r#"{"product_id":1e30,"quantity":1,"customer":"a"}"#,
                r#"{"product_id":18446744073709551615,"quantity":1,"customer":"a"}"#,
                r#"{"product_id":1,"quantity":0,"customer":"a"}"#,
                r#"{"product_id":1,"quantity":-3,"customer":"a"}"#,
                r#"{"product_id":1,"quantity":null,"customer":"a"}"#,
                r#"{"product_id":1,"quantity":1,"customer":""}"#,
                r#"{"product_id":1,"quantity":1,"customer":7}"#,
                r#"{"product_id":1,"quantity":1}"#,
            ] {
                assert!(parse(body, variant).is_err(), "{variant}: {body}");
            }
        }
    }

    #[test]
    fn only_the_buggy_variant_accepts_past_the_upper_bounds() {
        let long = "x".repeat(65);
        let bodies = [
            r#"{"product_id":1,"quantity":11,"customer":"a"}"#.to_owned(),
            format!(r#"{{"product_id":1,"quantity":1,"customer":"{long}"}}"#),
        ];
        for body in &bodies {
            assert!(parse(body, Variant::Buggy).is_ok(), "{body}");
            assert!(parse(body, Variant::Correct).is_err(), "{body}");
        }
        let huge = "x".repeat(1025);
        let body = format!(r#"{{"product_id":1,"quantity":1,"customer":"{huge}"}}"#);
        assert!(parse(&body, Variant::Buggy).is_err());
    }

    #[test]
    fn an_idempotency_key_is_any_value_sent_once() {
        let mut headers = HeaderMap::new();
        assert!(matches!(idempotency_key(&headers), Ok(None)));
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_static(""));
        assert!(matches!(idempotency_key(&headers), Ok(Some(b""))));
        let odd = HeaderValue::from_bytes(b"\"k\" \xff").expect("a header value");
        headers.insert(IDEMPOTENCY_KEY, odd);
        assert!(matches!(idempotency_key(&headers), Ok(Some(b"\"k\" \xff"))));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("k2"));
        assert!(matches!(
            idempotency_key(&headers),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn customer_length_counts_characters() {
        let body = format!(
            r#"{{"product_id":1,"quantity":1,"customer":"{}"}}"#,
            "é".repeat(64)
        );
        assert!(parse(&body, Variant::Correct).is_ok());
    }
}
