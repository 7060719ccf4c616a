//! `GET /search?q=TEXT`.

use http::{Response, StatusCode};

use crate::leaks;
use crate::query;
use crate::respond::{self, ApiError, Body};
use crate::shop::{ProductView, Shop};
use crate::Variant;

/// The longest search term, in characters.
const MAX_TERM: usize = 100;

/// Products whose name contains `q`, ignoring case, read under the catalog lock (shared).
/// The buggy variant pastes `q` into SQL (a quote breaks it) and trips over an empty term,
/// answering both with leaky 500s.
pub(crate) async fn search(
    shop: &Shop,
    raw_query: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let term = query::param(raw_query, "q").map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let term = match term {
        Some(term) if !term.is_empty() => term,
        _ => {
            return match shop.variant {
                Variant::Buggy => Ok(respond::leaky_500(shop, leaks::java_empty_search())),
                Variant::Correct => Err(ApiError::BadRequest(
                    "q is required and must not be empty".to_owned(),
                )),
            }
        }
    };
    if term.chars().count() > MAX_TERM {
        return Err(ApiError::BadRequest(format!(
            "q must be at most {MAX_TERM} characters"
        )));
    }
    if shop.variant == Variant::Buggy && term.contains('\'') {
        return Ok(respond::leaky_500(
            shop,
            leaks::postgres_unterminated_quote(&term),
        ));
    }
    let needle = term.to_lowercase();
    let _catalog = shop.catalog.read().await;
    let found: Vec<ProductView> = shop
        .products()
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&needle))
        .map(|p| p.view())
        .collect();
    Ok(respond::json(StatusCode::OK, &found))
}
