//! Slow clients hold their connections while they run and leave no socket
//! behind once dispersed or dropped. Alone in its test binary: it counts this
//! process's open file descriptors, which other tests would change.

use std::time::Duration;
use unruly_engine::behaviour::{SlowCrowd, SlowMode};
use unruly_engine::{Endpoint, ProbeBody, ProbeRequest};
use unruly_testkit::ArrivalServer;

fn request(method: &str, body: &str) -> ProbeRequest {
    ProbeRequest {
        method: method.into(),
        path_and_query: "/upload".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: ProbeBody::Bytes(body.to_owned().into()),
    }
}

/// Open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Open file descriptors once the server (in this process too) has closed its
/// side of the connections the clients closed: waits up to 2 s for `expected`.
async fn settled_fds(expected: usize) -> usize {
    for _ in 0..200 {
        if open_fds() <= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    open_fds()
}

#[tokio::test]
async fn slow_clients_hold_their_connections_then_leave_no_socket_behind() {
    let server = ArrivalServer::start().unwrap();
    let target = Endpoint::resolve(&server.url(), false).unwrap();
    let before = open_fds();
    for mode in [SlowMode::Headers, SlowMode::Upload, SlowMode::Read] {
        let request = request("POST", &"x".repeat(200));
        let mut crowd = SlowCrowd::new(&target, &request, mode, 20).unwrap();
        crowd.grow_to(30).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let held = crowd.counts();
        assert_eq!((held.started, held.connected), (30, 30), "{mode:?}");
        if mode != SlowMode::Read {
            // Nothing complete yet: the server is still waiting for every request.
            assert_eq!(held.answered, 0, "{mode:?}");
            assert!(
                open_fds() >= before + 30,
                "{mode:?}: the clients hold sockets"
            );
        }
        let after = crowd.disperse().await;
        assert_eq!(after.connected, 30);
        assert_eq!(
            settled_fds(before).await,
            before,
            "{mode:?}: every socket is closed"
        );
    }
    // A dropped crowd leaves nothing either.
    let mut crowd = SlowCrowd::new(&target, &request("GET", ""), SlowMode::Headers, 1).unwrap();
    crowd.grow_to(10).await;
    drop(crowd);
    tokio::task::yield_now().await;
    assert_eq!(
        settled_fds(before).await,
        before,
        "a dropped crowd closes its sockets"
    );
    assert!(
        server.take_arrivals().len() <= 30,
        "only Read-mode requests arrived whole"
    );
}
