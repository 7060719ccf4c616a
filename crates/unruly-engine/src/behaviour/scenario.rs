//! A scenario's behaviours, run alongside its load: each `[[behaviour]]` fires
//! on its schedule from the run's start until the run ends, on a thread of its
//! own with its own single-threaded runtime, and every firing's raw outcome
//! (what was sent, what came back, counts and timings) is handed back for the
//! verdict to judge.
//!
//! * `burst`: the operation's request, rendered once, sent `count` times with
//!   last-byte synchronisation; the invariant's read (if any) before and after.
//! * `double_submit`: the same, with a fresh idempotency key per firing when
//!   the behaviour asks for one, then one more copy once the others are
//!   answered; the invariant's read before and after.
//! * `refresh_storm`: the storm for its duration.
//! * `slow_clients`: the crowd grown to its size, held for its duration, then
//!   dispersed (every socket closed).
//!
//! Everything is bounded: bodies are capped, and the first
//! [`KEPT_FIRINGS`] firings of each behaviour are kept. The run's end (its planned duration, or
//! [`ScenarioBehaviours::finish`]) stops new firings and cuts holds short;
//! firings still in flight get [`END_GRACE`] to finish before they are
//! dropped, and an interruption (Ctrl-C) drops them at once. Dropping the
//! runtime closes every socket, so a dying target never holds the run.

use super::{burst, refresh_storm, SlowCrowd, StormOptions};
use crate::endpoint::Endpoint;
use crate::error::EngineError;
use crate::probe::{ProbeBody, ProbeFailure, ProbeRequest, ProbeResponse, Prober};
use crate::request::PreparedOperation;
use crate::schedule::ArrivalSchedule;
use futures_util::future::join_all;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use unruly_core::{
    placeholders, Behaviour, BehaviourKind, CrowdSeen, Exchange, Firing, Invariant, InvariantRead,
    Plan, RenderContext, RequestRecord, SeededRng, Seen, StormSeen, Submissions, Workload,
    BURST_BODY_BYTES, FIRING_BODY_BYTES, KEPT_FIRINGS, READ_BODY_BYTES,
};

/// How long firings in flight at the run's end may take to finish.
pub const END_GRACE: Duration = Duration::from_secs(3);
/// The label of the load, for what runs when no behaviour does.
pub const LOAD_LABEL: &str = "load";
/// The random stream of behaviour `i` is this plus `i` (the load's users use
/// small numbers).
const RNG_STREAM: u64 = 0xBE4A_0000_0000;
/// Headers of an operation's request that a read (a GET) does not carry.
const NOT_FOR_READS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
];

/// What is running now: the names of the behaviours firing, in the order they
/// started. Cheap to clone and to read from another thread (the health probe's).
#[derive(Debug, Clone, Default)]
pub struct NowRunning(Arc<Mutex<Vec<String>>>);

impl NowRunning {
    /// The behaviour that has been running the longest, if any runs.
    pub fn current(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first()
            .cloned()
    }

    /// The behaviour running now, or [`LOAD_LABEL`].
    pub fn label(&self) -> String {
        self.current().unwrap_or_else(|| LOAD_LABEL.to_owned())
    }

    fn enter(&self, name: &str) -> Entered<'_> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name.to_owned());
        Entered {
            running: self,
            name: name.to_owned(),
        }
    }
}

/// A behaviour marked as running until dropped.
struct Entered<'a> {
    running: &'a NowRunning,
    name: String,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let mut names = self
            .running
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = names.iter().position(|n| *n == self.name) {
            names.remove(at);
        }
    }
}

/// The behaviours of a plan, ready on their thread: [`begin`](Self::begin)
/// starts their schedules, [`finish`](Self::finish) ends them and hands back
/// what they saw.
#[derive(Debug)]
pub struct ScenarioBehaviours {
    go: Option<mpsc::Sender<Instant>>,
    ended: CancellationToken,
    thread: Option<JoinHandle<Vec<Firing>>>,
    running: NowRunning,
}

