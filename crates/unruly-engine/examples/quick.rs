//! Quick engine check: `cargo run --release -p unruly-engine --example quick -- URL CONNS SECS [RATE]`.
use std::time::Duration;
use unruly_core::{Operation, Plan, Stage, StopCondition, Target, Workload};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or("http://127.0.0.1:8080/".into());
    let conns: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let secs: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let rate: Option<f64> = args.get(4).and_then(|s| s.parse().ok());
    let (base, path) = match url[8..].find('/') {
        Some(i) => (url[..8 + i].to_string(), url[8 + i..].to_string()),
        None => (url.clone(), "/".to_string()),
    };
    let duration = Duration::from_secs(secs);
    let workload = match rate {
        Some(rate) => Workload::Open {
            connections: conns,
            stages: vec![Stage::Hold { rate, duration }],
        },
        None => Workload::Closed {
            users: conns,
            think_time: Duration::ZERO,
        },
    };
    let plan = Plan {
        target: Target { base_url: base },
        operations: vec![Operation::simple("GET", &path)],
        workload,
        stop: StopCondition::Duration(duration),
        timeout: Duration::from_secs(10),
        threads: 1,
        max_body_bytes: 16 << 20,
        seed: 1,
        insecure: true,
        assumptions: vec![],
    };
    let result = unruly_engine::run(&plan, unruly_engine::CancellationToken::new(), |w| {
        eprintln!(
            "t={} req={} p99={:.2}ms",
            w.t_s, w.requests, w.latency_ms.p99
        )
    })
    .expect("run");
    let s = &result.stats.overall;
    println!(
        "requests {} rps {:.0} p50 {:.3}ms p99 {:.3}ms errors {} dur {:?} status {:?}",
        s.requests, s.rps, s.latency_ms.p50, s.latency_ms.p99, s.errors, result.duration, s.status
    );
}
