//! unruly's load engine.
//!
//! [`run`] drives a [`Plan`] against its target: `plan.threads` OS threads, each
//! with a single-threaded tokio runtime, each running one task per connection
//! (hyper 1.x driven directly, HTTP/1.1 keep-alive, HTTPS through rustls, HTTP/2
//! when TLS negotiates it). Closed workloads loop users with think time; open
//! workloads follow an [`ArrivalSchedule`] and measure latency from each
//! request's due time, so a stalled target shows as the queueing delay it causes.
//! Outcomes land in HDR histograms per operation and per second, merged exactly
//! across threads by the collector.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod behaviour;
mod collector;
mod connection;
mod endpoint;
mod error;
pub mod histogram;
mod limits;
mod probe;
mod recorder;
mod request;
mod schedule;
mod shared;
mod tls;
mod user;

pub use endpoint::Endpoint;
pub use error::EngineError;
pub use limits::{raise_open_file_limit, FileLimit};
pub use probe::{ProbeBody, ProbeFailure, ProbeRequest, ProbeResponse, Prober};
pub use recorder::OperationWindow;
pub use schedule::ArrivalSchedule;
pub use tokio_util::sync::CancellationToken;

use collector::Collector;
use recorder::{Message, Recorder};
use request::PreparedOperation;
use shared::Shared;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use unruly_core::{Plan, ResponseSample, Stats, Window, Workload};

/// How long a connection may take to accept before the run, in the preflight check.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(3);
/// How often threads hand their partial windows to the collector.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Longest wait for in-flight requests once the run stops issuing new ones.
const DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How long after a second ends its window is published live.
const WINDOW_SETTLE: Duration = Duration::from_millis(400);

/// What a run measured.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Wall-clock start.
    pub started_at: SystemTime,
    /// Time from start until the run stopped issuing requests (or all were done).
    pub duration: Duration,
    /// Whether the run was interrupted before its planned end.
    pub interrupted: bool,
    /// Worker threads used (at most one per connection).
    pub threads: usize,
    /// Totals overall and per operation.
    pub stats: Stats,
    /// Every second of the run.
    pub timeline: Vec<Window>,
    /// One kept request per operation and distinct outcome, with counts.
    pub samples: Vec<ResponseSample>,
}

/// Resolves the target and checks it accepts a connection, before any load.
pub fn preflight(plan: &Plan) -> Result<Endpoint, EngineError> {
    let mut endpoint = Endpoint::resolve(&plan.target.base_url, plan.insecure)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(endpoint.preflight(PREFLIGHT_TIMEOUT))?;
    Ok(endpoint)
}

/// What [`run`] reports while it goes on.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// The target passed the preflight check and load begins now.
    Started {
        /// Wall-clock start of the load (the report's `started_at`).
        at: SystemTime,
    },
    /// One settled second of aggregates.
    Window(&'a Window),
}