/// Everything the behaviours' thread needs.
struct Setup {
    behaviours: Vec<(Behaviour, PreparedOperation)>,
    endpoint: Endpoint,
    timeout: Duration,
    seed: u64,
    planned_end: Option<Duration>,
    ended: CancellationToken,
    interrupt: CancellationToken,
    running: NowRunning,
}

impl ScenarioBehaviours {
    /// Prepares the behaviours of `plan` against `endpoint` and starts their
    /// thread, which waits for [`begin`](Self::begin). Cancelling `interrupt`
    /// drops whatever runs at once. With no behaviours, no thread is started.
    ///
    /// Fails when a behaviour names an operation the plan does not have, when
    /// that operation cannot be sent, or when the thread cannot be started.
    pub fn spawn(
        plan: &Plan,
        endpoint: &Endpoint,
        interrupt: CancellationToken,
    ) -> Result<Self, EngineError> {
        let ended = CancellationToken::new();
        let running = NowRunning::default();
        if plan.behaviours.is_empty() {
            return Ok(Self {
                go: None,
                ended,
                thread: None,
                running,
            });
        }
        let mut behaviours = Vec::with_capacity(plan.behaviours.len());
        for behaviour in &plan.behaviours {
            let name = behaviour.kind.operation();
            let operation = plan
                .operations
                .iter()
                .find(|op| op.name == name)
                .ok_or_else(|| EngineError::InvalidOperation {
                    operation: name.to_owned(),
                    reason: format!(
                        "behaviour \"{}\" names it, but the plan has no operation of that name",
                        behaviour.name
                    ),
                })?;
            behaviours.push((
                behaviour.clone(),
                PreparedOperation::new(operation, endpoint)?,
            ));
        }
        let setup = Setup {
            behaviours,
            endpoint: endpoint.clone(),
            timeout: plan.timeout,
            seed: plan.seed,
            planned_end: planned_end(plan),
            ended: ended.clone(),
            interrupt,
            running: running.clone(),
        };
        let (go, start) = mpsc::channel::<Instant>();
        let thread = std::thread::Builder::new()
            .name("unruly-behaviours".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return Vec::new();
                };
                // No start (the run failed before its load began): nothing fires.
                let Ok(start) = start.recv() else {
                    return Vec::new();
                };
                let firings = runtime.block_on(setup.run(start));
                // Dropping the runtime drops every task left, sockets with them.
                drop(runtime);
                firings
            })?;
        Ok(Self {
            go: Some(go),
            ended,
            thread: Some(thread),
            running,
        })
    }

    /// The most connections the behaviours of `plan` hold at once, should
    /// they all overlap (copies, tabs, slow clients, and one for each read),
    /// to size the open-file limit.
    pub fn connections(plan: &Plan) -> u64 {
        plan.behaviours
            .iter()
            .map(|behaviour| match &behaviour.kind {
                BehaviourKind::Burst { count, .. } | BehaviourKind::DoubleSubmit { count, .. } => {
                    *count as u64 + 1
                }
                BehaviourKind::RefreshStorm { tabs, .. } => *tabs as u64 * 2,
                BehaviourKind::SlowClients { clients, .. } => *clients as u64,
            })
            .fold(0u64, u64::saturating_add)
    }

    /// What is running now, for the health probe.
    pub fn now_running(&self) -> NowRunning {
        self.running.clone()
    }

    /// Starts the schedules: `start` is the run's start, from which every
    /// behaviour's `at` and `every` count.
    pub fn begin(&self, start: Instant) {
        if let Some(go) = &self.go {
            let _ = go.send(start);
        }
    }

    /// The run ended: no new firings, holds cut short, firings in flight given
    /// [`END_GRACE`]. Returns every firing that completed, by start time.
    pub fn finish(mut self) -> Vec<Firing> {
        self.go = None;
        self.ended.cancel();
        let mut firings = self
            .thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default();
        firings.sort_by(|a, b| {
            a.started_s
                .total_cmp(&b.started_s)
                .then(a.behaviour.cmp(&b.behaviour))
                .then(a.number.cmp(&b.number))
        });
        firings
    }
}

