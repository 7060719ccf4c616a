//! Dependency experiments: each dependency given with `--dependency` sits behind a fault
//! proxy, and a standard series of faults is put on it one after another (down, resets,
//! 503s, a bandwidth squeeze, then slow), while every operation is exercised and the
//! health probe runs. An operation that answered well before and breaks during a fault
//! (no answer within a user's patience, a 5xx other than a 503 with `Retry-After`, a
//! failed connection) is a `dependency_cascade`: it should not depend on the dependency,
//! or should degrade gracefully (a timeout and a fallback, or a 503 with `Retry-After`).

use super::{Explorer, Job};
use crate::exchange::{send, Exchange};
use crate::Dependency;
use futures_util::future::join_all;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;
use std::time::Instant;
use unruly_core::{Evidence, Finding, FindingKind, Severity};
use unruly_engine::Prober;
use unruly_faults::{ApiError, HttpFault, Proxies, Toxic};

/// How long each fault stays on.
const WINDOW: Duration = Duration::from_secs(2);
/// How long a user waits for an answer: slower is no answer.
const PATIENCE: Duration = Duration::from_secs(2);
/// An answer slower than this during a fault is broken too: a timeout of a second and a
/// fallback stays under it; waiting on a stalled dependency does not.
const DEGRADED: Duration = Duration::from_millis(1500);
/// How long the target may take to answer well again once a fault is lifted.
const RECOVERY_LIMIT: Duration = Duration::from_secs(6);
/// Valid requests tried per operation for one answered 2xx.
const CANDIDATES: usize = 12;
/// Lanes exercising the operations side by side during a fault.
const LANES: usize = 4;
/// The time the series takes per dependency at most: added to the exploration's duration.
pub(crate) const TIME_PER_DEPENDENCY: Duration = Duration::from_secs(20);

/// One fault of the standard series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Experiment {
    Down,
    Resets,
    Errors,
    Squeeze,
    Slow,
}

/// The series, slow last: a service without timeouts may take a while to drain the calls
/// it made while the dependency was slow, and would blur the experiments after it.
const SERIES: [Experiment; 5] = [
    Experiment::Down,
    Experiment::Resets,
    Experiment::Errors,
    Experiment::Squeeze,
    Experiment::Slow,
];

const FAULT_NAME: &str = "unruly_experiment";

impl Experiment {
    fn describe(self) -> &'static str {
        match self {
            Experiment::Down => "down (connections refused)",
            Experiment::Resets => "resetting every connection",
            Experiment::Errors => "answering 503",
            Experiment::Squeeze => "squeezed to 1 KB/s",
            Experiment::Slow => "slow (5 s latency)",
        }
    }

    /// Puts the fault on the dependency's proxy.
    fn apply(self, proxies: &Proxies, name: &str) -> Result<(), ApiError> {
        let toxic = |json: &str| Toxic::from_json(json.as_bytes());
        match self {
            Experiment::Down => proxies.update(name, None, None, Some(false)).map(|_| ()),
            Experiment::Resets | Experiment::Squeeze | Experiment::Slow => proxies
                .add_toxic(name, toxic(&self.fault_body())?)
                .map(|_| ()),
            Experiment::Errors => {
                proxies
                    .add_http_fault(name, HttpFault::from_json(self.fault_body().as_bytes())?)?;
                // HTTP faults apply to new connections: close the open ones, as a
                // dependency restarting would.
                proxies.update(name, None, None, Some(false))?;
                proxies.update(name, None, None, Some(true)).map(|_| ())
            }
        }
    }

    /// The JSON the control API takes for this fault (empty for `down`).
    fn fault_body(self) -> String {
        match self {
            Experiment::Down => String::new(),
            Experiment::Resets => format!(
                r#"{{"name":"{FAULT_NAME}","type":"reset_peer","attributes":{{"timeout":0}}}}"#
            ),
            Experiment::Errors => format!(
                r#"{{"name":"{FAULT_NAME}","type":"status","attributes":{{"status":503}}}}"#
            ),
            Experiment::Squeeze => {
                format!(r#"{{"name":"{FAULT_NAME}","type":"bandwidth","attributes":{{"rate":1}}}}"#)
            }
            Experiment::Slow => format!(
                r#"{{"name":"{FAULT_NAME}","type":"latency","attributes":{{"latency":5000}}}}"#
            ),
        }
    }

    /// The `curl` that puts this fault on through `unruly proxy`'s control API.
    fn api_call(self, name: &str) -> String {
        let api = "http://127.0.0.1:8474";
        match self {
            Experiment::Down => {
                format!("curl -s -X POST {api}/proxies/{name} -d '{{\"enabled\":false}}'")
            }
            Experiment::Errors => format!(
                "curl -s -X POST {api}/proxies/{name}/http_faults -d '{}'",
                self.fault_body()
            ),
            _ => format!(
                "curl -s -X POST {api}/proxies/{name}/toxics -d '{}'",
                self.fault_body()
            ),
        }
    }

    fn lift(self, proxies: &Proxies, name: &str) {
        let _ = proxies.clear_faults(name);
        let _ = proxies.update(name, None, None, Some(true));
    }
}

