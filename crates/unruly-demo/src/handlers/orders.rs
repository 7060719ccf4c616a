//! `POST /orders` and `GET /orders/{id}`: where most of the buggy variant's bugs live.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::header::{HeaderValue, LOCATION};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value};

use crate::body;
use crate::respond::{self, ApiError, Body};
use crate::shop::{Order, Product, Shop};
use crate::validate::{self, BodySchema};
use crate::Variant;

/// Simulated database work per order.
const DB_WORK: Duration = Duration::from_millis(2);
/// The buggy variant's gap between reading the stock and writing it back.
const RACE_WINDOW: Duration = Duration::from_millis(1);
/// The largest id the buggy variant's orders table (an `int4` column) can hold.
const INT4_MAX: u64 = i32::MAX as u64;

/// The spec's bounds on an order, and the buggy variant's laxer ones.
const MAX_QUANTITY: i64 = 10;
const MAX_CUSTOMER: usize = 64;
const BUGGY_MAX_CUSTOMER: usize = 1024;

/// `POST /orders`.
pub(crate) async fn create(
    shop: &Shop,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let (parts, body) = body::read(request).await?;
    if shop.variant == Variant::Buggy {
        // Bug: every body is kept forever.
        shop.leak.retain(&body);
    }
    validate::require_json(&parts.headers)?;
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
    fn customer_length_counts_characters() {
        let body = format!(
            r#"{{"product_id":1,"quantity":1,"customer":"{}"}}"#,
            "é".repeat(64)
        );
        assert!(parse(&body, Variant::Correct).is_ok());
    }
}