impl Drop for ScenarioBehaviours {
    fn drop(&mut self) {
        self.go = None;
        self.ended.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long the plan's load lasts, when it is bounded by time.
fn planned_end(plan: &Plan) -> Option<Duration> {
    let mut end = plan.stop.duration();
    if let Workload::Open { stages, .. } = &plan.workload {
        let schedule = ArrivalSchedule::new(stages).duration();
        end = Some(end.map_or(schedule, |d| d.min(schedule)));
    }
    end
}

impl Setup {
    /// Runs every behaviour's schedule; returns the firings that completed.
    async fn run(self, start: Instant) -> Vec<Firing> {
        let firings = RefCell::new(Vec::new());
        let abort = CancellationToken::new();
        let watchdog = async {
            let planned = async {
                match self.planned_end {
                    Some(end) => tokio::time::sleep_until((start + end).into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = self.interrupt.cancelled() => {}
                () = self.ended.cancelled() => {}
                () = planned => {}
            }
            self.ended.cancel();
            tokio::select! {
                () = self.interrupt.cancelled() => {}
                () = tokio::time::sleep(END_GRACE) => {}
            }
            abort.cancel();
        };
        let all = join_all(self.behaviours.iter().enumerate().map(
            |(index, (behaviour, operation))| {
                self.schedule(index, behaviour, operation, start, &firings)
            },
        ));
        tokio::select! {
            _ = all => {}
            () = abort.cancelled() => {}
            () = watchdog => {}
        }
        firings.into_inner()
    }

    /// Fires one behaviour on its schedule until it is done or the run ends.
    async fn schedule(
        &self,
        index: usize,
        behaviour: &Behaviour,
        operation: &PreparedOperation,
        start: Instant,
        firings: &RefCell<Vec<Firing>>,
    ) {
        let mut rng = SeededRng::fork(self.seed, RNG_STREAM + index as u64);
        let end = self.planned_end.unwrap_or(Duration::MAX);
        for (number, at) in (0u32..).zip(behaviour.schedule.firings_before(end)) {
            tokio::select! {
                () = tokio::time::sleep_until((start + at).into()) => {}
                () = self.ended.cancelled() => return,
            }
            if self.ended.is_cancelled() {
                return;
            }
            let entered = self.running.enter(&behaviour.name);
            let started_s = start.elapsed().as_secs_f64();
            let ctx = RenderContext {
                vu: index as u64,
                iteration: u64::from(number),
                seq: u64::from(number),
            };
            let (seen, cut_short) = self
                .fire(index, number, behaviour, operation, ctx, &mut rng)
                .await;
            drop(entered);
            if number as usize >= KEPT_FIRINGS {
                continue;
            }
            firings.borrow_mut().push(Firing {
                behaviour: index,
                number,
                started_s,
                ended_s: start.elapsed().as_secs_f64(),
                cut_short,
                seen,
            });
        }
    }

    /// One firing: what it saw, and whether the run's end cut it short.
    async fn fire(
        &self,
        index: usize,
        number: u32,
        behaviour: &Behaviour,
        operation: &PreparedOperation,
        ctx: RenderContext,
        rng: &mut SeededRng,
    ) -> (Seen, bool) {
        let (request, record) = match operation.probe_request(ctx, rng, &self.endpoint.base_path) {
            Ok(rendered) => rendered,
            Err(reason) => return (Seen::NotSent { reason }, false),
        };
        match &behaviour.kind {
            BehaviourKind::Burst {
                operation: name,
                count,
                invariant,
            } => {
                let submitted = Submitted {
                    operation: name,
                    request,
                    record,
                    key: None,
                };
                (
                    self.submit(submitted, *count, false, invariant).await,
                    false,
                )
            }
            BehaviourKind::DoubleSubmit {
                operation: name,
                count,
                idempotency_key,
                invariant,
            } => {
                let key = idempotency_key.as_ref().map(|header| {
                    (
                        header.clone(),
                        format!("unruly-{}-{}-{}", self.seed, index + 1, number + 1),
                    )
                });
                let submitted = Submitted {
                    operation: name,
                    request,
                    record,
                    key,
                };
                (self.submit(submitted, *count, true, invariant).await, false)
            }
            BehaviourKind::RefreshStorm {
                tabs,
                duration,
                abandon,
                ..
            } => {
                let options = StormOptions {
                    tabs: *tabs,
                    duration: *duration,
                    abandon: *abandon,
                    seed: self
                        .seed
                        .wrapping_add(((index as u64) << 32) | u64::from(number)),
                    timeout: self.timeout,
                };
                let began = Instant::now();
                match refresh_storm(&self.endpoint, &request, &options, &self.ended).await {
                    Ok(report) => {
                        let cut = self.ended.is_cancelled() && began.elapsed() < *duration;
                        let seen = StormSeen {
                            request: record,
                            requests: report.requests,
                            abandoned: report.abandoned,
                            statuses: report.statuses.clone(),
                            failures: report
                                .failures
                                .iter()
                                .map(|(class, n)| ((*class).to_owned(), *n))
                                .collect(),
                            first_problem: report
                                .first_problem
                                .as_ref()
                                .map(|(at, what)| (at.as_secs_f64(), what.clone())),
                            latency_ms: report
                                .window
                                .stats("storm", duration.as_secs_f64())
                                .latency_ms,
                        };
                        (Seen::Storm(seen), cut)
                    }
                    Err(reason) => (Seen::NotSent { reason }, false),
                }
            }
            BehaviourKind::SlowClients {
                mode,
                clients,
                duration,
                bytes_per_second,
                ..
            } => {
                let mut crowd =
                    match SlowCrowd::new(&self.endpoint, &request, *mode, *bytes_per_second) {
                        Ok(crowd) => crowd,
                        Err(reason) => return (Seen::NotSent { reason }, false),
                    };
                crowd.grow_to(*clients).await;
                let held = Instant::now();
                tokio::select! {
                    () = tokio::time::sleep(*duration) => {}
                    () = self.ended.cancelled() => {}
                }
                let held_ms = held.elapsed().as_secs_f64() * 1000.0;
                let cut = held.elapsed() < *duration;
                let counts = crowd.disperse().await;
                let seen = CrowdSeen {
                    request: record,
                    started: counts.started,
                    connected: counts.connected,
                    connect_failures: counts.connect_failures,
                    cut_by_server: counts.cut_by_server,
                    answered: counts.answered,
                    bytes_sent: counts.bytes_sent,
                    held_ms,
                };
                (Seen::Crowd(seen), cut)
            }
        }
    }

    /// Copies released together (then, for a double submit, one more), with
    /// the invariant's read before and after.
    async fn submit(
        &self,
        submitted: Submitted<'_>,
        count: usize,
        repeat: bool,
        invariant: &Option<Invariant>,
    ) -> Seen {
        let Submitted {
            operation,
            mut request,
            mut record,
            key,
        } = submitted;
        if let Some((header, value)) = &key {
            request
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case(header));
            request.headers.push((header.clone(), value.clone()));
            record
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case(header));
            record.headers.push((header.clone(), value.clone()));
        }
        let read = invariant.as_ref().map(|invariant| {
            self.read_request(operation, invariant, &request, key.as_ref().map(|k| &k.0))
        });
        let read_before = match &read {
            Some(read) => Some(self.read(read).await),
            None => None,
        };
        let copies: Vec<ProbeRequest> = (0..count.max(1))
            .filter_map(|_| request.try_clone())
            .collect();
        let keep = if repeat {
            FIRING_BODY_BYTES
        } else {
            BURST_BODY_BYTES
        };
        let result = burst(&self.endpoint, &copies, self.timeout, keep).await;
        let release_spread_ms = result.release_spread.as_secs_f64() * 1000.0;
        let copies = result.answers.into_iter().map(exchange).collect();
        let repeat = if repeat {
            let again: Vec<ProbeRequest> = request.try_clone().into_iter().collect();
            let result = burst(&self.endpoint, &again, self.timeout, FIRING_BODY_BYTES).await;
            result.answers.into_iter().next().map(exchange)
        } else {
            None
        };
        let read_after = match &read {
            Some(read) => Some(self.read(read).await),
            None => None,
        };
        Seen::Submissions(Box::new(Submissions {
            request: record,
            idempotency_key: key,
            copies,
            release_spread_ms,
            repeat,
            read_before,
            read_after,
        }))
    }

    /// The invariant's read for a request of `operation`: its placeholders
    /// filled from the request's path, with the request's headers but those
    /// of its body and its idempotency key.
    fn read_request(
        &self,
        operation: &str,
        invariant: &Invariant,
        request: &ProbeRequest,
        key_header: Option<&String>,
    ) -> Result<(ProbeRequest, RequestRecord), String> {
        let path = fill_placeholders(&invariant.read_path, operation, &request.path_and_query)?;
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter(|(name, _)| {
                !NOT_FOR_READS.iter().any(|h| name.eq_ignore_ascii_case(h))
                    && key_header.is_none_or(|key| !name.eq_ignore_ascii_case(key))
            })
            .cloned()
            .collect();
        let record = RequestRecord {
            method: invariant.read_method.clone(),
            url: format!("{}{path}", self.endpoint.base_url),
            headers: headers.clone(),
            body: None,
        };
        Ok((
            ProbeRequest {
                method: invariant.read_method.clone(),
                path_and_query: path,
                headers,
                body: ProbeBody::Empty,
            },
            record,
        ))
    }

    /// Sends the read on a connection of its own.
    async fn read(
        &self,
        read: &Result<(ProbeRequest, RequestRecord), String>,
    ) -> Result<InvariantRead, String> {
        let (request, record) = read.as_ref().map_err(Clone::clone)?;
        let copy = request
            .try_clone()
            .ok_or_else(|| "a streamed body cannot be read twice".to_owned())?;
        let mut prober = Prober::new(self.endpoint.clone(), 0, READ_BODY_BYTES);
        let answer = exchange(prober.send(copy, self.timeout).await);
        Ok(InvariantRead {
            request: record.clone(),
            answer,
        })
    }
}

/// A rendered request of a behaviour's operation, about to be submitted.
struct Submitted<'a> {
    operation: &'a str,
    request: ProbeRequest,
    record: RequestRecord,
    key: Option<(String, String)>,
}

/// An answer or a failure, as a firing keeps it.
fn exchange(answer: Result<ProbeResponse, ProbeFailure>) -> Exchange {
    match answer {
        Ok(answer) => {
            let header = |name: http::header::HeaderName| {
                answer
                    .headers
                    .get(name)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            };
            Exchange {
                status: Some(answer.status),
                error: None,
                error_detail: None,
                location: header(http::header::LOCATION),
                content_type: header(http::header::CONTENT_TYPE),
                body: String::from_utf8_lossy(&answer.body).into_owned(),
                body_complete: answer.is_complete(),
                latency_ms: answer.elapsed.as_secs_f64() * 1000.0,
            }
        }
        Err(failure) => Exchange {
            error: Some(failure.class),
            error_detail: Some(failure.message),
            latency_ms: failure.elapsed.as_secs_f64() * 1000.0,
            ..Exchange::default()
        },
    }
}

/// Fills the `{name}` placeholders of `read_path` with the same-named
/// segments of `path` (a rendered request path) matched against the path in
/// `operation`'s name: `POST /accounts/{id}/withdrawals` and
/// `/accounts/42/withdrawals` give `id = 42`.
pub fn fill_placeholders(read_path: &str, operation: &str, path: &str) -> Result<String, String> {
    let wanted = placeholders(read_path);
    if wanted.is_empty() {
        return Ok(read_path.to_owned());
    }
    let values = placeholder_values(operation, path)?;
    let mut filled = read_path.to_owned();
    for (offset, name) in wanted.into_iter().rev() {
        let value = values.get(name).ok_or_else(|| {
            format!("the operation's name \"{operation}\" has no {{{name}}} segment")
        })?;
        filled.replace_range(offset..offset + name.len() + 2, value);
    }
    Ok(filled)
}

/// The values of the placeholders of `operation`'s path in `path`.
fn placeholder_values(operation: &str, path: &str) -> Result<HashMap<String, String>, String> {
    let pattern = match operation.split_once(char::is_whitespace) {
        Some((_, rest)) if rest.trim_start().starts_with('/') => rest.trim(),
        _ if operation.starts_with('/') => operation.trim(),
        _ => {
            return Err(format!(
                "the operation's name \"{operation}\" is not `METHOD /path`, so its \
                 placeholders cannot be matched against the request's path"
            ))
        }
    };
    let strip_query = |p: &str| p.split(['?', '#']).next().unwrap_or_default().to_owned();
    let (pattern, path) = (strip_query(pattern), strip_query(path));
    let expected: Vec<&str> = pattern.split('/').collect();
    let actual: Vec<&str> = path.split('/').collect();
    if expected.len() != actual.len() {
        return Err(format!(
            "the request's path {path} does not have the segments of \"{pattern}\", so its \
             placeholders cannot be read from it"
        ));
    }
    let mut values = HashMap::new();
    for (segment, value) in expected.into_iter().zip(actual) {
        let found = placeholders(segment);
        let Some(&(offset, name)) = found.first() else {
            continue;
        };
        if found.len() > 1 {
            return Err(format!(
                "the segment `{segment}` of \"{pattern}\" holds more than one placeholder"
            ));
        }
        let prefix = &segment[..offset];
        let suffix = &segment[offset + name.len() + 2..];
        let middle = value
            .strip_prefix(prefix)
            .and_then(|v| v.strip_suffix(suffix))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!("the request's path segment `{value}` does not match `{segment}`")
            })?;
        values.insert(name.to_owned(), middle.to_owned());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::{BehaviourSchedule, Expectation, Operation, SlowMode, StopCondition};
    use unruly_testkit::{Behaviour as Script, TestServer};

