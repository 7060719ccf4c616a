//! Toxics with Toxiproxy's semantics, over real sockets on loopback.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};
use unruly_faults::Toxic;

fn toxic(json: &str) -> Toxic {
    Toxic::from_json(json.as_bytes()).expect("a valid toxic")
}

fn round_trip(stream: &mut std::net::TcpStream, message: &[u8]) -> Duration {
    let started = Instant::now();
    stream.write_all(message).expect("send");
    let mut echoed = vec![0u8; message.len()];
    stream.read_exact(&mut echoed).expect("the echo");
    assert_eq!(echoed, message);
    started.elapsed()
}

#[test]
fn no_toxics_pass_bytes_unchanged_both_ways() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("echo", echo_server());
    let mut stream = connect(listen(&proxy));
    let big: Vec<u8> = (0..300_000u32).map(|index| (index % 251) as u8).collect();
    let writer = {
        let mut stream = stream.try_clone().expect("clone");
        let big = big.clone();
        std::thread::spawn(move || stream.write_all(&big).expect("send"))
    };
    let mut echoed = vec![0u8; big.len()];
    stream.read_exact(&mut echoed).expect("the echo");
    writer.join().expect("writer");
    assert!(
        echoed == big,
        "300 kB through the proxy and back, byte for byte"
    );
}

#[test]
fn latency_delays_each_answer_and_acts_on_open_connections() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("echo", echo_server());
    let mut stream = connect(listen(&proxy));
    let before = round_trip(&mut stream, b"ping");
    rig.proxies
        .add_toxic(
            "echo",
            toxic(r#"{"type":"latency","attributes":{"latency":150}}"#),
        )
        .expect("added");
    let during = round_trip(&mut stream, b"ping");
    assert!(
        during >= Duration::from_millis(150),
        "the open connection waits: {during:?}"
    );
    rig.proxies
        .remove_toxic("echo", "latency_downstream")
        .expect("removed");
    round_trip(&mut stream, b"warm");
    let after = round_trip(&mut stream, b"ping");
    assert!(
        after < Duration::from_millis(150),
        "and stops waiting: {after:?} (before {before:?})"
    );
}

#[test]
fn timeout_drops_data_then_closes() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("echo", echo_server());
    rig.proxies
        .add_toxic(
            "echo",
            toxic(r#"{"type":"timeout","stream":"upstream","attributes":{"timeout":300}}"#),
        )
        .expect("added");
    let mut stream = connect(listen(&proxy));
    let started = Instant::now();
    stream.write_all(b"lost").expect("send");
    let answer = read_all(&mut stream).map_err(|(kind, _)| kind);
    assert_eq!(
        answer,
        Ok(Vec::new()),
        "nothing gets through, then the connection closes"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn reset_peer_resets_only_where_it_fires_and_repeats_with_the_seed() {
    let pattern = |seed: u64| -> Vec<bool> {
        let rig = Rig::new(seed);
        let proxy = rig.proxy("echo", echo_server());
        rig.proxies
            .add_toxic(
                "echo",
                toxic(r#"{"type":"reset_peer","toxicity":0.5,"attributes":{"timeout":0}}"#),
            )
            .expect("added");
        (0..24)
            .map(|_| {
                let mut stream = connect(listen(&proxy));
                // Time for a reset to arrive: then the write itself fails with it. After a
                // clean close (FIN) the write would pass and the read below meet the EOF.
                std::thread::sleep(Duration::from_millis(20));
                if let Err(error) = stream.write_all(b"hello") {
                    assert!(
                        matches!(
                            error.kind(),
                            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                        ),
                        "a reset, not {error}"
                    );
                    return true;
                }
                let mut buffer = [0u8; 5];
                match stream.read_exact(&mut buffer) {
                    Ok(()) => false,
                    Err(error) => {
                        assert_eq!(
                            error.kind(),
                            ErrorKind::ConnectionReset,
                            "a reset, not {error}"
                        );
                        true
                    }
                }
            })
            .collect()
    };
    let first = pattern(11);
    let resets = first.iter().filter(|reset| **reset).count();
    assert!(
        (4..=20).contains(&resets),
        "about half of 24 connections reset: {first:?}"
    );
    assert_eq!(
        first,
        pattern(11),
        "the same seed resets the same connections"
    );
}

#[test]
fn limit_data_closes_after_the_bytes() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("sender", sender_server(10_000));
    rig.proxies
        .add_toxic(
            "sender",
            toxic(r#"{"type":"limit_data","attributes":{"bytes":1000}}"#),
        )
        .expect("added");
    let mut stream = connect(listen(&proxy));
    let received = read_all(&mut stream).unwrap_or_else(|(_, bytes)| bytes);
    assert_eq!(received.len(), 1000);
}

#[test]
fn bandwidth_paces_the_bytes() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("sender", sender_server(20_000));
    rig.proxies
        .add_toxic(
            "sender",
            toxic(r#"{"type":"bandwidth","attributes":{"rate":40}}"#),
        )
        .expect("added");
    let started = Instant::now();
    let mut stream = connect(listen(&proxy));
    let received = read_all(&mut stream).expect("all of it");
    assert_eq!(received.len(), 20_000);
    // 20 kB at 40 KB/s: half a second at least (the first 100 ms' worth goes at once).
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn slicer_and_slow_close_deliver_everything_late() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("sender", sender_server(2_000));
    rig.proxies
        .add_toxic(
            "sender",
            toxic(r#"{"type":"slicer","attributes":{"average_size":100,"size_variation":50,"delay":10000}}"#),
        )
        .expect("added");
    rig.proxies
        .add_toxic(
            "sender",
            toxic(r#"{"type":"slow_close","attributes":{"delay":200}}"#),
        )
        .expect("added");
    let started = Instant::now();
    let mut stream = connect(listen(&proxy));
    let received = read_all(&mut stream).expect("all of it");
    assert_eq!(received.len(), 2_000);
    // About 20 slices 10 ms apart, then the close 200 ms late.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_disabled_proxy_is_down_and_comes_back_on_its_port() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("echo", echo_server());
    let addr = listen(&proxy);
    let mut open = connect(addr);
    round_trip(&mut open, b"up");
    rig.proxies
        .update("echo", None, None, Some(false))
        .expect("disabled");
    assert_eq!(
        read_all(&mut open).map_err(|(kind, _)| kind),
        Ok(Vec::new()),
        "open connections close"
    );
    let refused = std::net::TcpStream::connect(addr).expect_err("not listening");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    let info = rig
        .proxies
        .update("echo", None, None, Some(true))
        .expect("enabled");
    assert_eq!(listen(&info), addr, "the same port again");
    round_trip(&mut connect(addr), b"back");
}

#[test]
fn a_dead_upstream_gives_clients_a_clean_reset() {
    let rig = Rig::new(1);
    let proxy = rig.proxy("dead", closed_port());
    let mut stream = connect(listen(&proxy));
    // Time for the reset to arrive: then the write itself reports it (and clears it).
    std::thread::sleep(Duration::from_millis(20));
    let outcome = match stream.write_all(b"anyone?") {
        Err(error) => Err(error.kind()),
        Ok(()) => read_all(&mut stream).map_err(|(kind, _)| kind),
    };
    assert!(
        matches!(
            outcome,
            Err(ErrorKind::ConnectionReset | ErrorKind::BrokenPipe)
        ),
        "a reset, not {outcome:?}"
    );
}
