//! The unruly-user primitives against real servers on loopback: bursts released
//! together, refresh storms and spikes.

use std::time::Duration;
use unruly_engine::behaviour::{burst, refresh_storm, spike, SpikePlan, StormOptions};
use unruly_engine::{CancellationToken, Endpoint, ProbeBody, ProbeRequest};
use unruly_testkit::{ArrivalServer, Behaviour, CapacityServer, TestServer};

fn get(path: &str) -> ProbeRequest {
    ProbeRequest {
        method: "GET".into(),
        path_and_query: path.into(),
        headers: Vec::new(),
        body: ProbeBody::Empty,
    }
}

fn post(path: &str, body: &str) -> ProbeRequest {
    ProbeRequest {
        method: "POST".into(),
        path_and_query: path.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: ProbeBody::Bytes(body.to_owned().into()),
    }
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint::resolve(url, false).expect("a loopback URL resolves")
}

#[tokio::test]
async fn a_burst_arrives_whole_only_once_released_and_every_request_is_answered() {
    let server = ArrivalServer::start().unwrap();
    let target = endpoint(&server.url());
    let requests: Vec<_> = (0..20)
        .map(|_| post("/withdraw", r#"{"amount":60}"#))
        .collect();
    let result = burst(&target, &requests, Duration::from_secs(5), 1024).await;
    assert_eq!(result.answers.len(), 20);
    for answer in &result.answers {
        let answer = answer.as_ref().expect("answered");
        assert_eq!((answer.status, &answer.body[..]), (200, &b"ok"[..]));
    }
    assert_eq!(result.successes(), 20);
    let arrivals = server.take_arrivals();
    assert_eq!(arrivals.len(), 20, "the server saw every request whole");
    // Held back by one byte each: none could be complete before the release.
    assert!(arrivals.iter().all(|&at| at >= result.released_at));
}

#[tokio::test]
async fn a_burst_to_a_closed_port_fails_cleanly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = endpoint(&format!("http://127.0.0.1:{port}"));
    let result = burst(&target, &[get("/"), get("/")], Duration::from_secs(2), 64).await;
    assert!(result.answers.iter().all(|a| a
        .as_ref()
        .is_err_and(|f| f.class == unruly_core::ErrorClass::Connect)));
}

#[tokio::test]
async fn a_refresh_storm_abandons_its_share_and_counts_answers() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let target = endpoint(&server.url());
    let options = StormOptions {
        tabs: 8,
        duration: Duration::from_millis(400),
        abandon: 0.25,
        seed: 7,
        timeout: Duration::from_secs(2),
    };
    let report = refresh_storm(&target, &get("/"), &options, &CancellationToken::new())
        .await
        .unwrap();
    assert!(report.requests > 100, "{report:?}");
    let total = (report.requests + report.abandoned) as f64;
    let share = report.abandoned as f64 / total;
    assert!((0.15..0.35).contains(&share), "abandoned share {share}");
    assert_eq!(report.problems(), 0, "{report:?}");
    assert_eq!(report.statuses.get(&200).copied(), Some(report.requests));
}

#[tokio::test]
async fn a_spike_shows_where_a_known_capacity_caps_throughput() {
    // /slow holds one lock for 5 ms: at most 200 requests a second.
    let server = CapacityServer::start(Duration::from_millis(5)).unwrap();
    let target = endpoint(&server.url());
    let plan = SpikePlan {
        rates: vec![50.0, 100.0, 400.0, 800.0],
        step: Duration::from_millis(500),
        max_in_flight: 64,
        timeout: Duration::from_secs(5),
    };
    let steps = spike(
        &target,
        &[get("/slow"), get("/fast")],
        &plan,
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(steps.len(), 4);
    for step in &steps {
        let fast = &step.operations[1];
        let expected = (step.rate * 0.5) as u64;
        assert_eq!(fast.offered, expected, "every arrival is scheduled");
        assert_eq!(fast.answered, expected, "/fast keeps up at {}/s", step.rate);
    }
    let slow_top = &steps[3].operations[0];
    assert!(
        slow_top.throughput < 230.0,
        "/slow cannot pass its capacity: {slow_top:?}"
    );
    assert!(
        slow_top.latency.p99 > 10.0 * steps[0].operations[0].latency.p99,
        "/slow queues past its capacity: {steps:?}"
    );
}