    fn plan(url: &str, behaviours: Vec<Behaviour>, duration: Duration) -> Plan {
        let mut operation = Operation::simple("POST", "/accounts/7/withdrawals");
        operation.name = "POST /accounts/{id}/withdrawals".into();
        operation.body = Some(unruly_core::Template::literal("{\"amount\":60}"));
        Plan {
            target: unruly_core::Target {
                base_url: url.to_owned(),
                health: None,
            },
            operations: vec![operation],
            workload: Workload::Closed {
                users: 1,
                think_time: Duration::ZERO,
            },
            stop: StopCondition::Duration(duration),
            timeout: Duration::from_secs(30),
            threads: 1,
            max_body_bytes: 1 << 20,
            seed: 5,
            insecure: false,
            assumptions: Vec::new(),
            behaviours,
            dependencies: Vec::new(),
            faults: Vec::new(),
        }
    }

    fn behaviour(kind: BehaviourKind) -> Behaviour {
        Behaviour {
            name: "b".into(),
            kind,
            schedule: BehaviourSchedule::default(),
        }
    }

    fn run(plan: &Plan) -> (Vec<Firing>, Duration) {
        let endpoint = Endpoint::resolve(&plan.target.base_url, false).expect("resolve");
        let behaviours =
            ScenarioBehaviours::spawn(plan, &endpoint, CancellationToken::new()).expect("spawn");
        let start = Instant::now();
        behaviours.begin(start);
        std::thread::sleep(plan.stop.duration().unwrap_or_default());
        let firings = behaviours.finish();
        (firings, start.elapsed())
    }

