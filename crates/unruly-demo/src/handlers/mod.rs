//! One module per resource; each handler answers for both variants.

pub(crate) mod accounts;
pub(crate) mod orders;
pub(crate) mod products;
pub(crate) mod search;
pub(crate) mod shipping;
pub(crate) mod users;

use http::{Response, StatusCode};
use serde::Serialize;

use crate::respond::{self, Body};

/// `GET /health`.
pub(crate) fn health() -> Response<Body> {
    #[derive(Serialize)]
    struct Health {
        status: &'static str,
    }
    respond::json(StatusCode::OK, &Health { status: "ok" })
}

/// `GET /metrics` (not in the OpenAPI document: an operator's endpoint).
pub(crate) fn metrics(shop: &crate::shop::Shop) -> Response<Body> {
    respond::text(StatusCode::OK, shop.exposition())
}

/// `GET /openapi.json`.
pub(crate) fn openapi() -> Response<Body> {
    respond::static_json(crate::openapi_json())
}