/// What one operation got during one fault.
#[derive(Debug, Default)]
struct Tally {
    fine: u64,
    graceful: u64,
    unanswered: u64,
    late: u64,
    statuses: BTreeMap<u16, u64>,
    failures: BTreeMap<&'static str, u64>,
    first_broken: Option<Exchange>,
}

impl Tally {
    fn add(&mut self, exchange: Exchange) {
        match &exchange.outcome {
            Ok(response) if response.status < 500 && response.elapsed > DEGRADED => self.late += 1,
            Ok(response) if response.status < 500 => {
                self.fine += 1;
                return;
            }
            Ok(response)
                if response.status == 503
                    && response.headers.contains_key(http::header::RETRY_AFTER) =>
            {
                self.graceful += 1;
                return;
            }
            Ok(response) => *self.statuses.entry(response.status).or_default() += 1,
            Err(failure) if failure.class == unruly_core::ErrorClass::Timeout => {
                self.unanswered += 1
            }
            Err(failure) => *self.failures.entry(failure.class.as_str()).or_default() += 1,
        }
        if self.first_broken.is_none() {
            self.first_broken = Some(exchange);
        }
    }

    fn broken(&self) -> u64 {
        self.unanswered
            + self.late
            + self.statuses.values().sum::<u64>()
            + self.failures.values().sum::<u64>()
    }

    fn total(&self) -> u64 {
        self.fine + self.graceful + self.broken()
    }

    /// Broken for a fair share of the requests, not once by chance.
    fn is_broken(&self) -> bool {
        let broken = self.broken();
        broken >= 1 && broken * 4 >= self.total()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.unanswered > 0 {
            parts.push(format!(
                "{} without an answer within {PATIENCE:?}",
                self.unanswered
            ));
        }
        if self.late > 0 {
            parts.push(format!(
                "{} answered only after more than {DEGRADED:?}",
                self.late
            ));
        }
        for (status, count) in &self.statuses {
            parts.push(format!("{count} × {status}"));
        }
        for (class, count) in &self.failures {
            parts.push(format!("{count} × {class}"));
        }
        format!(
            "{} of {} requests broke ({})",
            self.broken(),
            self.total(),
            parts.join(", ")
        )
    }
}

/// One operation broken by one fault.
struct Breakage {
    dependency: String,
    experiment: Experiment,
    at_s: f64,
    what: String,
    first: Option<Exchange>,
    recovered: Option<Duration>,
    broken_count: u64,
    /// The other operations the same fault broke: the reproduction starts them first.
    companions: Vec<String>,
}

