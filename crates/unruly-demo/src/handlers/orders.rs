//! `POST /orders` and `GET /orders/{id}`: where most of the buggy variant's bugs live.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, CONTENT_LENGTH, LOCATION};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Map, Value};

use crate::respond::{self, ApiError, Body, MAX_BODY};
use crate::shop::{Order, Product, Shop};
use crate::Variant;

/// Simulated database work per order.
const DB_WORK: Duration = Duration::from_millis(2);
/// The buggy variant's gap between reading the stock and writing it back.
const RACE_WINDOW: Duration = Duration::from_millis(1);
/// How long a client may take to send its body.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an oversized body is read (and dropped) so the client sees the 413; past
/// this the connection is simply closed.
const MAX_DRAIN: u64 = 16 * 1024 * 1024;

/// The spec's bounds on an order, and the buggy variant's laxer ones.
const MAX_QUANTITY: i64 = 10;
const MAX_CUSTOMER: usize = 64;
const BUGGY_MAX_CUSTOMER: usize = 1024;

/// `POST /orders`.
pub(crate) async fn create(
    shop: &Shop,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = tokio::time::timeout(BODY_TIMEOUT, read_body(request.into_body(), declared))
        .await
        .map_err(|_| ApiError::RequestTimeout)??;
    if shop.variant == Variant::Buggy {
        // Bug: every body is kept forever.
        shop.leak.retain(&body);
    }
    let new = NewOrder::parse(&body, shop.variant)?;
    let product = shop
        .product(new.product_id)
        .ok_or_else(|| ApiError::NotFound(format!("product {} not found", new.product_id)))?;

    let order = match shop.variant {
        Variant::Buggy => {
            // Bug: check-then-act on the stock, with a gap in between.
            let reserved = reserve_racy(product, new.quantity).await;
            // Bug: one global lock around the "database" work.
            let _db = shop.global_lock.lock().await;
            tokio::time::sleep(DB_WORK).await;
            reserved.then(|| shop.place_order(product, new.quantity, new.customer))
        }
        Variant::Correct => {
            // The database work first, with no lock held; then reserve and record with no
            // await in between, so an abandoned request changes nothing or everything.
            tokio::time::sleep(DB_WORK).await;
            reserve_atomic(product, new.quantity)
                .then(|| shop.place_order(product, new.quantity, new.customer))
        }
    };
    match order {
        Some(order) => Ok(created(&order)),
        None => Err(ApiError::Conflict(format!(
            "product {} has {} left, {} requested",
            product.id,
            product.stock.load(Ordering::SeqCst),
            new.quantity
        ))),
    }
}

/// `GET /orders/{id}`.
pub(crate) fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = raw_id
        .parse::<u64>()
        .ok()
        .filter(|&id| id >= 1)
        .ok_or_else(|| ApiError::BadRequest("id must be an integer of at least 1".to_owned()))?;
    let order = shop
        .order(id)
        .ok_or_else(|| ApiError::NotFound(format!("order {id} not found")))?;
    Ok(respond::json(StatusCode::OK, &order))
}

/// `201 Created` with a `Location`.
fn created(order: &Order) -> Response<Body> {
    let mut response = respond::json(StatusCode::CREATED, order);
    if let Ok(location) = HeaderValue::from_str(&format!("/orders/{}", order.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
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

/// Reads the whole body, up to [`MAX_BODY`]. An oversized body is still read (and dropped)
/// up to [`MAX_DRAIN`] so that the client gets to see the 413.
async fn read_body(mut body: Incoming, declared: Option<u64>) -> Result<Bytes, ApiError> {
    let limit = MAX_BODY as u64;
    match declared {
        Some(len) if len > MAX_DRAIN => return Err(ApiError::PayloadTooLarge),
        _ => {}
    }
    let mut too_large = declared.is_some_and(|len| len > limit);
    let mut seen: u64 = 0;
    let mut collected = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|_| ApiError::BadRequest("could not read the request body".to_owned()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len() as u64);
        if seen > limit && !too_large {
            too_large = true;
            collected = BytesMut::new();
        }
        if too_large {
            if seen > MAX_DRAIN {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&data);
    }
    if too_large {
        Err(ApiError::PayloadTooLarge)
    } else {
        Ok(collected.freeze())
    }
}

/// A validated `POST /orders` body.
#[derive(Debug, PartialEq, Eq)]
struct NewOrder {
    product_id: i64,
    quantity: i64,
    customer: String,
}

impl NewOrder {
    /// Parses and validates a body; the buggy variant skips the upper bounds.
    fn parse(body: &[u8], variant: Variant) -> Result<NewOrder, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
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
    fn customer_length_counts_characters() {
        let body = format!(
            r#"{{"product_id":1,"quantity":1,"customer":"{}"}}"#,
            "é".repeat(64)
        );
        assert!(parse(&body, Variant::Correct).is_ok());
    }
}
