//! The health probe of `unruly run`: a `GET` of the health path on its own
//! connection, twice a second, on a thread of its own from the run's start
//! to its end. Each probe is tied to what was running when it went out (a
//! behaviour's name, or `load`), so that a failure can be blamed on it.

use crate::health::{HealthLog, PROBE_INTERVAL};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use unruly_core::{ErrorClass, HealthSeen, HealthTally, RequestRecord};
use unruly_engine::behaviour::LOAD_LABEL;
use unruly_engine::{CancellationToken, Endpoint, ProbeBody, ProbeRequest, Prober};

/// How long a probe of a run may take before it counts as failed: a load
/// balancer's health check gives up about as soon (Kubernetes' default is 1 s).
pub const RUN_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes of a health answer kept (only its status matters).
const KEEP: usize = 1024;

/// What the probe saw through a run.
#[derive(Debug)]
pub struct HealthOutcome {
    /// Every probe, for the `unavailable` finding.
    pub log: HealthLog,
    /// Probes and failures by what was running, for the verdict on behaviours.
    pub seen: HealthSeen,
}

/// A health probe on its thread: [`begin`](Self::begin) starts it,
/// [`finish`](Self::finish) stops it and hands back what it saw.
#[derive(Debug)]
pub struct HealthWatch {
    go: Option<mpsc::Sender<Instant>>,
    stop: CancellationToken,
    thread: Option<JoinHandle<Option<HealthOutcome>>>,
}

impl HealthWatch {
    /// Starts the probe's thread for `path` on `endpoint`, sending `headers`;
    /// it waits for [`begin`](Self::begin). `during` says what runs now (a
    /// behaviour's name), `None` meaning the load alone (labelled
    /// [`LOAD_LABEL`]).
    pub fn spawn(
        endpoint: Endpoint,
        path: String,
        headers: Vec<(String, String)>,
        during: impl Fn() -> Option<String> + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = CancellationToken::new();
        let (go, start) = mpsc::channel::<Instant>();
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("unruly-health".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                let prober = Prober::new(endpoint, 0, KEEP);
                let mut watched = Watched {
                    log: HealthLog::new(path.clone(), &prober),
                    seen: HealthSeen {
                        request: RequestRecord {
                            method: "GET".to_owned(),
                            url: prober.url(&path),
                            headers: headers.clone(),
                            body: None,
                        },
                        during: BTreeMap::new(),
                    },
                };
                if let Ok(start) = start.recv() {
                    runtime
                        .block_on(watched.run(prober, &path, &headers, start, &stopped, &during));
                }
                Some(HealthOutcome {
                    log: watched.log,
                    seen: watched.seen,
                })
            })?;
        Ok(Self {
            go: Some(go),
            stop,
            thread: Some(thread),
        })
    }

    /// Starts probing; `start` is the run's start (probe times count from it).
    pub fn begin(&self, start: Instant) {
        if let Some(go) = &self.go {
            let _ = go.send(start);
        }
    }

    /// Stops probing (a probe in flight is dropped, not counted) and returns
    /// what the probe saw; `None` only when its thread could not run.
    pub fn finish(mut self) -> Option<HealthOutcome> {
        self.go = None;
        self.stop.cancel();
        self.thread.take()?.join().ok().flatten()
    }
}

impl Drop for HealthWatch {
    fn drop(&mut self) {
        self.go = None;
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the probe has seen so far.
struct Watched {
    log: HealthLog,
    seen: HealthSeen,
}

impl Watched {
    async fn run(
        &mut self,
        mut prober: Prober,
        path: &str,
        headers: &[(String, String)],
        start: Instant,
        stop: &CancellationToken,
        during: &(impl Fn() -> Option<String> + Send),
    ) {
        loop {
            let at = start.elapsed().as_secs_f64();
            let before = during();
            let failure = tokio::select! {
                failure = probe(&mut prober, path, headers) => failure,
                () = stop.cancelled() => return,
            };
            // What ran when the probe went out; else what started while it waited.
            let label = before
                .or_else(during)
                .unwrap_or_else(|| LOAD_LABEL.to_owned());
            self.record(at, failure, label);
            tokio::select! {
                () = tokio::time::sleep(PROBE_INTERVAL) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    fn record(&mut self, at: f64, failure: Option<Failed>, label: String) {
        let tally: &mut HealthTally = self.seen.during.entry(label.clone()).or_default();
        tally.probes += 1;
        if let Some(failed) = &failure {
            tally.failures += 1;
            if failed.refused {
                tally.refused += 1;
            }
            tally.first_failure.get_or_insert((at, failed.what.clone()));
        }
        self.log.add(at, failure.map(|f| f.what), Some(label));
    }
}

/// A failed probe.
struct Failed {
    /// Whether the connection was refused (the target is gone, not busy).
    refused: bool,
    /// What was seen.
    what: String,
}

/// Probes once: `None` when healthy (a 2xx within [`RUN_PROBE_TIMEOUT`]).
async fn probe(prober: &mut Prober, path: &str, headers: &[(String, String)]) -> Option<Failed> {
    let request = ProbeRequest {
        method: "GET".to_owned(),
        path_and_query: path.to_owned(),
        headers: headers.to_vec(),
        body: ProbeBody::Empty,
    };
    match prober.send(request, RUN_PROBE_TIMEOUT).await {
        Ok(answer) if (200..300).contains(&answer.status) => None,
        Ok(answer) => Some(Failed {
            refused: false,
            what: format!("status {}", answer.status),
        }),
        Err(failure) => Some(Failed {
            refused: failure.class == ErrorClass::Connect,
            what: format!("{}: {}", failure.class.as_str(), failure.message),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_testkit::{Behaviour, TestServer};

    #[test]
    fn probes_are_tied_to_what_runs_and_end_on_finish() {
        let server = TestServer::start(Behaviour::Fast).expect("server");
        let endpoint = Endpoint::resolve(&server.url(), false).expect("resolve");
        let watch = HealthWatch::spawn(endpoint, "/health".into(), Vec::new(), || {
            Some("storm".to_owned())
        })
        .expect("spawn");
        watch.begin(Instant::now());
        std::thread::sleep(Duration::from_millis(700));
        let outcome = watch.finish().expect("outcome");
        let storm = &outcome.seen.during["storm"];
        assert!(storm.probes >= 1, "{storm:?}");
        assert_eq!(storm.failures, 0);
        assert!(outcome.log.finding("F1".into(), 1).is_none());
    }

    #[test]
    fn a_dead_target_fails_the_probe() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        let endpoint = Endpoint::resolve(&url, false).expect("resolve");
        let watch =
            HealthWatch::spawn(endpoint, "/health".into(), Vec::new(), || None).expect("spawn");
        watch.begin(Instant::now());
        std::thread::sleep(Duration::from_millis(300));
        let outcome = watch.finish().expect("outcome");
        let load = &outcome.seen.during[LOAD_LABEL];
        assert_eq!(load.failures, load.probes);
        assert_eq!(load.refused, load.failures);
        let finding = outcome.log.finding("F1".into(), 1).expect("unavailable");
        assert!(
            finding.summary.contains("during load"),
            "{}",
            finding.summary
        );
    }
}