impl Explorer<'_> {
    /// Runs the series on every dependency, then reports what broke.
    pub(super) async fn dependencies(&self) {
        let Some(proxies) = self.proxies.as_ref() else {
            return;
        };
        self.state.borrow_mut().phase = "dependencies";
        let jobs = self.healthy_jobs().await;
        if jobs.is_empty() {
            return;
        }
        let mut broken: BTreeMap<String, Vec<Breakage>> = BTreeMap::new();
        let mut labels = Vec::new();
        for dependency in &self.options.dependencies {
            for experiment in SERIES {
                if self.stopped(self.dependencies_until) {
                    break;
                }
                let label = format!("dependency {} {}", dependency.name, experiment.describe());
                if experiment.apply(proxies, &dependency.name).is_err() {
                    continue;
                }
                self.set_activity(Some(label.clone()));
                let at_s = self.start.elapsed().as_secs_f64();
                let tallies = self.exercise(&jobs).await;
                experiment.lift(proxies, &dependency.name);
                let recovered = self.recovery(&jobs).await;
                self.set_activity(None);
                let hit: Vec<(String, Tally)> = jobs
                    .iter()
                    .zip(tallies)
                    .filter(|(_, tally)| tally.is_broken())
                    .map(|((operation, _), tally)| (self.spec.operations[*operation].name(), tally))
                    .collect();
                let names: Vec<String> = hit.iter().map(|(name, _)| name.clone()).collect();
                for (name, tally) in hit {
                    let companions = names
                        .iter()
                        .filter(|other| **other != name)
                        .cloned()
                        .collect();
                    broken.entry(name).or_default().push(Breakage {
                        dependency: dependency.name.clone(),
                        experiment,
                        at_s,
                        what: tally.describe(),
                        broken_count: tally.broken(),
                        first: tally.first_broken,
                        recovered,
                        companions,
                    });
                }
                if let Some(breakage) =
                    self.health_breakage(&label, dependency, experiment, at_s, recovered)
                {
                    broken.entry(breakage.0).or_default().push(breakage.1);
                }
                labels.push(label);
            }
        }
        self.state.borrow_mut().explained.extend(labels);
        let requests: BTreeMap<String, String> = jobs
            .iter()
            .map(|(operation, job)| {
                let record = self.prepare(&job.case).record;
                (
                    self.spec.operations[*operation].name(),
                    unruly_verdict::curl_command(&record),
                )
            })
            .collect();
        for (operation, breakages) in broken {
            let finding = self.cascade_finding(&operation, &breakages, &requests);
            let mut state = self.state.borrow_mut();
            state.behaviour_findings.push(finding);
        }
    }

    /// Every selected operation with a valid request that is answered well now, with no
    /// fault on: only those can show a cascade. A request answered 2xx is preferred (a
    /// 404 for an id that does not exist never reaches a dependency): the first of a few
    /// valid candidates that gets one, else the first answered below 500.
    async fn healthy_jobs(&self) -> Vec<(usize, Job)> {
        let mut prober = self.prober(90);
        let mut jobs = Vec::new();
        for &operation in &self.selected {
            let candidates = self.valid_job(operation).into_iter().chain(
                self.generator
                    .cases(operation, self.options.seed)
                    .into_iter()
                    .filter(|case| case.expect.is_valid())
                    .take(CANDIDATES)
                    .enumerate()
                    .map(|(n, case)| self.link_values(case, n)),
            );
            let mut fallback = None;
            for job in candidates {
                let Some(exchange) = self.send_patiently(&mut prober, &job.case).await else {
                    return jobs;
                };
                match exchange.status() {
                    Some(200..=299) => {
                        fallback = Some(job);
                        break;
                    }
                    Some(status) if status < 500 && fallback.is_none() => fallback = Some(job),
                    _ => {}
                }
            }
            if let Some(job) = fallback {
                jobs.push((operation, job));
            }
        }
        jobs
    }

    /// Sends the jobs from [`LANES`] lanes for [`WINDOW`], tallying per job.
    async fn exercise(&self, jobs: &[(usize, Job)]) -> Vec<Tally> {
        let end = Instant::now() + WINDOW;
        let tallies: RefCell<Vec<Tally>> =
            RefCell::new(jobs.iter().map(|_| Tally::default()).collect());
        let lanes = (0..LANES.min(jobs.len())).map(|lane| {
            let tallies = &tallies;
            async move {
                let mut prober = self.prober(91 + lane);
                let mut next = lane;
                while Instant::now() < end {
                    let index = next % jobs.len();
                    next += LANES;
                    let Some(exchange) =
                        self.send_patiently(&mut prober, &jobs[index].1.case).await
                    else {
                        return;
                    };
                    tallies.borrow_mut()[index].add(exchange);
                }
            }
        });
        join_all(lanes).await;
        tallies.into_inner()
    }

    /// Once the fault is lifted: how long until every job is answered well again, if it
    /// is within [`RECOVERY_LIMIT`].
    async fn recovery(&self, jobs: &[(usize, Job)]) -> Option<Duration> {
        let lifted = Instant::now();
        let mut prober = self.prober(99);
        while lifted.elapsed() < RECOVERY_LIMIT && !self.stopped(self.until) {
            let mut all_well = true;
            for (_, job) in jobs {
                let exchange = self.send_patiently(&mut prober, &job.case).await?;
                let mut tally = Tally::default();
                tally.add(exchange);
                if tally.broken() > 0 {
                    all_well = false;
                    break;
                }
            }
            if all_well {
                return Some(lifted.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }

    /// Sends with the user's patience as the timeout; `None` when stopped.
    async fn send_patiently(
        &self,
        prober: &mut Prober,
        case: &unruly_inputs::Case,
    ) -> Option<Exchange> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => None,
            _ = tokio::time::sleep_until(self.until.into()) => None,
            exchange = send(prober, self.spec, case, &self.options.headers, PATIENCE) => {
                self.state.borrow_mut().cases_run += 1;
                Some(exchange)
            }
        }
    }

    /// The health probe's failures during a fault, as a breakage of the health path.
    fn health_breakage(
        &self,
        label: &str,
        dependency: &Dependency,
        experiment: Experiment,
        at_s: f64,
        recovered: Option<Duration>,
    ) -> Option<(String, Breakage)> {
        let state = self.state.borrow();
        let health = state.health.as_ref()?;
        let (failed, probes) = health.during(label);
        (failed > 0).then(|| {
            (
                format!("GET {}", health.path()),
                Breakage {
                    dependency: dependency.name.clone(),
                    experiment,
                    at_s,
                    what: format!("the health probe failed {failed} of {probes} times"),
                    first: None,
                    recovered,
                    broken_count: failed,
                    companions: Vec::new(),
                },
            )
        })
    }

    fn cascade_finding(
        &self,
        operation: &str,
        breakages: &[Breakage],
        requests: &BTreeMap<String, String>,
    ) -> Finding {
        let first = &breakages[0];
        let faults: Vec<String> = breakages
            .iter()
            .map(|b| {
                let recovery = match b.recovered {
                    Some(after) => {
                        format!("answered well again {:.1} s after", after.as_secs_f64())
                    }
                    None => format!("still broken {RECOVERY_LIMIT:?} after"),
                };
                format!(
                    "{} {} at {:.1}s: {}; {recovery}",
                    b.dependency,
                    b.experiment.describe(),
                    b.at_s,
                    b.what
                )
            })
            .collect();
        let mut measurements = BTreeMap::new();
        for b in breakages {
            measurements.insert(
                format!("broken_{}_{:?}", b.dependency, b.experiment).to_lowercase(),
                b.broken_count as f64,
            );
        }
        measurements.insert("patience_ms".to_owned(), PATIENCE.as_millis() as f64);
        let exchange = first.first.as_ref();
        let evidence = Evidence {
            request: exchange
                .map(|e| format!("{} {}", e.record.method, e.record.url))
                .unwrap_or_else(|| operation.to_owned()),
            status: exchange.and_then(Exchange::status),
            error: exchange.and_then(Exchange::error),
            excerpt: Some(faults.join("\n")),
            latency_ms: exchange.map(|e| e.latency().as_secs_f64() * 1000.0),
            measurements,
        };
        let dependencies: Vec<&str> = {
            let mut names: Vec<&str> = breakages.iter().map(|b| b.dependency.as_str()).collect();
            names.dedup();
            names
        };
        Finding {
            id: String::new(),
            kind: FindingKind::DependencyCascade,
            severity: Severity::High,
            operation: operation.to_owned(),
            summary: format!(
                "{operation} broke while {} failed ({}), instead of degrading gracefully (a timeout and a fallback, or a 503 with Retry-After): {}.",
                dependencies.join(", "),
                breakages.iter().map(|b| b.experiment.describe()).collect::<Vec<_>>().join("; "),
                first.what
            ),
            evidence,
            reproduce: self.cascade_reproduction(operation, first, requests),
            seed: self.options.seed,
            first_seen_s: first.at_s,
            count: breakages.iter().map(|b| b.broken_count).sum(),
        }
    }

    /// Bash: `unruly proxy` where explore's proxy stood, the fault put on through its
    /// control API, the other operations this fault broke started in the background (the
    /// calls that hold what this one waits for), then this operation with the user's
    /// patience.
    fn cascade_reproduction(
        &self,
        operation: &str,
        first: &Breakage,
        requests: &BTreeMap<String, String>,
    ) -> String {
        let Some(dependency) = self
            .options
            .dependencies
            .iter()
            .find(|d| d.name == first.dependency)
        else {
            return String::new();
        };
        let config = format!(
            r#"[{{"name":"{}","listen":"{}","upstream":"{}"}}]"#,
            dependency.name, dependency.listen, dependency.upstream
        );
        let mut lines = vec![
            format!(
                "unruly proxy --api 127.0.0.1:8474 --config <(echo '{config}') & proxy=$!; trap 'kill $proxy' EXIT; sleep 1"
            ),
            first.experiment.api_call(&dependency.name),
        ];
        for companion in &first.companions {
            if let Some(command) = requests.get(companion) {
                lines.push(format!(
                    "{} &",
                    command.replacen(
                        "curl -i --max-time 10 ",
                        "curl -s -o /dev/null --max-time 6 ",
                        1
                    )
                ));
            }
        }
        lines.push("sleep 0.3".to_owned());
        let own = requests
            .get(operation)
            .cloned()
            .unwrap_or_else(|| format!("# {operation}"));
        // Last, so that the script's exit status is curl's (28: no answer in time).
        lines.push(own.replacen(
            "curl -i --max-time 10 ",
            &format!("curl -i --max-time {} ", PATIENCE.as_secs()),
            1,
        ));
        lines.join("\n")
    }
}