    #[test]
    fn a_burst_sends_its_copies_and_reads_before_and_after() {
        let server = TestServer::start(Script::Fast).expect("server");
        let invariant = Invariant {
            read_method: "GET".into(),
            read_path: "/accounts/{id}".into(),
            expect: Expectation::parse("$.balance >= 0").expect("parse"),
            written: "$.balance >= 0".into(),
        };
        let plan = plan(
            &server.url(),
            vec![behaviour(BehaviourKind::Burst {
                operation: "POST /accounts/{id}/withdrawals".into(),
                count: 5,
                invariant: Some(invariant),
            })],
            Duration::from_millis(500),
        );
        let (firings, _) = run(&plan);
        assert_eq!(firings.len(), 1);
        let Seen::Submissions(seen) = &firings[0].seen else {
            panic!("{:?}", firings[0].seen);
        };
        assert_eq!(seen.copies.len(), 5);
        assert!(
            seen.copies.iter().all(|c| c.status == Some(200)),
            "{seen:?}"
        );
        assert!(seen.request.url.ends_with("/accounts/7/withdrawals"));
        assert_eq!(seen.request.body.as_deref(), Some("{\"amount\":60}"));
        let after = seen
            .read_after
            .as_ref()
            .expect("read")
            .as_ref()
            .expect("sent");
        assert!(
            after.request.url.ends_with("/accounts/7"),
            "{:?}",
            after.request
        );
        assert_eq!(after.answer.status, Some(200));
        assert!(seen.read_before.is_some());
        assert!(seen.repeat.is_none());
        // 5 copies and two reads.
        assert_eq!(server.requests(), 7);
    }

