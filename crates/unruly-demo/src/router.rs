//! Routing a request to its handler.

use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::handlers::{self, orders, products, search, users};
use crate::respond::{ApiError, Body};
use crate::shop::Shop;

/// Answers one request; never fails, never panics on anything the client sends.
pub(crate) async fn route(request: Request<Incoming>, shop: &Shop) -> Response<Body> {
    dispatch(request, shop)
        .await
        .unwrap_or_else(ApiError::into_response)
}

async fn dispatch(request: Request<Incoming>, shop: &Shop) -> Result<Response<Body>, ApiError> {
    let route = Route::of(request.uri().path())
        .ok_or_else(|| ApiError::NotFound("no such resource".to_owned()))?;
    if *request.method() != route.method() {
        return Err(ApiError::MethodNotAllowed {
            allow: route.allow(),
        });
    }
    let query = request.uri().query();
    match route {
        Route::Health => Ok(handlers::health()),
        Route::OpenApi => Ok(handlers::openapi()),
        Route::Products => products::list(shop, query),
        Route::Product(id) => products::get(shop, id),
        Route::Search => search::search(shop, query),
        Route::Orders => orders::create(shop, request).await,
        Route::Order(id) => orders::get(shop, id),
        Route::Users => users::create(shop, request).await,
        Route::User(id) => users::get(shop, id),
    }
}

/// The endpoints, with the `{id}` of item paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Health,
    OpenApi,
    Products,
    Product(&'a str),
    Search,
    Orders,
    Order(&'a str),
    Users,
    User(&'a str),
}

impl<'a> Route<'a> {
    /// The route of a path, if it has one.
    fn of(path: &'a str) -> Option<Route<'a>> {
        Some(match path {
            "/health" => Route::Health,
            "/openapi.json" => Route::OpenApi,
            "/products" => Route::Products,
            "/search" => Route::Search,
            "/orders" => Route::Orders,
            "/users" => Route::Users,
            _ => {
                if let Some(id) = item(path, "/products/") {
                    Route::Product(id)
                } else if let Some(id) = item(path, "/orders/") {
                    Route::Order(id)
                } else {
                    Route::User(item(path, "/users/")?)
                }
            }
        })
    }

    /// The one method the route answers.
    fn method(self) -> Method {
        match self {
            Route::Orders | Route::Users => Method::POST,
            _ => Method::GET,
        }
    }

    /// That method, for an `Allow` header.
    fn allow(self) -> &'static str {
        match self {
            Route::Orders | Route::Users => "POST",
            _ => "GET",
        }
    }
}

/// The `{id}` of `prefix{id}`: one non-empty path segment.
fn item<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::{item, Route};

    #[test]
    fn paths_resolve() {
        assert_eq!(Route::of("/products/7"), Some(Route::Product("7")));
        assert_eq!(Route::of("/orders/x"), Some(Route::Order("x")));
        assert_eq!(Route::of("/orders"), Some(Route::Orders));
        assert_eq!(Route::of("/users"), Some(Route::Users));
        assert_eq!(Route::of("/users/12"), Some(Route::User("12")));
        assert_eq!(Route::of("/users/"), None);
        assert_eq!(Route::of("/users/1/x"), None);
        assert_eq!(Route::of("/orders/"), None);
        assert_eq!(Route::of("/"), None);
        assert_eq!(Route::of("/health/"), None);
    }

    #[test]
    fn items_are_one_segment() {
        assert_eq!(item("/products/3", "/products/"), Some("3"));
        assert_eq!(item("/products/abc", "/products/"), Some("abc"));
        assert_eq!(item("/products/", "/products/"), None);
        assert_eq!(item("/products/3/x", "/products/"), None);
        assert_eq!(item("/orders/3", "/products/"), None);
    }
}
