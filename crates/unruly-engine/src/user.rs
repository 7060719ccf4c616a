//! One connection's loop: claim the next request (from the open schedule or the
//! closed model's budget), send it, record the outcome, repeat.

use crate::connection::{Connection, ExchangeError};
use crate::recorder::Recorder;
use crate::request::Sent;
use crate::shared::{Claim, Shared};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::{sleep, sleep_until, timeout_at};
use unruly_core::{ErrorClass, Outcome, RenderContext, ResponseSample, SeededRng};

/// How often a request whose connection closed under it is retried on a fresh one.
const RETRIES_ON_CLOSED: usize = 2;
/// How late past its due time a request may leave and still be timed from when
/// it left: the granularity of tokio's timer.
const TIMER_SLACK: Duration = Duration::from_millis(2);
/// Longest pause between failed connection attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// The result of one request.
struct Attempt {
    outcome: Outcome,
    latency: Duration,
    bytes: u64,
    content_type: Option<http::HeaderValue>,
    error_detail: Option<String>,
    /// What was sent, for a sample.
    sent: Option<Sent>,
}

impl Attempt {
    fn failed(class: ErrorClass, began: Instant, detail: String) -> Self {
        Self {
            outcome: Outcome::Failed(class),
            latency: began.elapsed(),
            bytes: 0,
            content_type: None,
            error_detail: Some(detail),
            sent: None,
        }
    }
}

/// A virtual user: one connection (re-opened when it breaks) and its own RNG.
struct User {
    shared: Arc<Shared>,
    recorder: Rc<RefCell<Recorder>>,
    index: usize,
    rng: SeededRng,
    connection: Option<Connection>,
    excerpt: Vec<u8>,
    iteration: u64,
    backoff: Duration,
}

/// Runs virtual user (or open-model connection) number `index` until the run
/// stops issuing requests.
pub(crate) async fn run_user(shared: Arc<Shared>, recorder: Rc<RefCell<Recorder>>, index: usize) {
    let mut user = User {
        rng: SeededRng::fork(shared.seed, index as u64),
        shared,
        recorder,
        index,
        connection: None,
        excerpt: Vec::new(),
        iteration: 0,
        backoff: Duration::from_millis(1),
    };
    user.run().await;
}

impl User {
    async fn run(&mut self) {
        let shared = self.shared.clone();
        while !shared.is_stopped() {
            let intended = match shared.claim() {
                Claim::Stop => break,
                Claim::Now => None,
                Claim::Due(due) => {
                    if Instant::now() < due {
                        tokio::select! {
                            biased;
                            _ = shared.stop_issuing.cancelled() => break,
                            _ = sleep_until(due.into()) => {}
                        }
                    }
                    Some(due)
                }
            };
            let op = shared.pick_operation(&mut self.rng);
            let attempt = self.send(op, intended).await;
            self.record(op, attempt);
            let pause = if self.connection.is_none() && self.backoff > Duration::from_millis(1) {
                self.backoff
            } else {
                shared.think_time
            };
            if !pause.is_zero() {
                tokio::select! {
                    biased;
                    _ = shared.stop_issuing.cancelled() => break,
                    _ = sleep(pause) => {}
                }
            }
        }
    }