    #[test]
    fn a_double_submit_shares_a_fresh_key_and_repeats() {
        let server = TestServer::start(Script::Fast).expect("server");
        let mut plan = plan(
            &server.url(),
            vec![behaviour(BehaviourKind::DoubleSubmit {
                operation: "POST /accounts/{id}/withdrawals".into(),
                count: 2,
                idempotency_key: Some("Idempotency-Key".into()),
                invariant: None,
            })],
            Duration::from_millis(400),
        );
        plan.behaviours[0].schedule = BehaviourSchedule {
            at: Duration::ZERO,
            every: Some(Duration::from_millis(150)),
            times: 2,
        };
        let (firings, _) = run(&plan);
        assert_eq!(firings.len(), 2);
        let keys: Vec<String> = firings
            .iter()
            .map(|firing| {
                let Seen::Submissions(seen) = &firing.seen else {
                    panic!("{:?}", firing.seen);
                };
                assert_eq!(seen.copies.len(), 2);
                assert_eq!(seen.repeat.as_ref().and_then(|r| r.status), Some(200));
                let (header, key) = seen.idempotency_key.clone().expect("key");
                assert_eq!(header, "Idempotency-Key");
                assert!(seen.request.headers.contains(&(header, key.clone())));
                key
            })
            .collect();
        assert_eq!(keys, ["unruly-5-1-1", "unruly-5-1-2"]);
    }

