//! Each bug planted in the buggy variant shows, and is absent from the correct one.

mod common;

use common::{assert_error, burst, count, create_user, get, json, order, post, user};
use unruly_demo::{backtracking_steps, Variant};

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

#[tokio::test]
async fn a_limit_of_zero_divides_by_zero_only_in_the_buggy_variant() {
    let buggy = common::start(Variant::Buggy);
    let response = get(buggy.addr(), "/products?limit=0").await;
    assert_eq!(response.status, 500);
    assert_eq!(response.text(), "Service panicked");
    // Only 0: the upper bound and the other spellings are still refused.
    for bad in ["-1", "101", "abc", "0.5", "00"] {
        assert_error(
            &get(buggy.addr(), &format!("/products?limit={bad}")).await,
            400,
        );
    }
    let correct = common::start(Variant::Correct);
    assert_error(&get(correct.addr(), "/products?limit=0").await, 400);
}

#[tokio::test]
async fn a_name_cut_inside_a_character_panics_only_in_the_buggy_variant() {
    let buggy = common::start(Variant::Buggy);
    let correct = common::start(Variant::Correct);
    // Byte 16 falls inside `é` (bytes 15..17), inside the 6th CJK character, inside the
    // 6th zero-width space after two letters.
    let cut = format!("{}é", "a".repeat(15));
    let names = [
        cut.clone(),
        "田中さんにあげて下さい".to_owned(),
        format!("ab{}", "\u{200b}".repeat(6)),
    ];
    for name in &names {
        let response = post(buggy.addr(), "/users", user(name, "ada@example.com")).await;
        assert_eq!(response.status, 500, "{name}");
        let text = response.text();
        assert!(
            text.starts_with("thread 'tokio-runtime-worker' panicked at src/users.rs:42:23:\n"),
            "{text}"
        );
        assert!(text.contains("byte index 16 is not a char boundary; it is inside "));
        assert_eq!(response.content_type(), Some("text/plain; charset=utf-8"));

        let id = create_user(correct.addr(), name, "ada@example.com").await;
        let read = json(&get(correct.addr(), &format!("/users/{id}")).await);
        assert_eq!(read["name"], name.as_str());
    }
    let text = post(buggy.addr(), "/users", user(&cut, "ada@example.com"))
        .await
        .text();
    assert!(text.contains("it is inside 'é' (bytes 15..17) of `aaaaaaaaaaaaaaaé`"));
    // Long names that byte 16 does not cut are fine: ASCII, 4-byte emoji.
    for name in ["a".repeat(40), "🎉".repeat(10)] {
        create_user(buggy.addr(), &name, "ada@example.com").await;
    }
}

#[tokio::test]
async fn names_without_ascii_letters_read_back_a_null_display_name_only_in_the_buggy_variant() {
    let buggy = common::start(Variant::Buggy);
    let correct = common::start(Variant::Correct);
    for name in ["🎉", "مرحبا", "\u{200b}", "  ", "-_-"] {
        let id = create_user(buggy.addr(), name, "ada@example.com").await;
        let read = json(&get(buggy.addr(), &format!("/users/{id}")).await);
        assert_eq!(read["display_name"], serde_json::Value::Null, "{name:?}");
        assert_eq!(read["name"], name);

        let id = create_user(correct.addr(), name, "ada@example.com").await;
        let read = json(&get(correct.addr(), &format!("/users/{id}")).await);
        assert_eq!(read["display_name"], format!("user {id}"), "{name:?}");
    }
}

#[tokio::test]
async fn the_email_precheck_backtracks_catastrophically() {
    // Steps, not time: the matcher doubles its work with every character of a run that is
    // not followed by `@`, and stops at 26 characters.
    let run = |n: usize| backtracking_steps(&format!("{}!", "a".repeat(n)));
    assert_eq!(run(16), 1 << 18);
    assert_eq!(run(17), 2 * run(16));
    assert!(backtracking_steps("ada@example.com") < 40);
    assert!(backtracking_steps("first.last+tag@example.co.uk") < 100);
    assert!(backtracking_steps(&format!("{}@example.com", "a".repeat(24))) < 100);

    // Both variants refuse such an address; the buggy one only after the pre-check (a short
    // run here, to keep the test fast).
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        for email in ["aaaaaaaaaaaa!", "John_123__test", "ada@example.com!"] {
            assert_error(&post(demo.addr(), "/users", user("Ada", email)).await, 400);
        }
    }
}

#[tokio::test]
async fn order_ids_past_int4_fall_through_to_plain_text_only_in_the_buggy_variant() {
    let buggy = common::start(Variant::Buggy);
    let correct = common::start(Variant::Correct);
    for id in [
        "2147483648",
        "9007199254740992",
        "9223372036854775808",
        "18446744073709551615",
    ] {
        let response = get(buggy.addr(), &format!("/orders/{id}")).await;
        assert_eq!(response.status, 404, "{id}");
        assert_eq!(
            response.content_type(),
            Some("text/plain; charset=utf-8"),
            "{id}"
        );
        assert_error(&get(correct.addr(), &format!("/orders/{id}")).await, 404);
    }
    // Up to 2^31-1 the buggy variant answers as documented.
    assert_error(&get(buggy.addr(), "/orders/2147483647").await, 404);
}