    /// Sends one request of operation `op`, counting its latency from `intended`
    /// when it leaves late (open model) or from now (connecting included). One
    /// deadline, `--timeout` after the request leaves, covers connecting,
    /// retries and the answer. If the run aborts it mid-flight, the request is
    /// still recorded (see [`InFlight`]).
    async fn send(&mut self, op: usize, intended: Option<Instant>) -> Attempt {
        let shared = self.shared.clone();
        let ctx = RenderContext {
            vu: self.index as u64,
            iteration: self.iteration,
            seq: if shared.uses_seq {
                shared.seq.fetch_add(1, Ordering::Relaxed)
            } else {
                0
            },
        };
        self.iteration += 1;
        self.excerpt.clear();
        let leaves = Instant::now();
        // From the due time when the request leaves late (a busy connection, a
        // busy runtime): no coordinated omission. Within the timer's own slack it
        // leaves from now, so a fast target is not charged for tokio's 1 ms ticks.
        let began = match intended {
            Some(due) if leaves.saturating_duration_since(due) > TIMER_SLACK => due,
            _ => leaves,
        };
        let deadline = leaves + shared.timeout;
        let recorder = self.recorder.clone();
        let mut in_flight = InFlight {
            shared: &shared,
            recorder: &recorder,
            op,
            began,
            armed: true,
        };
        let mut attempt = 0;
        let result = loop {
            if self.connection.is_none() {
                // Boxed: connecting (TLS above all) is a large future, needed
                // rarely; inline it would weigh on every idle user.
                let open = Box::pin(Connection::open(&shared.endpoint, self.index));
                match timeout_at(deadline.into(), open).await {
                    Ok(Ok(connection)) => {
                        self.connection = Some(connection);
                        self.backoff = Duration::from_millis(1);
                    }
                    Ok(Err(reason)) => break self.connect_failed(began, reason),
                    Err(_) => {
                        let reason = format!("no connection within {:?}", shared.timeout);
                        break self.connect_failed(began, reason);
                    }
                }
            }
            let Some(connection) = self.connection.as_mut() else {
                continue;
            };
            let built = match shared.operations[op].build(ctx, &mut self.rng, connection.is_http2())
            {
                Ok(built) => built,
                Err(reason) => break Attempt::failed(ErrorClass::InvalidRequest, began, reason),
            };
            let sent = Some(built.sent);
            let wants_excerpt =
                |status: u16| recorder.borrow().wants_sample(op, Outcome::Status(status));
            // Boxed while in flight: the exchange is the largest part of a
            // user's future, and 10,000 idle users should not each carry it.
            let exchange = Box::pin(connection.exchange(
                built.request,
                &mut self.excerpt,
                &wants_excerpt,
                shared.max_body_bytes,
            ));
            let failure = match timeout_at(deadline.into(), exchange).await {
                Ok(Ok(answer)) => {
                    break Attempt {
                        outcome: Outcome::Status(answer.status),
                        latency: began.elapsed(),
                        bytes: answer.body_bytes,
                        content_type: answer.content_type,
                        error_detail: None,
                        sent,
                    }
                }
                Ok(Err(ExchangeError::ClosedBeforeSend)) if attempt < RETRIES_ON_CLOSED => {
                    attempt += 1;
                    self.connection = None;
                    continue;
                }
                Ok(Err(ExchangeError::ClosedBeforeSend)) => (
                    ErrorClass::Reset,
                    "the server closed each connection before a request could be sent".to_string(),
                ),
                Ok(Err(ExchangeError::Failed(class, detail))) => (class, detail),
                Err(_) => (
                    ErrorClass::Timeout,
                    format!("no complete answer within {:?}", shared.timeout),
                ),
            };
            self.connection = None;
            let mut failed = Attempt::failed(failure.0, began, failure.1);
            failed.sent = sent;
            break failed;
        };
        in_flight.armed = false;
        result
    }

    fn connect_failed(&mut self, began: Instant, reason: String) -> Attempt {
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Attempt::failed(ErrorClass::Connect, began, reason)
    }

    fn record(&mut self, op: usize, attempt: Attempt) {
        let mut recorder = self.recorder.borrow_mut();
        if recorder.wants_sample(op, attempt.outcome) {
            let sent = attempt.sent.unwrap_or_default();
            let operation = &self.shared.operations[op];
            let sample = ResponseSample {
                operation: self.shared.operation_names[op].clone(),
                request: operation.record(&sent),
                status: match attempt.outcome {
                    Outcome::Status(code) => Some(code),
                    Outcome::Failed(_) => None,
                },
                error: attempt.outcome.error_class(),
                error_detail: attempt.error_detail,
                content_type: attempt
                    .content_type
                    .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
                body_excerpt: String::from_utf8_lossy(&self.excerpt).into_owned(),
                latency_ms: attempt.latency.as_secs_f64() * 1000.0,
                first_seen_s: 0.0,
                count: 0,
            };
            recorder.keep_sample(op, attempt.outcome, sample);
        }
        recorder.record(op, attempt.outcome, attempt.latency, attempt.bytes);
    }
}

/// A request on its way. If the run's end aborts it (the drain grace ran out),
/// dropping the guard still records it as `unfinished` with the time it had
/// taken, so the slowest requests are neither lost nor counted as never sent.
/// A run interrupted by Ctrl-C records nothing more.
struct InFlight<'a> {
    shared: &'a Shared,
    recorder: &'a Rc<RefCell<Recorder>>,
    op: usize,
    began: Instant,
    armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.armed || self.shared.interrupted.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut recorder) = self.recorder.try_borrow_mut() {
            recorder.record(
                self.op,
                Outcome::Failed(ErrorClass::Unfinished),
                self.began.elapsed(),
                0,
            );
        }
    }
}