    #[test]
    fn slow_clients_are_held_then_dispersed() {
        let server = TestServer::start(Script::Fast).expect("server");
        let plan = plan(
            &server.url(),
            vec![behaviour(BehaviourKind::SlowClients {
                mode: SlowMode::Upload,
                operation: "POST /accounts/{id}/withdrawals".into(),
                clients: 8,
                duration: Duration::from_millis(300),
                bytes_per_second: 10,
            })],
            Duration::from_millis(600),
        );
        let (firings, _) = run(&plan);
        let Seen::Crowd(crowd) = &firings[0].seen else {
            panic!("{:?}", firings[0].seen);
        };
        assert_eq!((crowd.started, crowd.connected), (8, 8));
        assert!(crowd.held_ms >= 290.0, "{crowd:?}");
        assert!(!firings[0].cut_short);
    }

    #[test]
    fn a_hanging_target_holds_the_end_no_longer_than_the_grace() {
        let server = TestServer::start(Script::Slow(Duration::from_secs(60))).expect("server");
        let plan = plan(
            &server.url(),
            vec![
                behaviour(BehaviourKind::Burst {
                    operation: "POST /accounts/{id}/withdrawals".into(),
                    count: 3,
                    invariant: None,
                }),
                behaviour(BehaviourKind::SlowClients {
                    mode: SlowMode::Read,
                    operation: "POST /accounts/{id}/withdrawals".into(),
                    clients: 4,
                    duration: Duration::from_secs(60),
                    bytes_per_second: 1,
                }),
            ],
            Duration::from_millis(300),
        );
        let (firings, took) = run(&plan);
        assert!(
            took < Duration::from_millis(300) + END_GRACE + Duration::from_secs(1),
            "{took:?}"
        );
        // The burst never got its answers: dropped; the crowd was cut short.
        assert_eq!(firings.len(), 1, "{firings:?}");
        assert!(firings[0].cut_short);
    }

