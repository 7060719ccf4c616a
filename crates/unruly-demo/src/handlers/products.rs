//! `GET /products` and `GET /products/{id}`.

use http::{Response, StatusCode};

use crate::leaks;
use crate::query;
use crate::respond::{self, ApiError, Body};
use crate::shop::{ProductView, Shop, PRODUCT_COUNT};
use crate::Variant;

/// The default and the bounds of `limit`.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// `GET /products?limit=N`: the first `limit` products (1..=100, default 20).
pub(crate) fn list(shop: &Shop, raw_query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let limit =
        match query::param(raw_query, "limit").map_err(|e| ApiError::BadRequest(e.to_string()))? {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("limit must be an integer from 1 to {MAX_LIMIT}"))
                })?,
        };
    let products: Vec<ProductView> = shop
        .products()
        .iter()
        .take(limit)
        .map(|p| p.view())
        .collect();
    Ok(respond::json(StatusCode::OK, &products))
}

/// `GET /products/{id}`. The buggy variant answers a missing or non-numeric id with a leaky
/// 500; the correct one with 404 or 400.
pub(crate) fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = match raw_id.parse::<i64>() {
        Ok(id) => id,
        Err(error) => {
            return match shop.variant {
                Variant::Buggy => Ok(respond::leaky_500(leaks::rust_parse_panic(&error))),
                Variant::Correct => Err(ApiError::BadRequest(
                    "id must be an integer of at least 1".to_owned(),
                )),
            }
        }
    };
    match shop.product(id) {
        Some(product) => Ok(respond::json(StatusCode::OK, &product.view())),
        None => match shop.variant {
            Variant::Buggy => Ok(respond::leaky_500(leaks::python_key_error(id))),
            Variant::Correct if id < 1 => Err(ApiError::BadRequest(
                "id must be an integer of at least 1".to_owned(),
            )),
            Variant::Correct => Err(ApiError::NotFound(format!(
                "product {id} not found (ids go from 1 to {PRODUCT_COUNT})"
            ))),
        },
    }
}
