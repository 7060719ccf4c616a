//! The shop's own `GET /metrics`, in Prometheus text format, as `--scrape` reads it.

mod common;

use common::post;
use unruly_demo::Variant;

/// `shop_retained_bytes` in the shop's own `GET /metrics`.
async fn retained_bytes(demo: &unruly_demo::DemoHandle) -> u64 {
    let metrics = common::get(demo.addr(), "/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    text.lines()
        .find_map(|line| line.strip_prefix("shop_retained_bytes "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no shop_retained_bytes in {text}"))
}

#[tokio::test]
async fn the_shops_own_metrics_show_what_it_keeps() {
    for (variant, per_order) in [(Variant::Buggy, 16 * 1024), (Variant::Correct, 0)] {
        let demo = common::start(variant);
        assert_eq!(retained_bytes(&demo).await, 0);
        let body = r#"{"product_id":1,"quantity":1,"customer":"ada"}"#;
        for _ in 0..3 {
            assert_eq!(
                post(demo.addr(), "/orders", body.to_owned()).await.status,
                201
            );
        }
        assert_eq!(retained_bytes(&demo).await, 3 * per_order, "{variant:?}");
    }
}
