//! Crowds of unruly clients: slow ones (old devices, slow networks) that hold
//! connections while a new visitor knocks, and refresh storms with requests
//! abandoned mid-flight. What they exhaust is `resource_exhaustion`.

use super::behaviours::is_unsafe;
use super::Explorer;
use std::collections::BTreeMap;
use std::time::Duration;
use unruly_core::{Evidence, Finding, FindingKind, Severity};
use unruly_engine::behaviour::{refresh_storm, SlowCrowd, SlowMode, StormOptions};
use unruly_engine::{ProbeBody, ProbeRequest, Prober};
use unruly_verdict::shell_quote;

/// Slow clients at each step; the first step at which a new visitor gets no
/// answer is how many it took.
const SLOW_STEPS: [usize; 5] = [16, 32, 64, 128, 256];
/// Bytes per second each slow client sends or reads.
const SLOW_RATE: u64 = 1;
/// Time the crowd is left in place before a new visitor knocks.
const SLOW_SETTLE: Duration = Duration::from_millis(300);
/// How long a new visitor waits for an answer.
const VISITOR_PATIENCE: Duration = Duration::from_secs(2);
/// Tabs in a refresh storm.
const STORM_TABS: usize = 20;
/// How long a storm lasts per operation.
const STORM_DURATION: Duration = Duration::from_millis(300);
/// Share of storm requests abandoned before their answer.
const STORM_ABANDON: f64 = 0.25;
/// Storms at most (one per `GET`).
const STORMS: usize = 8;

