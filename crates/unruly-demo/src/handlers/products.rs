//! `GET /products` and `GET /products/{id}`: both read the catalogue under the catalog lock
//! (shared), so they wait while anyone holds it exclusively.

use http::header::HeaderValue;
use http::{Response, StatusCode};

use crate::leaks;
use crate::query;
use crate::respond::{self, ApiError, Body};
use crate::shop::{ProductView, Shop, PRODUCT_COUNT};
use crate::validate;
use crate::Variant;

/// The default and the bounds of `limit`.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// The response header with the number of pages of `limit` products.
const TOTAL_PAGES: &str = "x-total-pages";

/// `GET /products?limit=N`: the first `limit` products (1..=100, default 20), with the
/// number of such pages in `X-Total-Pages`. The buggy variant forgets the lower bound, and
/// `limit=0` divides by zero.
pub(crate) async fn list(shop: &Shop, raw_query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let limit =
        match query::param(raw_query, "limit").map_err(|e| ApiError::BadRequest(e.to_string()))? {
            None => DEFAULT_LIMIT,
            Some(raw) => validate::integer::<usize>(&raw)
                .ok()
                .filter(|&n| n <= MAX_LIMIT)
                // Bug: the buggy variant only checks the upper bound.
                .filter(|&n| n >= 1 || shop.variant == Variant::Buggy)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("limit must be an integer from 1 to {MAX_LIMIT}"))
                })?,
        };
    let _catalog = shop.catalog.read().await;
    let Some(pages) = pages(shop.products().len(), limit) else {
        // What `total / limit` does with 0: a panic, caught by the server and answered 500.
        return Ok(respond::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            leaks::SERVICE_PANICKED,
        ));
    };
    let products: Vec<ProductView> = shop
        .products()
        .iter()
        .take(limit)
        .map(|p| p.view())
        .collect();
    let mut response = respond::json(StatusCode::OK, &products);
    response
        .headers_mut()
        .insert(TOTAL_PAGES, HeaderValue::from(pages));
    Ok(response)
}

/// How many pages of `limit` items `total` items make; `None` for `limit` 0, where
/// `total / limit` would panic.
fn pages(total: usize, limit: usize) -> Option<usize> {
    let full = total.checked_div(limit)?;
    let partial = total.checked_rem(limit)?;
    Some(full + usize::from(partial != 0))
}

/// `GET /products/{id}`. The buggy variant answers a missing or non-numeric id with a leaky
/// 500; the correct one with 404 or 400.
pub(crate) async fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let _catalog = shop.catalog.read().await;
    let id = match validate::integer::<i64>(raw_id) {
        Ok(id) => id,
        Err(error) => {
            return match shop.variant {
                Variant::Buggy => Ok(respond::leaky_500(shop, leaks::rust_parse_panic(&error))),
                Variant::Correct => Err(ApiError::BadRequest(
                    "id must be an integer of at least 1".to_owned(),
                )),
            }
        }
    };
    match shop.product(id) {
        Some(product) => Ok(respond::json(StatusCode::OK, &product.view())),
        None => match shop.variant {
            Variant::Buggy => Ok(respond::leaky_500(shop, leaks::python_key_error(id))),
            Variant::Correct if id < 1 => Err(ApiError::BadRequest(
                "id must be an integer of at least 1".to_owned(),
            )),
            Variant::Correct => Err(ApiError::NotFound(format!(
                "product {id} not found (ids go from 1 to {PRODUCT_COUNT})"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::pages;

    #[test]
    fn page_counts() {
        assert_eq!(pages(20, 20), Some(1));
        assert_eq!(pages(20, 7), Some(3));
        assert_eq!(pages(20, 100), Some(1));
        assert_eq!(pages(0, 5), Some(0));
        assert_eq!(pages(20, 0), None);
    }
}
