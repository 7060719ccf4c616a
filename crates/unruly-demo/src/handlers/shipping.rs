//! `GET /products/{id}/shipping`: a shipping quote for a product, asked of the shipping
//! dependency.
//!
//! The buggy variant refreshes the product's shipping estimate while it holds the catalog
//! lock, and calls the dependency with no timeout at all: while the dependency is slow,
//! `GET /products`, `GET /products/{id}` and `GET /search` wait as long as it does, and a
//! failure is a 500 with a Python traceback. The correct variant calls it with no lock held
//! and gives it [`SHIPPING_TIMEOUT`] in all (connect and whole answer); when it fails, the
//! product's last good quote is answered (`"source": "cache"`), or, without one, a 503 with
//! `Retry-After`.

use std::time::Duration;

use http::{Response, StatusCode};
use serde::Serialize;

use crate::leaks;
use crate::quote::Quote;
use crate::respond::{self, ApiError, Body};
use crate::shop::{Shop, PRODUCT_COUNT};
use crate::validate;
use crate::Variant;

/// How long the correct variant gives the dependency, connect and answer included.
pub(crate) const SHIPPING_TIMEOUT: Duration = Duration::from_secs(1);
/// The `Retry-After` of the correct variant's 503, in seconds.
const RETRY_AFTER_S: u32 = 5;

/// Where an answered quote comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Source {
    /// Just asked of the dependency.
    Live,
    /// The last good one, the dependency having failed.
    Cache,
}

/// A quote as it goes on the wire (`ShippingQuote` in the document).
#[derive(Debug, Serialize)]
struct ShippingView<'a> {
    product_id: i64,
    carrier: &'a str,
    days: i64,
    price_cents: i64,
    source: Source,
}

/// `GET /products/{id}/shipping`. Both variants answer a bad or unknown id alike (400,
/// 404) without calling the dependency.
pub(crate) async fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = validate::integer::<i64>(raw_id)
        .ok()
        .filter(|&id| id >= 1)
        .ok_or_else(|| ApiError::BadRequest("id must be an integer of at least 1".to_owned()))?;
    if shop.product(id).is_none() {
        return Err(ApiError::NotFound(format!(
            "product {id} not found (ids go from 1 to {PRODUCT_COUNT})"
        )));
    }
    match shop.variant {
        Variant::Buggy => Ok(refresh_under_lock(shop, id).await),
        Variant::Correct => bounded_with_fallback(shop, id).await,
    }
}

/// The buggy call: the catalog lock is taken to refresh the product's estimate, then the
/// dependency is called with no timeout, the lock held all along.
async fn refresh_under_lock(shop: &Shop, id: i64) -> Response<Body> {
    // Bug: the exclusive catalog lock is held across a call to another service...
    let mut catalog = shop.catalog.write().await;
    // ...which may take for ever: no timeout on the connect, the answer or its body.
    match shop.shipping.quote(id).await {
        Ok(quote) => {
            let response = answer(&quote, Source::Live);
            catalog.insert(id, quote);
            response
        }
        // Bug: no fallback, and the client's traceback goes to the client.
        Err(error) => respond::leaky_500(
            shop,
            leaks::python_shipping_error(&shop.shipping.url(id), &error),
        ),
    }
}

/// The correct call: no lock held while the dependency is asked, [`SHIPPING_TIMEOUT`] for
/// all of it, then the last good quote or a 503.
async fn bounded_with_fallback(shop: &Shop, id: i64) -> Result<Response<Body>, ApiError> {
    let failure = match tokio::time::timeout(SHIPPING_TIMEOUT, shop.shipping.quote(id)).await {
        Ok(Ok(quote)) => {
            let response = answer(&quote, Source::Live);
            shop.catalog.write().await.insert(id, quote);
            return Ok(response);
        }
        Ok(Err(error)) => error.to_string(),
        Err(_elapsed) => format!(
            "the shipping service did not answer within {} ms",
            SHIPPING_TIMEOUT.as_millis()
        ),
    };
    // What failed stays in the log: the client learns only that it may try again.
    shop.log(format!("shipping quote for product {id}: {failure}"));
    let cached = shop.catalog.read().await.get(&id).cloned();
    match cached {
        Some(quote) => Ok(answer(&quote, Source::Cache)),
        None => Err(ApiError::Unavailable {
            message: format!(
                "no shipping quote for product {id} right now: the shipping service is \
                 unavailable"
            ),
            retry_after_s: RETRY_AFTER_S,
        }),
    }
}

/// `200` with the quote.
fn answer(quote: &Quote, source: Source) -> Response<Body> {
    respond::json(
        StatusCode::OK,
        &ShippingView {
            product_id: quote.product_id,
            carrier: &quote.carrier,
            days: quote.days,
            price_cents: quote.price_cents,
            source,
        },
    )
}
