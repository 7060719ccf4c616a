//! Routing a request to its handler, with its body read first for the routes that take one.

use bytes::Bytes;
use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::body;
use crate::handlers::{self, accounts, orders, products, search, shipping, users};
use crate::pool::Reader;
use crate::respond::{ApiError, Body};
use crate::shop::Shop;

/// Answers one request; never fails, never panics on anything the client sends.
pub(crate) async fn route(request: Request<Incoming>, shop: &Shop) -> Response<Body> {
    // Bug (buggy variant): every request, `GET /health` included, first waits for one of
    // the few request readers. The correct variant has no pool: this returns at once.
    shop.requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let reader = shop.readers.acquire().await;
    dispatch(request, shop, reader)
        .await
        .unwrap_or_else(ApiError::into_response)
}

/// Finds the route, reads the body of the routes that take one (holding `reader` only
/// until then), and calls the handler.
async fn dispatch(
    request: Request<Incoming>,
    shop: &Shop,
    reader: Reader<'_>,
) -> Result<Response<Body>, ApiError> {
    let (parts, incoming) = request.into_parts();
    let route = Route::of(parts.uri.path())
        .ok_or_else(|| ApiError::NotFound("no such resource".to_owned()))?;
    if parts.method != route.method() {
        return Err(ApiError::MethodNotAllowed {
            allow: route.allow(),
        });
    }
    let body = if route.method() == Method::POST {
        let read = body::read(&parts.headers, incoming).await;
        drop(reader);
        read?
    } else {
        drop(reader);
        Bytes::new()
    };
    let query = parts.uri.query();
    match route {
        Route::Health => Ok(handlers::health()),
        Route::OpenApi => Ok(handlers::openapi()),
        Route::Metrics => Ok(handlers::metrics(shop)),
        Route::Products => products::list(shop, query).await,
        Route::Product(id) => products::get(shop, id).await,
        Route::Shipping(id) => shipping::get(shop, id).await,
        Route::Search => search::search(shop, query).await,
        Route::Orders => orders::create(shop, &parts, &body).await,
        Route::Order(id) => orders::get(shop, id),
        Route::Users => users::create(shop, &parts, &body).await,
        Route::User(id) => users::get(shop, id),
        Route::Accounts => accounts::create(shop, &parts, &body),
        Route::Account(id) => accounts::get(shop, id),
        Route::Withdrawals(id) => accounts::withdraw(shop, id, &parts, &body).await,
    }
}

/// The endpoints, with the `{id}` of item paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Health,
    OpenApi,
    Metrics,
    Products,
    Product(&'a str),
    Shipping(&'a str),
    Search,
    Orders,
    Order(&'a str),
    Users,
    User(&'a str),
    Accounts,
    Account(&'a str),
    Withdrawals(&'a str),
}

impl<'a> Route<'a> {
    /// The route of a path, if it has one.
    fn of(path: &'a str) -> Option<Route<'a>> {
        Some(match path {
            "/health" => Route::Health,
            "/openapi.json" => Route::OpenApi,
            "/metrics" => Route::Metrics,
            "/products" => Route::Products,
            "/search" => Route::Search,
            "/orders" => Route::Orders,
            "/users" => Route::Users,
            "/accounts" => Route::Accounts,
            _ => {
                if let Some(id) = item(path, "/products/") {
                    Route::Product(id)
                } else if let Some(id) = item(path, "/orders/") {
                    Route::Order(id)
                } else if let Some(id) = item(path, "/users/") {
                    Route::User(id)
                } else if let Some(id) = item(path, "/accounts/") {
                    Route::Account(id)
                } else if let Some(product) = path.strip_suffix("/shipping") {
                    Route::Shipping(item(product, "/products/")?)
                } else {
                    let account = path.strip_suffix("/withdrawals")?;
                    Route::Withdrawals(item(account, "/accounts/")?)
                }
            }
        })
    }

    /// The one method the route answers.
    fn method(self) -> Method {
        match self {
            Route::Orders | Route::Users | Route::Accounts | Route::Withdrawals(_) => Method::POST,
            _ => Method::GET,
        }
    }

    /// That method, for an `Allow` header.
    fn allow(self) -> &'static str {
        if self.method() == Method::POST {
            "POST"
        } else {
            "GET"
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
        assert_eq!(Route::of("/accounts"), Some(Route::Accounts));
        assert_eq!(Route::of("/accounts/4"), Some(Route::Account("4")));
        // An item path like the others: an id of "withdrawals" is a 400.
        assert_eq!(
            Route::of("/accounts/withdrawals"),
            Some(Route::Account("withdrawals"))
        );
        assert_eq!(
            Route::of("/accounts/4/withdrawals"),
            Some(Route::Withdrawals("4"))
        );
        assert_eq!(
            Route::of("/accounts/x/withdrawals"),
            Some(Route::Withdrawals("x"))
        );
        assert_eq!(
            Route::of("/products/7/shipping"),
            Some(Route::Shipping("7"))
        );
        assert_eq!(
            Route::of("/products/shipping"),
            Some(Route::Product("shipping"))
        );
        for path in [
            "/products//shipping",
            "/products/7/shipping/",
            "/products/7/8/shipping",
            "/orders/7/shipping",
            "/accounts/",
            "/accounts//withdrawals",
            "/accounts/4/withdrawals/",
            "/accounts/4/x",
            "/accounts/4/5/withdrawals",
            "/orders/4/withdrawals",
        ] {
            assert_eq!(Route::of(path), None, "{path}");
        }
    }

    #[test]
    fn post_routes_allow_post_only() {
        for route in [
            Route::Orders,
            Route::Users,
            Route::Accounts,
            Route::Withdrawals("1"),
        ] {
            assert_eq!(route.allow(), "POST", "{route:?}");
        }
        for route in [
            Route::Health,
            Route::Account("1"),
            Route::User("1"),
            Route::Shipping("1"),
        ] {
            assert_eq!(route.allow(), "GET", "{route:?}");
        }
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