impl Explorer<'_> {
    /// Slow headers against the health path, then slow uploads to the first
    /// operation that takes a body, each crowd grown step by step while a new
    /// visitor (a fresh connection) asks for health after each step.
    pub(super) async fn slow_clients(&self) {
        let Some(health) = self.health_path() else {
            return;
        };
        let get = |path: &str| ProbeRequest {
            method: "GET".to_owned(),
            path_and_query: path.to_owned(),
            headers: self.options.headers.clone(),
            body: ProbeBody::Empty,
        };
        let mut crowds = vec![(SlowMode::Headers, format!("GET {health}"), get(&health))];
        let upload = self.selected.iter().find_map(|&operation| {
            let spec_operation = &self.spec.operations[operation];
            if !is_unsafe(&spec_operation.method) || spec_operation.body.is_none() {
                return None;
            }
            let job = self.valid_job(operation)?;
            let prepared = self.prepare(&job.case);
            let request = prepared.request.try_clone()?;
            matches!(request.body, ProbeBody::Bytes(ref b) if !b.is_empty())
                .then(|| (SlowMode::Upload, spec_operation.name(), request))
        });
        crowds.extend(upload);
        for (mode, name, request) in crowds {
            if self.behaviours_stopped() {
                return;
            }
            self.slow_crowd(mode, &name, &request, &health).await;
        }
    }

    async fn slow_crowd(&self, mode: SlowMode, name: &str, request: &ProbeRequest, health: &str) {
        let label = format!("slow clients ({}) on {name}", mode.name());
        self.set_activity(Some(label.clone()));
        // A new visitor must be answered before the crowd comes, or there is
        // nothing to compare with (the health probe reports that on its own).
        if self.new_visitor(health).await.is_some() {
            return;
        }
        let Ok(mut crowd) = SlowCrowd::new(&self.endpoint, request, mode, SLOW_RATE) else {
            return;
        };
        let mut exhausted = None;
        for clients in SLOW_STEPS {
            if self.behaviours_stopped() {
                break;
            }
            crowd.grow_to(clients).await;
            tokio::time::sleep(SLOW_SETTLE).await;
            if let Some(what) = self.new_visitor(health).await {
                // Asked twice: one lost answer is not exhaustion.
                if self.new_visitor(health).await.is_some() {
                    exhausted = Some((clients, what));
                    break;
                }
            }
        }
        let counts = crowd.disperse().await;
        let Some((clients, what)) = exhausted else {
            return;
        };
        let recovered = self.new_visitor(health).await.is_none();
        let url = format!("{}{health}", self.endpoint.base_url);
        let mut measurements = BTreeMap::new();
        measurements.insert("slow_clients".to_owned(), clients as f64);
        measurements.insert("bytes_per_second".to_owned(), SLOW_RATE as f64);
        measurements.insert("connected".to_owned(), counts.connected as f64);
        measurements.insert("cut_by_server".to_owned(), counts.cut_by_server as f64);
        self.report(
            Finding {
                id: String::new(),
                kind: FindingKind::ResourceExhaustion,
                severity: Severity::High,
                operation: name.to_owned(),
                summary: format!(
                    "{clients} slow clients ({}, {SLOW_RATE} byte/s) on {name} left a new visitor without an answer from GET {health} ({what}); {}.",
                    describe(mode),
                    if recovered {
                        "it answered again once they left"
                    } else {
                        "it still did not answer after they left"
                    }
                ),
                evidence: Evidence {
                    request: format!("GET {url} on a new connection, within {VISITOR_PATIENCE:?}"),
                    excerpt: Some(format!(
                        "{} of {} slow clients connected; the target cut {} of them",
                        counts.connected, counts.started, counts.cut_by_server
                    )),
                    measurements,
                    ..Evidence::default()
                },
                reproduce: self.slow_reproduction(mode, request, clients, &url),
                seed: 0,
                first_seen_s: 0.0,
                count: 1,
            },
            Some(label),
        );
    }

    /// Asks for health on a connection of its own: `None` when answered 2xx
    /// in time, else what went wrong.
    async fn new_visitor(&self, health: &str) -> Option<String> {
        let mut prober = Prober::new(self.endpoint.clone(), 0, 1024);
        unruly_watch::probe(&mut prober, health, &self.options.headers, VISITOR_PATIENCE).await
    }

    /// Bash that starts `clients` slow clients with `/dev/tcp`, then asks for
    /// health as a new visitor. The target's address is written once, as its
    /// base URL, and taken apart by bash.
    fn slow_reproduction(
        &self,
        mode: SlowMode,
        request: &ProbeRequest,
        clients: usize,
        health_url: &str,
    ) -> String {
        let mut head = format!(
            "{} {}{} HTTP/1.1\r\nHost: %s\r\n",
            request.method, self.endpoint.base_path, request.path_and_query
        );
        for (name, value) in &request.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body_len = match &request.body {
            ProbeBody::Bytes(bytes) => bytes.len(),
            _ => 0,
        };
        let trickle = match mode {
            SlowMode::Upload => {
                head.push_str(&format!("Content-Length: {body_len}\r\n\r\n"));
                "x"
            }
            _ => "X-a: b\\r\\n",
        };
        // A printf format on one line: its one `%s` is the Host.
        let head = head
            .replace('%', "%%")
            .replacen("%%s", "%s", 1)
            .replace('\r', "\\r")
            .replace('\n', "\\n");
        let default_port = if self.endpoint.scheme == "https" {
            "443"
        } else {
            "80"
        };
        format!(
            "base={}; hp=${{base#*://}}; hp=${{hp%%/*}}; host=${{hp%:*}}; port=${{hp##*:}}; [ \"$port\" = \"$hp\" ] && port={default_port}; \
             for i in $(seq {clients}); do ( exec 3<>/dev/tcp/$host/$port; printf {} \"$hp\" >&3; while sleep 1; do printf {} >&3 || break; done ) & done; \
             sleep 2; curl -i -m 5 {}; answered=$?; kill $(jobs -p) 2>/dev/null; [ $answered -eq 0 ]",
            shell_quote(&self.endpoint.base_url),
            shell_quote(&head),
            shell_quote(trickle),
            shell_quote(health_url)
        )
    }

    /// A short refresh storm on each `GET` with a valid request (abandoning a
    /// share of its requests): failures or 5xx that the same request alone
    /// does not get mean the storm exhausted something.
    pub(super) async fn storms(&self) {
        let mut prober = self.prober(0);
        let mut stormed = 0;
        for &operation in &self.selected {
            if self.behaviours_stopped() || stormed == STORMS {
                return;
            }
            let spec_operation = &self.spec.operations[operation];
            if spec_operation.method != "GET" {
                continue;
            }
            let Some(job) = self.valid_job(operation) else {
                continue;
            };
            // Alone, it is answered below 500 (else the input passes report it).
            let Some(alone) = self.send(&mut prober, &job.case).await else {
                return;
            };
            if alone.status().is_none_or(|s| s >= 500) {
                continue;
            }
            stormed += 1;
            let name = spec_operation.name();
            let label = format!("a refresh storm of {STORM_TABS} tabs on {name}");
            self.set_activity(Some(label.clone()));
            let prepared = self.prepare(&job.case);
            let options = StormOptions {
                tabs: STORM_TABS,
                duration: STORM_DURATION,
                abandon: STORM_ABANDON,
                seed: self.options.seed ^ operation as u64,
                timeout: self.options.timeout,
            };
            let Ok(report) =
                refresh_storm(&self.endpoint, &prepared.request, &options, &self.cancel).await
            else {
                continue;
            };
            {
                let mut state = self.state.borrow_mut();
                state.cases_run += report.requests;
                state.tallies[operation].1.merge(&report.window);
            }
            let problems = report.problems();
            if problems == 0 {
                continue;
            }
            let mut measurements = BTreeMap::new();
            measurements.insert("tabs".to_owned(), STORM_TABS as f64);
            measurements.insert("requests".to_owned(), report.requests as f64);
            measurements.insert("abandoned".to_owned(), report.abandoned as f64);
            measurements.insert("failed_or_5xx".to_owned(), problems as f64);
            let first = report
                .first_problem
                .as_ref()
                .map(|(at, what)| {
                    format!(" (first after {:.0} ms: {what})", at.as_secs_f64() * 1e3)
                })
                .unwrap_or_default();
            let record = &prepared.record;
            let once = unruly_verdict::curl_command(record);
            self.report(
                Finding {
                    id: String::new(),
                    kind: FindingKind::ResourceExhaustion,
                    severity: Severity::High,
                    operation: name.clone(),
                    summary: format!(
                        "A refresh storm of {STORM_TABS} tabs on {name} ({} requests, {} more abandoned mid-flight) got {problems} failures or 5xx answers{first}; alone the same request is answered {}.",
                        report.requests,
                        report.abandoned,
                        alone.status().unwrap_or_default()
                    ),
                    evidence: Evidence {
                        request: format!("{} {} from {STORM_TABS} connections", record.method, record.url),
                        excerpt: Some(format!("statuses {:?}, failures {:?}", report.statuses, report.failures)),
                        measurements,
                        ..Evidence::default()
                    },
                    reproduce: format!(
                        "for tab in $(seq {STORM_TABS}); do ( for i in $(seq 50); do {} >/dev/null; done ) & done; wait",
                        once.replacen("curl -i ", "curl -s -m 2 -w '%{http_code}\\n' -o /dev/null ", 1)
                    ),
                    seed: 0,
                    first_seen_s: 0.0,
                    count: problems,
                },
                Some(label),
            );
        }
    }
}

/// What slow clients of `mode` do, in words.
fn describe(mode: SlowMode) -> &'static str {
    match mode {
        SlowMode::Headers => {
            "each sending its request head a byte at a time and never finishing it"
        }
        SlowMode::Upload => "each sending its head at once and its body a byte at a time",
        SlowMode::Read => "each reading its answer a byte at a time",
    }
}
