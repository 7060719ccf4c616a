//! How closely a synchronised burst arrives: `ROUNDS` bursts of `SIZE` requests
//! (default 30 × 20) released with last-byte synchronisation against a server
//! on loopback that timestamps each request when its last byte is read; prints
//! the spread (last arrival − first arrival) per burst and a summary.
//!
//!     cargo run --release -p unruly-engine --example burst_spread -- [ROUNDS] [SIZE]

use std::time::Duration;
use unruly_engine::behaviour::burst;
use unruly_engine::{Endpoint, ProbeBody, ProbeRequest};
use unruly_testkit::ArrivalServer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(30), |a| a.parse())?;
    let size: usize = args.next().map_or(Ok(20), |a| a.parse())?;
    let server = ArrivalServer::start()?;
    let target = Endpoint::resolve(&server.url(), false)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let requests: Vec<ProbeRequest> = (0..size)
        .map(|_| ProbeRequest {
            method: "POST".into(),
            path_and_query: "/accounts/1/withdrawals".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: ProbeBody::Bytes(r#"{"amount":60}"#.into()),
        })
        .collect();
    let mut spreads = Vec::with_capacity(rounds);
    let mut releases = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let result = runtime.block_on(burst(&target, &requests, Duration::from_secs(5), 64));
        let arrivals = server.take_arrivals();
        if arrivals.len() != size || result.successes() != size {
            return Err(format!(
                "round {round}: {} of {size} arrived, {} answered",
                arrivals.len(),
                result.successes()
            )
            .into());
        }
        let first = arrivals.iter().min().copied().unwrap_or(result.released_at);
        let last = arrivals.iter().max().copied().unwrap_or(result.released_at);
        let spread = last.duration_since(first);
        println!(
            "burst {:>3}: {size} requests arrived within {:>7.1} µs (client wrote the last bytes in {:>6.1} µs)",
            round + 1,
            spread.as_secs_f64() * 1e6,
            result.release_spread.as_secs_f64() * 1e6
        );
        spreads.push(spread);
        releases.push(result.release_spread);
    }
    spreads.sort();
    releases.sort();
    let at =
        |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    let within = spreads
        .iter()
        .filter(|s| **s <= Duration::from_millis(1))
        .count();
    println!(
        "arrival spread of {size}-request bursts over {rounds} rounds: median {:.1} µs, p90 {:.1} µs, max {:.1} µs; {within}/{rounds} within 1 ms (goal: all); client release median {:.1} µs",
        at(&spreads, 0.5),
        at(&spreads, 0.9),
        at(&spreads, 1.0),
        at(&releases, 0.5)
    );
    Ok(())
}
