//! The buggy variant's memory leak, seen as the resident memory of this very process.
//! (Alone in its test binary, so that no other test moves the numbers.)

mod common;

use common::post;
use unruly_demo::Variant;

/// This process's resident set size in bytes, from `/proc/self/status`.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Sends `n` orders with a padded 128 KiB body and returns how much RSS grew.
async fn growth_after_orders(variant: Variant, n: usize) -> i64 {
    let demo = common::start(variant);
    let padding = " ".repeat(128 * 1024);
    let body = format!(r#"{{"product_id":1,"quantity":1,"customer":"leak","pad":"{padding}"}}"#);
    // Warm up: runtime threads, buffers, allocator arenas.
    for _ in 0..20 {
        assert_eq!(post(demo.addr(), "/orders", body.clone()).await.status, 201);
    }
    let before = rss_bytes().expect("VmRSS");
    for _ in 0..n {
        assert_eq!(post(demo.addr(), "/orders", body.clone()).await.status, 201);
    }
    let after = rss_bytes().expect("VmRSS");
    after as i64 - before as i64
}

#[tokio::test]
async fn buggy_orders_leak_their_bodies_and_correct_ones_do_not() {
    if rss_bytes().is_none() {
        eprintln!("no /proc/self/status here: skipping");
        return;
    }
    const MIB: i64 = 1024 * 1024;
    // 100 bodies of 128 KiB: 12.5 MiB kept forever.
    let buggy = growth_after_orders(Variant::Buggy, 100).await;
    assert!(
        buggy >= 10 * MIB,
        "the buggy variant grew by only {buggy} bytes"
    );
    let correct = growth_after_orders(Variant::Correct, 100).await;
    assert!(
        correct < 4 * MIB,
        "the correct variant grew by {correct} bytes"
    );
}
