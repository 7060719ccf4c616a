//! Each bug planted in the buggy variant shows, and is absent from the correct one.

mod common;

use common::{assert_error, burst, count, get, json, order, post};
use unruly_demo::Variant;

const LEAK_MARKERS: [&str; 6] = [
    "Traceback",
    "panicked at",
    "ParseIntError",
    "java.lang.",
    "SELECT ",
    "/srv/",
];

fn assert_no_leak(text: &str) {
    for marker in LEAK_MARKERS {
        assert!(!text.contains(marker), "{marker:?} leaked: {text}");
    }
}

#[tokio::test]
async fn missing_product_is_a_500_with_a_python_traceback() {
    let buggy = common::start(Variant::Buggy);
    for id in [21, 0, 1000] {
        let response = get(buggy.addr(), &format!("/products/{id}")).await;
        assert_eq!(response.status, 500);
        let text = response.text();
        assert!(
            text.starts_with("Traceback (most recent call last):\n"),
            "{text}"
        );
        assert!(text.contains("File \"/srv/shop/app/views.py\", line 42, in get_product"));
        assert!(text.ends_with(&format!("KeyError: {id}\n")), "{text}");
    }
    let response = get(buggy.addr(), "/products/abc").await;
    assert_eq!(response.status, 500);
    let text = response.text();
    assert!(text.starts_with("thread 'tokio-runtime-worker' panicked at src/handlers.rs:88:14:"));
    assert!(text.contains(
        "called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }"
    ));
    let overflow = get(buggy.addr(), "/products/99999999999999999999").await;
    assert!(overflow.text().contains("PosOverflow"));
}

#[tokio::test]
async fn correct_missing_product_is_a_404() {
    let correct = common::start(Variant::Correct);
    let missing = get(correct.addr(), "/products/21").await;
    assert_error(&missing, 404);
    assert_no_leak(&missing.text());
    for bad in ["0", "-1", "abc", "1.0", "99999999999999999999"] {
        let response = get(correct.addr(), &format!("/products/{bad}")).await;
        assert_error(&response, 400);
        assert_no_leak(&response.text());
    }
}

#[tokio::test]
async fn search_with_a_quote_leaks_sql_and_empty_search_a_java_trace() {
    let buggy = common::start(Variant::Buggy);
    let response = get(buggy.addr(), "/search?q=it%27s").await;
    assert_eq!(response.status, 500);
    let text = response.text();
    assert!(
        text.starts_with("ERROR:  unterminated quoted string at or near \"'s%'\""),
        "{text}"
    );
    assert!(
        text.contains("LINE 1: SELECT * FROM products WHERE name LIKE '%it's%'"),
        "{text}"
    );

    for path in ["/search?q=", "/search"] {
        let response = get(buggy.addr(), path).await;
        assert_eq!(response.status, 500);
        let text = response.text();
        assert!(
            text.starts_with("java.lang.IllegalArgumentException"),
            "{text}"
        );
        assert!(text.contains("at com.shop.SearchController.search(SearchController.java:57)"));
    }
}

