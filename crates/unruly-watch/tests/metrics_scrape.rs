//! `--scrape`: a real endpoint on 127.0.0.1, read a few times into series.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use unruly_watch::metrics::{MetricsError, Scraper};

/// A metrics endpoint whose counter goes up by 5 with every scrape; it stops serving when
/// `done` is set (and one more connection arrives, which `finish` below makes).
struct Endpoint {
    url: String,
    served: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Endpoint {
    fn start() -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let url = format!("http://{}/metrics", listener.local_addr().expect("addr"));
        let served = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (count, stop) = (Arc::clone(&served), Arc::clone(&done));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    line.clear();
                }
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let body = format!(
                    "# HELP app_requests_total Requests.\n# TYPE app_requests_total counter\n\
                     app_requests_total{{route=\"/products/{{id}}\"}} {}\n\
                     # TYPE app_queue gauge\napp_queue 7\n\
                     # TYPE app_latency_seconds histogram\n\
                     app_latency_seconds_bucket{{le=\"0.1\"}} {n}\n\
                     app_latency_seconds_bucket{{le=\"+Inf\"}} {n}\n\
                     app_latency_seconds_sum 0.5\napp_latency_seconds_count {n}\n\
                     this line is garbage {{{{\n",
                    n * 5
                );
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Endpoint {
            url,
            served,
            done,
            thread: Some(thread),
        }
    }

    fn finish(mut self) {
        self.done.store(true, Ordering::SeqCst);
        let addr = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/metrics");
        let _ = std::net::TcpStream::connect(addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn scrapes_series_skipping_buckets_and_garbage() {
    let endpoint = Endpoint::start();
    let scraper =
        Scraper::spawn(&endpoint.url, Instant::now(), Duration::from_millis(100)).expect("starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while endpoint.served.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let outcome = scraper.finish();
    endpoint.finish();

    assert!(outcome.scrapes >= 3, "{outcome:?}");
    assert_eq!(outcome.failures, 0, "{outcome:?}");
    let names: Vec<&str> = outcome.series.iter().map(|s| s.name.as_str()).collect();
    assert!(
        !names.iter().any(|name| name.contains("_bucket")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|name| name.contains("garbage")),
        "{names:?}"
    );
    for expected in [
        "app_queue",
        "app_latency_seconds_sum",
        "app_latency_seconds_count",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let counter = outcome
        .series
        .iter()
        .find(|s| s.name == "app_requests_total{route=\"/products/{id}\"}")
        .unwrap_or_else(|| panic!("the counter in {names:?}"));
    assert!(counter.points.len() >= 3, "{counter:?}");
    assert!(
        counter
            .points
            .windows(2)
            .all(|p| p[0].value < p[1].value && p[0].t_s < p[1].t_s),
        "{counter:?}"
    );
}

#[test]
fn a_dead_url_counts_failures() {
    // Port 1 (tcpmux) is privileged and never served here: connections are refused.
    // (A port bound and closed could be taken again by another test's listener.)
    let scraper = Scraper::spawn(
        "http://127.0.0.1:1/metrics",
        Instant::now(),
        Duration::from_millis(50),
    )
    .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while scraper.failures() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!scraper.latest_ok());
    let outcome = scraper.finish();
    assert!(outcome.failures >= 2, "{outcome:?}");
    assert_eq!(outcome.failures, outcome.scrapes, "{outcome:?}");
    assert!(outcome.series.is_empty());
    let error = outcome.last_error.unwrap_or_default();
    assert!(error.contains("cannot connect"), "{error}");
}

#[test]
fn a_bad_url_is_refused_naming_it() {
    let error = Scraper::spawn(
        "https://example.invalid/metrics",
        Instant::now(),
        Duration::from_secs(1),
    )
    .err()
    .map(|error| error.to_string());
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("https://example.invalid/metrics")),
        "{error:?}"
    );
    assert!(matches!(
        Scraper::spawn("localhost:9090", Instant::now(), Duration::from_secs(1)),
        Err(MetricsError::ScrapeUrl { .. })
    ));
}