    #[test]
    fn nothing_fires_without_a_start_and_an_interrupt_drops_everything() {
        let server = TestServer::start(Script::Fast).expect("server");
        let plan = plan(
            &server.url(),
            vec![behaviour(BehaviourKind::Burst {
                operation: "POST /accounts/{id}/withdrawals".into(),
                count: 2,
                invariant: None,
            })],
            Duration::from_secs(60),
        );
        let endpoint = Endpoint::resolve(&server.url(), false).expect("resolve");
        let never =
            ScenarioBehaviours::spawn(&plan, &endpoint, CancellationToken::new()).expect("spawn");
        assert!(never.finish().is_empty());
        assert_eq!(server.requests(), 0);

        let slow = TestServer::start(Script::Slow(Duration::from_secs(60))).expect("server");
        let endpoint = Endpoint::resolve(&slow.url(), false).expect("resolve");
        let interrupt = CancellationToken::new();
        let behaviours =
            ScenarioBehaviours::spawn(&plan, &endpoint, interrupt.clone()).expect("spawn");
        let start = Instant::now();
        behaviours.begin(start);
        std::thread::sleep(Duration::from_millis(200));
        interrupt.cancel();
        let firings = behaviours.finish();
        assert!(firings.is_empty());
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn unknown_operations_are_refused_before_anything_runs() {
        let mut plan = plan(
            "http://127.0.0.1:9",
            vec![behaviour(BehaviourKind::Burst {
                operation: "nope".into(),
                count: 2,
                invariant: None,
            })],
            Duration::from_secs(1),
        );
        let endpoint = Endpoint::resolve(&plan.target.base_url, false).expect("resolve");
        let error = ScenarioBehaviours::spawn(&plan, &endpoint, CancellationToken::new())
            .expect_err("refused");
        assert!(error.to_string().contains("nope"), "{error}");
        plan.behaviours.clear();
        assert_eq!(ScenarioBehaviours::connections(&plan), 0);
    }

    #[test]
    fn placeholders_come_from_the_operation_name() {
        assert_eq!(
            fill_placeholders(
                "/accounts/{id}",
                "POST /accounts/{id}/withdrawals",
                "/accounts/42/withdrawals?x=1"
            ),
            Ok("/accounts/42".to_owned())
        );
        assert_eq!(
            fill_placeholders("/a/{b}/c/{id}", "PUT /a/{id}/c/v{b}.json", "/a/7/c/v3.json"),
            Ok("/a/3/c/7".to_owned())
        );
        assert_eq!(
            fill_placeholders("/health", "whatever", "/x"),
            Ok("/health".to_owned())
        );
        assert!(fill_placeholders("/a/{id}", "POST /a/{id}", "/a/1/extra").is_err());
        assert!(fill_placeholders("/a/{id}", "withdraw {id}", "/a/1").is_err());
        assert!(fill_placeholders("/a/{id}", "POST /a/x{id}", "/a/y1").is_err());
    }

    #[test]
    fn now_running_is_the_oldest_behaviour() {
        let running = NowRunning::default();
        assert_eq!(running.label(), LOAD_LABEL);
        let first = running.enter("storm");
        let second = running.enter("slow");
        assert_eq!(running.current().as_deref(), Some("storm"));
        drop(first);
        assert_eq!(running.current().as_deref(), Some("slow"));
        drop(second);
        assert_eq!(running.current(), None);
    }
}