#[tokio::test]
async fn correct_search_handles_quotes_and_refuses_empty_terms() {
    let correct = common::start(Variant::Correct);
    for path in [
        "/search?q=it%27s",
        "/search?q=%27",
        "/search?q=%27%20OR%201%3D1%20--",
    ] {
        let response = get(correct.addr(), path).await;
        assert_eq!(response.status, 200);
        assert_eq!(json(&response), serde_json::json!([]));
    }
    for path in ["/search?q=", "/search", "/search?other=1"] {
        let response = get(correct.addr(), path).await;
        assert_error(&response, 400);
        assert_no_leak(&response.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_oversell_only_in_the_buggy_variant() {
    // Products 3 and 13 have a stock of 5.
    let buggy = common::start(Variant::Buggy);
    let mut oversold = false;
    for product in [3, 13] {
        let (statuses, _) = burst(buggy.addr(), 20, &order(product, 1, "racer")).await;
        if count(&statuses, 201) > 5 {
            let stock = common::stock(buggy.addr(), product).await;
            assert!(stock < 0, "oversold, yet the stock shows {stock}");
            assert_eq!(stock, 5 - count(&statuses, 201) as i64);
            oversold = true;
            break;
        }
    }
    assert!(oversold, "20 concurrent orders never oversold a stock of 5");

    let correct = common::start(Variant::Correct);
    for product in [3, 13] {
        let (statuses, _) = burst(correct.addr(), 20, &order(product, 1, "racer")).await;
        assert_eq!(count(&statuses, 201), 5, "{statuses:?}");
        assert_eq!(count(&statuses, 409), 15, "{statuses:?}");
        assert_eq!(common::stock(correct.addr(), product).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_global_lock_serialises_buggy_orders() {
    const N: usize = 50;
    let buggy = common::start(Variant::Buggy);
    let correct = common::start(Variant::Correct);
    let (statuses, buggy_took) = burst(buggy.addr(), N, &order(1, 1, "load")).await;
    assert_eq!(count(&statuses, 201), N);
    let (statuses, correct_took) = burst(correct.addr(), N, &order(1, 1, "load")).await;
    assert_eq!(count(&statuses, 201), N);
    // 50 orders, each holding the lock for at least 2 ms.
    assert!(
        buggy_took.as_millis() >= 100,
        "buggy burst took {buggy_took:?}"
    );
    assert!(
        correct_took * 2 < buggy_took,
        "correct burst took {correct_took:?}, buggy {buggy_took:?}"
    );
}

#[tokio::test]
async fn out_of_bounds_orders_are_accepted_only_in_the_buggy_variant() {
    let buggy = common::start(Variant::Buggy);
    let correct = common::start(Variant::Correct);
    let long = "c".repeat(65);
    for body in [order(1, 11, "many"), order(1, 1, &long)] {
        let accepted = post(buggy.addr(), "/orders", body.clone()).await;
        assert_eq!(accepted.status, 201, "{body}");
        // The stored order breaks the schema too.
        let id = json(&accepted)["id"].as_u64().expect("an id");
        let stored = json(&get(buggy.addr(), &format!("/orders/{id}")).await);
        assert!(stored["quantity"].as_i64() > Some(10) || stored["customer"] == long.as_str());

        assert_error(&post(correct.addr(), "/orders", body).await, 400);
    }
    let at_bounds = order(1, 10, &"c".repeat(64));
    assert_eq!(post(correct.addr(), "/orders", at_bounds).await.status, 201);
}

#[tokio::test]
async fn both_variants_refuse_malformed_json() {
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        let response = post(demo.addr(), "/orders", "{\"product_id\": 1,").await;
        assert_error(&response, 400);
    }
}

#[tokio::test]
async fn correct_answers_stay_within_the_spec_under_odd_inputs() {
    let correct = common::start(Variant::Correct);
    let addr = correct.addr();
    let paths = [
        "/products/%27",
        "/products/1%00",
        "/products/-9223372036854775808",
        "/products?limit=%27",
        "/products?limit=1&limit=1000",
        "/search?q=%F0%9F%92%A5",
        "/search?q=%E2%80%8B",
        "/search?q=%",
        "/orders/%2e%2e",
        "/orders/18446744073709551616",
    ];
    for path in paths {
        let response = get(addr, path).await;
        assert!(
            response.status.as_u16() < 500,
            "{path}: {}",
            response.status
        );
        assert_no_leak(&response.text());
        json(&response);
    }
    let bodies = [
        "null",
        "\"\"",
        r#"{"product_id":1,"quantity":1,"customer":"\u0000"}"#,
        r#"{"product_id":-1,"quantity":1,"customer":"a"}"#,
        r#"{"product_id":9223372036854775807,"quantity":1,"customer":"a"}"#,
        r#"{"product_id":1,"quantity":9223372036854775807,"customer":"a"}"#,
        r#"{"product_id":true,"quantity":[],"customer":{}}"#,
    ];
    for body in bodies {
        let response = post(addr, "/orders", body).await;
        assert!(
            response.status.as_u16() < 500,
            "{body}: {}",
            response.status
        );
        assert_no_leak(&response.text());
        json(&response);
    }
}