/// Runs `plan`, calling `on_progress` when load starts and with each second's
/// aggregates shortly after
/// it ends. Cancelling `interrupt` stops the run early; what was measured until
/// then is returned, with `interrupted` set.
pub fn run(
    plan: &Plan,
    interrupt: CancellationToken,
    mut on_progress: impl FnMut(Progress<'_>),
) -> Result<RunResult, EngineError> {
    let endpoint = preflight(plan)?;
    let operations = plan
        .operations
        .iter()
        .map(|operation| PreparedOperation::new(operation, &endpoint))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = plan.operations.iter().map(|op| op.name.clone()).collect();
    let mut cumulative = 0u64;
    let cumulative_weights = plan
        .operations
        .iter()
        .map(|op| {
            cumulative += u64::from(op.weight);
            cumulative
        })
        .collect();
    let (users, think_time, schedule) = match &plan.workload {
        Workload::Closed { users, think_time } => (*users, *think_time, None),
        Workload::Open {
            connections,
            stages,
        } => (
            *connections,
            Duration::ZERO,
            Some(ArrivalSchedule::new(stages)),
        ),
    };
    let mut deadline = plan.stop.duration();
    if let Some(schedule) = &schedule {
        deadline = Some(deadline.map_or(schedule.duration(), |d| d.min(schedule.duration())));
    }
    let budget = plan.stop.requests();
    let threads = plan.threads.clamp(1, users.max(1));
    let started_at = SystemTime::now();
    let start = Instant::now();
    on_progress(Progress::Started { at: started_at });
    let shared = Arc::new(Shared {
        endpoint,
        operations,
        operation_names: names.clone(),
        cumulative_weights,
        timeout: plan.timeout,
        max_body_bytes: plan.max_body_bytes,
        think_time,
        uses_seq: plan.operations.iter().any(uses_seq),
        interrupted: AtomicBool::new(false),
        seed: plan.seed,
        start,
        schedule,
        next_arrival: AtomicU64::new(0),
        budget,
        issued: AtomicU64::new(0),
        seq: AtomicU64::new(0),
        stop_issuing: CancellationToken::new(),
        stopped: AtomicBool::new(false),
        abort: CancellationToken::new(),
    });

    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::with_capacity(threads);
    for thread in 0..threads {
        let users_here: Vec<usize> = (thread..users).step_by(threads).collect();
        let for_thread = shared.clone();
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("unruly-worker-{thread}"))
            .spawn(move || drive_thread(for_thread, users_here, tx));
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                // Stop the threads already started before giving up.
                shared.stop();
                shared.abort.cancel();
                for handle in handles {
                    let _ = handle.join();
                }
                return Err(EngineError::Runtime(error));
            }
        }
    }
    drop(tx);

    let mut collector = Collector::new(names);
    let mut samples = Vec::new();
    let mut finished_threads = 0;
    let mut interrupted = false;
    let mut issuing_ended: Option<Instant> = None;
    let mut receive = |message: Message, collector: &mut Collector| match message {
        Message::Partial { second, operations } => {
            collector.add(second, operations);
            false
        }
        Message::Samples(mut kept) => {
            samples.append(&mut kept);
            false
        }
        Message::Done => true,
    };
    while finished_threads < threads {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(message) => {
                if receive(message, &mut collector) {
                    finished_threads += 1;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let elapsed = start.elapsed();
        // Ctrl-C after the planned end (during the drain) does not make a
        // finished run an interrupted one.
        if interrupt.is_cancelled() && !interrupted && !shared.is_stopped() {
            interrupted = true;
            shared
                .interrupted
                .store(true, std::sync::atomic::Ordering::Release);
            shared.stop();
            shared.abort.cancel();
            issuing_ended.get_or_insert_with(Instant::now);
        }
        if let Some(deadline) = deadline {
            if elapsed >= deadline && !shared.is_stopped() {
                shared.stop();
                issuing_ended = Some(start + deadline);
            }
        }
        if let Some(ended) = issuing_ended {
            if ended.elapsed() >= DRAIN_GRACE.min(plan.timeout) {
                shared.abort.cancel();
            }
        }
        // Publish seconds that have settled.
        while Duration::from_secs(collector.settled_seconds() + 1) + WINDOW_SETTLE <= elapsed
            && issuing_ended.is_none_or(|ended| {
                start + Duration::from_secs(collector.settled_seconds()) < ended
            })
        {
            on_progress(Progress::Window(collector.settle_next()));
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    // Drain what the threads sent last, then settle every second with data.
    while let Ok(message) = rx.try_recv() {
        receive(message, &mut collector);
    }
    while collector.has_pending() {
        on_progress(Progress::Window(collector.settle_next()));
    }
    let ended = issuing_ended.unwrap_or_else(Instant::now);
    let duration = ended.saturating_duration_since(start);
    samples.sort_by(|a, b| a.first_seen_s.total_cmp(&b.first_seen_s));
    let samples = merge_samples(samples);
    let mut stats = collector.stats(duration.as_secs_f64());
    if let Some(schedule) = &shared.schedule {
        stats.missed_arrivals = schedule
            .due_before(duration)
            .saturating_sub(stats.overall.requests);
    }
    Ok(RunResult {
        started_at,
        duration,
        interrupted,
        threads,
        stats,
        timeline: collector.timeline().to_vec(),
        samples,
    })
}

/// One worker thread: a single-threaded runtime running its users.
fn drive_thread(shared: Arc<Shared>, users: Vec<usize>, tx: mpsc::Sender<Message>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(_) => {
            let _ = tx.send(Message::Done);
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let recorder = Rc::new(RefCell::new(Recorder::new(
        shared.start,
        shared.operations.len(),
        tx,
    )));
    local.block_on(&runtime, async {
        let tasks: Vec<_> = users
            .into_iter()
            .map(|index| {
                tokio::task::spawn_local(user::run_user(shared.clone(), recorder.clone(), index))
            })
            .collect();
        let flusher = {
            let recorder = recorder.clone();
            tokio::task::spawn_local(async move {
                let mut tick = tokio::time::interval(FLUSH_INTERVAL);
                loop {
                    tick.tick().await;
                    recorder.borrow_mut().flush();
                }
            })
        };
        // Aborting drops the users' tasks, in-flight requests with them, so the
        // hot path needs no per-request cancellation check.
        let aborts: Vec<_> = tasks.iter().map(|task| task.abort_handle()).collect();
        let aborter = {
            let abort = shared.abort.clone();
            tokio::task::spawn_local(async move {
                abort.cancelled().await;
                aborts.iter().for_each(tokio::task::AbortHandle::abort);
            })
        };
        for task in tasks {
            let _ = task.await;
        }
        aborter.abort();
        flusher.abort();
    });
    recorder.borrow_mut().finish();
}

/// Merges the threads' samples of the same operation and outcome: earliest kept,
/// counts added.
fn merge_samples(samples: Vec<ResponseSample>) -> Vec<ResponseSample> {
    let mut merged: Vec<ResponseSample> = Vec::new();
    for sample in samples {
        match merged.iter_mut().find(|kept| {
            kept.operation == sample.operation
                && kept.status == sample.status
                && kept.error == sample.error
        }) {
            Some(kept) => kept.count += sample.count,
            None => merged.push(sample),
        }
    }
    merged
}

/// Whether any template of `operation` uses `{{seq}}`.
fn uses_seq(operation: &unruly_core::Operation) -> bool {
    let templates = std::iter::once(&operation.path)
        .chain(operation.headers.iter().map(|(_, value)| value))
        .chain(operation.body.iter());
    templates.flat_map(|template| template.parts()).any(|part| {
        matches!(
            part,
            unruly_core::TemplatePart::Variable(unruly_core::Variable::Seq)
        )
    })
}
