//! The exploration itself: passes over the operations, lanes of probers sending
//! cases, the pool of created values, slow-input confirmation and shrinking.

mod behaviours;
mod crowds;
mod dependencies;
mod races;
mod spike;

use crate::book::{Book, Entry};
use crate::exchange::{send, Exchange};
use crate::judge::Judge;
use crate::links::{find_links, Link};
use crate::pool::{Pool, Produced};
use crate::repro::Provenance;
use crate::stats::{stats, Baseline};
use crate::{ExploreError, ExploreOptions, ExploreResult, Snapshot};
use futures_util::future::join_all;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime};
use unruly_core::{ApiSpec, ErrorClass, Finding, FindingKind, SeededRng};
use unruly_engine::{CancellationToken, Endpoint, OperationWindow, Prober};
use unruly_inputs::{body_field_slot, parameter_slot, Case, CaseGenerator, Category};
use unruly_verdict::{slow_response, Conformance};
use unruly_watch::{find_health_path, keep_probing, HealthLog};

/// Bytes of each response body kept for judging (schemas, leaks).
const KEPT_BODY_BYTES: usize = 1024 * 1024;
/// Answers an operation needs before its median counts as a baseline.
const BASELINE_SAMPLES: u64 = 20;
/// A slow input is this many times the operation's median...
const SLOW_FACTOR: f64 = 10.0;
/// ...and at least this slow.
const SLOW_FLOOR_MS: f64 = 100.0;
/// Slow inputs re-sent to confirm (all must be slow again).
const SLOW_CONFIRMATIONS: usize = 2;
/// Slow inputs that did not confirm, per operation, before it is no longer checked.
const SLOW_REFUTATIONS: u32 = 20;
/// How much slower than the kept case a new one must be to replace it.
const SLOWER_TO_REPLACE: f64 = 2.0;
/// While shrinking a slow input, each smaller one must stay at least this
/// share of the slowest latency seen, so the reproduction stays clearly slow.
const SHRUNK_SLOWNESS_SHARE: f64 = 0.5;
/// Cases tried while shrinking one finding.
const SHRINK_ATTEMPTS: u32 = 200;
/// Share of the duration given to exploring; the rest is for shrinking.
const EXPLORE_SHARE: f64 = 0.8;
/// Share of the duration for the input passes and random cases, when the
/// unruly users' behaviours follow (they take the rest of [`EXPLORE_SHARE`]).
const INPUTS_SHARE: f64 = 0.35;
/// How often progress is reported.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);
/// Random cases per operation in one round.
const RANDOM_BATCH: usize = 64;
/// The RNG stream of random exploration (generated cases use per-operation streams).
const RANDOM_STREAM: u64 = 0x7261_6e64;
/// Random cases start from valid requests numbered from here (the generator's
/// own positives use the first few numbers).
const RANDOM_POSITIVE_BASE: u64 = 1_000;

/// What a pass sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Positive, boundary and negative cases.
    Core,
    /// Strange strings.
    Strange,
    /// Large bodies.
    Large,
}

impl Pass {
    fn takes(self, category: Category) -> bool {
        match self {
            Pass::Core => matches!(
                category,
                Category::Positive | Category::Boundary | Category::Negative
            ),
            Pass::Strange => category == Category::Strange,
            Pass::Large => category == Category::Large,
        }
    }
}

/// A case to send, and where its linked value came from.
struct Job {
    case: Case,
    provenance: Option<Provenance>,
    /// Labels of the generated cases whose values it carries.
    donors: Vec<String>,
    /// Its number in the order jobs were made.
    seq: u64,
}

/// Everything lanes change.
struct State {
    tallies: Vec<(String, OperationWindow)>,
    baselines: Vec<Baseline>,
    book: Book,
    pool: Pool,
    cases_run: u64,
    covered: Vec<bool>,
    phase: &'static str,
    /// Per operation: inputs that looked slow but did not confirm.
    refuted: Vec<u32>,
    /// Per (consumer, link index): highest created value already visited.
    visited: HashMap<(usize, usize), u64>,
    /// Generated cases that made an answer slow: random cases leave them out,
    /// so one slow input does not eat the time of thousands of others.
    slow_donors: HashSet<String>,
    /// Jobs made so far.
    jobs_made: u64,
    /// The operation being explored, for the health probe's failures.
    exploring: Option<usize>,
    /// What the health probe saw.
    health: Option<HealthLog>,
    /// The behaviour running now, for the health probe's failures.
    activity: Option<String>,
    /// What the behaviours found (not shrunk: the behaviour is the reproduction).
    behaviour_findings: Vec<Finding>,
    /// Behaviours whose findings explain the health probe's failures during them.
    explained: Vec<String>,
}

pub(crate) struct Explorer<'s> {
    spec: &'s ApiSpec,
    options: &'s ExploreOptions,
    selected: Vec<usize>,
    generator: CaseGenerator<'s>,
    judge: Judge<'s>,
    links: Vec<Link>,
    endpoint: Endpoint,
    cancel: CancellationToken,
    start: Instant,
    started_at: SystemTime,
    inputs_until: Instant,
    explore_until: Instant,
    /// The end of the dependency experiments (after the behaviours).
    dependencies_until: Instant,
    until: Instant,
    state: RefCell<State>,
    /// The fault proxies in front of the dependencies.
    proxies: Option<unruly_faults::Proxies>,
}

impl<'s> Explorer<'s> {
    pub fn new(
        spec: &'s ApiSpec,
        options: &'s ExploreOptions,
        selected: Vec<usize>,
        endpoint: Endpoint,
        cancel: CancellationToken,
        proxies: Option<unruly_faults::Proxies>,
    ) -> Result<Self, ExploreError> {
        let generator = CaseGenerator::new(spec)?;
        let judge = Judge::new(spec, Conformance::new(spec)?);
        // The dependency experiments take their time on top of the duration.
        let experiments_time =
            dependencies::TIME_PER_DEPENDENCY * options.dependencies.len() as u32;
        let start = Instant::now();
        let state = State {
            tallies: spec
                .operations
                .iter()
                .map(|o| (o.name(), OperationWindow::new()))
                .collect(),
            baselines: spec.operations.iter().map(|_| Baseline::new()).collect(),
            book: Book::default(),
            pool: Pool::default(),
            cases_run: 0,
            covered: vec![false; spec.operations.len()],
            phase: "exploring",
            refuted: vec![0; spec.operations.len()],
            visited: HashMap::new(),
            slow_donors: HashSet::new(),
            jobs_made: 0,
            exploring: None,
            health: None,
            activity: None,
            behaviour_findings: Vec::new(),
            explained: Vec::new(),
        };
        Ok(Self {
            spec,
            options,
            selected,
            generator,
            judge,
            links: find_links(spec),
            endpoint,
            cancel,
            start,
            started_at: SystemTime::now(),
            inputs_until: start
                + options.duration.mul_f64(if options.behaviours {
                    INPUTS_SHARE
                } else {
                    EXPLORE_SHARE
                }),
            explore_until: start + options.duration.mul_f64(EXPLORE_SHARE),
            dependencies_until: start + options.duration.mul_f64(EXPLORE_SHARE) + experiments_time,
            until: start + options.duration + experiments_time,
            state: RefCell::new(state),
            proxies,
        })
    }

    /// Explores, then shrinks, reporting progress all along.
    pub async fn run(self, mut on_progress: impl FnMut(&Snapshot)) -> ExploreResult {
        {
            let work = async {
                self.explore().await;
                {
                    let mut state = self.state.borrow_mut();
                    state.phase = "shrinking";
                    state.exploring = None;
                }
                self.shrink_all().await;
            };
            let ticker = async {
                loop {
                    tokio::time::sleep(PROGRESS_INTERVAL).await;
                    on_progress(&self.snapshot());
                }
            };
            let health = async {
                match self.health_path() {
                    Some(path) => {
                        let prober = Prober::new(self.endpoint.clone(), 0, KEPT_BODY_BYTES);
                        self.state.borrow_mut().health =
                            Some(HealthLog::new(path.clone(), &prober));
                        let headers = self.options.headers.clone();
                        keep_probing(prober, path, headers, self.start, |at, failure| {
                            let mut state = self.state.borrow_mut();
                            let during = state.activity.clone().or_else(|| {
                                state.exploring.map(|i| self.spec.operations[i].name())
                            });
                            if let Some(log) = state.health.as_mut() {
                                log.add(at, failure, during);
                            }
                        })
                        .await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = work => {}
                _ = ticker => {}
                _ = health => {}
            }
        }
        self.state.borrow_mut().phase = "done";
        on_progress(&self.snapshot());
        self.finish()
    }

    /// The path the health probe asks, if any.
    fn health_path(&self) -> Option<String> {
        match &self.options.health {
            Some(path) => Some(path.clone()),
            None => find_health_path(self.spec),
        }
    }

    fn snapshot(&self) -> Snapshot {
        let state = self.state.borrow();
        Snapshot {
            phase: state.phase,
            operations_covered: state.covered.iter().filter(|c| **c).count(),
            operations_total: self.selected.len(),
            cases_run: state.cases_run,
            findings: state.book.len(),
            elapsed: self.start.elapsed(),
        }
    }

    fn finish(self) -> ExploreResult {
        let duration = self.start.elapsed();
        let mut state = self.state.into_inner();
        let mut findings = state.book.into_findings(self.spec, self.options.seed);
        for mut finding in std::mem::take(&mut state.behaviour_findings) {
            finding.id = format!("E{}", findings.len() + 1);
            findings.push(finding);
        }
        if let Some(log) = state.health.as_mut() {
            for label in &state.explained {
                log.explain(label);
            }
        }
        if let Some(unavailable) = state
            .health
            .as_ref()
            .and_then(|log| log.finding(format!("E{}", findings.len() + 1), self.options.seed))
        {
            findings.push(unavailable);
        }
        ExploreResult {
            started_at: self.started_at,
            duration,
            interrupted: self.cancel.is_cancelled(),
            findings,
            stats: stats(&state.tallies, duration),
            operations: self
                .selected
                .iter()
                .map(|&i| self.spec.operations[i].name())
                .collect(),
            cases_run: state.cases_run,
        }
    }

    fn stopped(&self, until: Instant) -> bool {
        self.cancel.is_cancelled() || Instant::now() >= until
    }

    /// The operations in the order they are explored: those that create
    /// values before those that take them.
    fn order(&self) -> Vec<usize> {
        let mut order = self.selected.clone();
        order.sort_by_key(|&i| self.links.iter().any(|l| l.consumer == i));
        order
    }

    async fn explore(&self) {
        let order = self.order();
        let mut pending: HashMap<usize, Vec<Case>> = HashMap::new();
        let mut donors: HashMap<usize, Vec<Case>> = HashMap::new();
        let mut used: HashMap<usize, usize> = HashMap::new();
        for &operation in &order {
            let mut cases = self.generator.cases(operation, self.options.seed);
            if let Some(max) = self.options.max_cases {
                cases.truncate(max);
            }
            donors.insert(
                operation,
                cases
                    .iter()
                    .filter(|c| c.slot.is_some() && c.category != Category::Large)
                    .cloned()
                    .collect(),
            );
            used.insert(operation, cases.len());
            pending.insert(operation, cases);
        }
        'passes: for pass in [Pass::Core, Pass::Strange, Pass::Large] {
            for &operation in &order {
                if self.stopped(self.inputs_until) {
                    break 'passes;
                }
                self.state.borrow_mut().exploring = Some(operation);
                let cases = pending
                    .get_mut(&operation)
                    .map(std::mem::take)
                    .unwrap_or_default();
                let (now, later): (Vec<Case>, Vec<Case>) =
                    cases.into_iter().partition(|c| pass.takes(c.category));
                pending.insert(operation, later);
                let mut jobs: VecDeque<Job> = now
                    .into_iter()
                    .enumerate()
                    .map(|(n, case)| self.link_values(case, n))
                    .collect();
                if pass != Pass::Large {
                    jobs.extend(self.visits(operation));
                }
                self.run_jobs(jobs, self.inputs_until).await;
            }
        }
        // Random cases before the behaviours: bursts and the spike change the
        // target's state (a stock oversold), which later input findings would
        // then depend on, and their reproductions could not show.
        self.random(&order, &donors, &mut used, self.inputs_until)
            .await;
        self.state.borrow_mut().exploring = None;
        if self.options.behaviours {
            self.behaviours().await;
        }
        self.dependencies().await;
    }

    /// Random cases until the time is up (or `--max-cases` is reached): a
    /// random valid request carrying the values of up to two generated cases.
    async fn random(
        &self,
        order: &[usize],
        donors: &HashMap<usize, Vec<Case>>,
        used: &mut HashMap<usize, usize>,
        until: Instant,
    ) {
        self.state.borrow_mut().phase = "random";
        let mut rng = SeededRng::fork(self.options.seed, RANDOM_STREAM);
        let mut n = 0u64;
        loop {
            let mut sent_any = false;
            for &operation in order {
                if self.stopped(until) {
                    return;
                }
                self.state.borrow_mut().exploring = Some(operation);
                let done = used.entry(operation).or_default();
                let count = match self.options.max_cases {
                    Some(max) => max.saturating_sub(*done).min(RANDOM_BATCH),
                    None => RANDOM_BATCH,
                };
                if count == 0 {
                    continue;
                }
                *done += count;
                sent_any = true;
                let none = Vec::new();
                let pool = donors.get(&operation).unwrap_or(&none);
                let mut jobs = VecDeque::with_capacity(count + 8);
                for _ in 0..count {
                    n += 1;
                    jobs.push_back(self.random_case(operation, pool, &mut rng, n));
                }
                jobs.extend(self.visits(operation));
                self.run_jobs(jobs, until).await;
            }
            if !sent_any {
                return;
            }
        }
    }

    fn random_case(&self, operation: usize, pool: &[Case], rng: &mut SeededRng, n: u64) -> Job {
        let mut case =
            self.generator
                .positive(operation, self.options.seed, RANDOM_POSITIVE_BASE + n);
        let mut labels = Vec::new();
        let carried = if pool.is_empty() {
            0
        } else {
            rng.range_inclusive(0, 2)
        };
        for _ in 0..carried {
            let donor = &pool[rng.range_inclusive(0, pool.len() as i64 - 1) as usize];
            if self.state.borrow().slow_donors.contains(&donor.label) {
                continue;
            }
            if case.transplant(donor) {
                if labels.is_empty() {
                    case.slot = donor.slot.clone();
                    case.category = donor.category;
                }
                labels.push(donor.label.clone());
            }
        }
        if !labels.is_empty() {
            case.label = format!("random: {}", labels.join(" + "));
            case.expect = self.generator.judge(&case);
        }
        let mut job = self.link_values(case, n as usize);
        job.donors = labels;
        job
    }

    /// Puts created values in the linked parameters of `case` (unless that
    /// parameter is what the case varies).
    fn link_values(&self, mut case: Case, n: usize) -> Job {
        let mut provenance = None;
        let state = self.state.borrow();
        let operation = case.operation;
        for link in self.links.iter().filter(|l| l.consumer == operation) {
            if case.slot.as_deref() == Some(parameter_slot(link.location, &link.parameter).as_str())
            {
                continue;
            }
            let Some(produced) = state.pool.pick(link, n) else {
                continue;
            };
            case.set_parameter(link.location, &link.parameter, Some(produced.value.clone()));
            provenance = Some(provenance_of(produced, link));
        }
        drop(state);
        if provenance.is_some() {
            case.expect = self.generator.judge(&case);
        }
        let donors = vec![case.label.clone()];
        Job {
            case,
            provenance,
            donors,
            seq: self.next_seq(),
        }
    }

    fn next_seq(&self) -> u64 {
        let mut state = self.state.borrow_mut();
        state.jobs_made += 1;
        state.jobs_made
    }

    /// One valid case for every created value `operation` has not used yet.
    fn visits(&self, operation: usize) -> Vec<Job> {
        let mut jobs = Vec::new();
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        let (pool, visited) = (&state.pool, &mut state.visited);
        for (index, link) in self.links.iter().enumerate() {
            if link.consumer != operation {
                continue;
            }
            let seen = visited.entry((operation, index)).or_insert(0);
            for produced in pool.values(link) {
                if produced.seq < *seen {
                    continue;
                }
                *seen = produced.seq + 1;
                state.jobs_made += 1;
                let mut case =
                    self.generator
                        .positive(operation, self.options.seed, 1_000_000 + produced.seq);
                case.set_parameter(link.location, &link.parameter, Some(produced.value.clone()));
                case.expect = self.generator.judge(&case);
                case.label = format!(
                    "{} from {}",
                    parameter_slot(link.location, &link.parameter),
                    produced.producer.0.label
                );
                jobs.push(Job {
                    donors: Vec::new(),
                    seq: state.jobs_made,
                    case,
                    provenance: Some(provenance_of(produced, link)),
                });
            }
        }
        jobs
    }

    /// Runs `jobs` on the lanes until they are done or `until`.
    async fn run_jobs(&self, jobs: VecDeque<Job>, until: Instant) {
        let queue = RefCell::new(jobs);
        let lanes = (0..self.options.concurrency.max(1)).map(|lane| {
            let queue = &queue;
            async move {
                let mut prober = Prober::new(self.endpoint.clone(), lane, KEPT_BODY_BYTES);
                loop {
                    if self.stopped(until) {
                        break;
                    }
                    let Some(job) = queue.borrow_mut().pop_front() else {
                        break;
                    };
                    self.run_job(&mut prober, job).await;
                }
            }
        });
        join_all(lanes).await;
    }

    /// Sends `case`; `None` when cancelled or when the time is up first (a
    /// request in flight then is abandoned: the duration is a hard limit).
    async fn send(&self, prober: &mut Prober, case: &Case) -> Option<Exchange> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => None,
            _ = tokio::time::sleep_until(self.until.into()) => None,
            exchange = send(prober, self.spec, case, &self.options.headers, self.options.timeout) => {
                self.account(case, &exchange);
                Some(exchange)
            }
        }
    }

    fn account(&self, case: &Case, exchange: &Exchange) {
        let mut state = self.state.borrow_mut();
        state.cases_run += 1;
        state.covered[case.operation] = true;
        let bytes = exchange.outcome.as_ref().map_or(0, |r| r.body_len);
        state.tallies[case.operation]
            .1
            .add(exchange.outcome(), exchange.latency(), bytes);
        if case.category != Category::Large {
            state.baselines[case.operation].add(exchange.status(), exchange.latency());
        }
    }

    async fn run_job(&self, prober: &mut Prober, job: Job) {
        let Some(exchange) = self.send(prober, &job.case).await else {
            return;
        };
        if exchange.status().is_some_and(|s| (200..300).contains(&s)) {
            if let Some(body) = exchange.json() {
                self.state.borrow_mut().pool.harvest(
                    job.seq,
                    &self.links,
                    &job.case,
                    &exchange.record,
                    &body,
                );
            }
        }
        let at = self.start.elapsed().as_secs_f64();
        for observation in self.judge.observe(&job.case, &exchange) {
            self.state.borrow_mut().book.record(Entry {
                operation: job.case.operation,
                observation,
                case: job.case.clone(),
                exchange: exchange.clone(),
                provenance: job.provenance.clone(),
                first_seen_s: at,
                count: 1,
                seq: job.seq,
                threshold_ms: None,
                baseline_ms: None,
                confirmed_ms: None,
                shrink_tried: 0,
                shrink_kept: 0,
                unconfirmed: false,
            });
        }
        self.check_slow(prober, job, exchange).await;
    }

    /// The latency above which an answer like `status` of `operation` counts
    /// as slow, once the operation has a baseline for such answers:
    /// (threshold, median) in ms.
    fn slow_threshold(&self, operation: usize, status: Option<u16>) -> Option<(f64, f64)> {
        let state = self.state.borrow();
        let median = state.baselines[operation].median_ms(status, BASELINE_SAMPLES)?;
        Some(((median * SLOW_FACTOR).max(SLOW_FLOOR_MS), median))
    }

    /// An input that looks far slower than its operation's median is sent
    /// again; when every confirmation is slow too, it is a finding.
    async fn check_slow(&self, prober: &mut Prober, job: Job, exchange: Exchange) {
        let operation = job.case.operation;
        if job.case.category == Category::Large || !looks_slow(&exchange) {
            return;
        }
        let Some((threshold, median)) = self.slow_threshold(operation, exchange.status()) else {
            return;
        };
        let latency_ms = |e: &Exchange| e.latency().as_secs_f64() * 1000.0;
        if latency_ms(&exchange) < threshold {
            return;
        }
        self.state
            .borrow_mut()
            .slow_donors
            .extend(job.donors.iter().cloned());
        let cause = job
            .case
            .slot
            .clone()
            .unwrap_or_else(|| "request".to_owned());
        {
            // A slowness already found is only shown again by a case at least
            // twice as slow: the finding keeps the clearest example.
            let state = self.state.borrow();
            let kept = state.book.slow_latency(operation, &cause);
            if state.refuted[operation] >= SLOW_REFUTATIONS
                || kept.is_some_and(|kept| latency_ms(&exchange) < kept * SLOWER_TO_REPLACE)
            {
                return;
            }
        }
        let mut fastest = latency_ms(&exchange);
        for _ in 0..SLOW_CONFIRMATIONS {
            let Some(again) = self.send(prober, &job.case).await else {
                return;
            };
            let ms = latency_ms(&again);
            fastest = fastest.min(ms);
            if ms < threshold || !self.answers_promptly(prober, operation).await {
                self.state.borrow_mut().refuted[operation] += 1;
                return;
            }
        }
        let observation = slow_response(
            &self.spec.operations[operation],
            job.case.slot.as_deref(),
            fastest,
            median,
        );
        let at = self.start.elapsed().as_secs_f64();
        self.state.borrow_mut().book.replace(Entry {
            operation,
            observation,
            case: job.case,
            exchange,
            provenance: job.provenance,
            first_seen_s: at,
            count: 1,
            seq: job.seq,
            threshold_ms: Some(threshold),
            baseline_ms: Some(median),
            confirmed_ms: Some(fastest),
            shrink_tried: 0,
            shrink_kept: 0,
            unconfirmed: false,
        });
    }

    /// Whether `operation` answers an ordinary valid request at its usual
    /// speed right now: when it does not, the whole target is slow (stalled by
    /// other requests), and one input's slowness proves nothing.
    async fn answers_promptly(&self, prober: &mut Prober, operation: usize) -> bool {
        let control = self.generator.positive(operation, self.options.seed, 0);
        let Some(answer) = self.send(prober, &control).await else {
            return false;
        };
        match self.slow_threshold(operation, answer.status()) {
            Some((threshold, _)) => answer.latency().as_secs_f64() * 1000.0 < threshold,
            None => true,
        }
    }

    /// Shrinks every finding, several at once, until the deadline.
    async fn shrink_all(&self) {
        let count = self.state.borrow().book.len();
        let queue = RefCell::new((0..count).collect::<VecDeque<usize>>());
        let lanes = (0..self.options.concurrency.max(1)).map(|lane| {
            let queue = &queue;
            async move {
                let mut prober = Prober::new(self.endpoint.clone(), lane, KEPT_BODY_BYTES);
                loop {
                    let Some(index) = queue.borrow_mut().pop_front() else {
                        break;
                    };
                    self.shrink(&mut prober, index).await;
                }
            }
        });
        join_all(lanes).await;
    }

    /// Tries simpler cases for finding `index`, keeping each that still shows
    /// it, until none does or the budget is spent. A value created by another
    /// request is shrunk through that request.
    async fn shrink(&self, prober: &mut Prober, index: usize) {
        let entry = self.state.borrow().book.entry(index).clone();
        if !self.confirm(prober, &entry).await {
            self.state.borrow_mut().book.entry_mut(index).unconfirmed = true;
            return;
        }
        let mut best = entry.clone();
        let mut tried = 0u32;
        'outer: loop {
            // A value created by another request is shrunk through that
            // request, unless the case varies something else of its own.
            let through_producer = best.provenance.as_ref().is_some_and(|p| {
                best.case.slot.is_none()
                    || best.case.slot.as_deref()
                        == Some(parameter_slot(p.location, &p.parameter).as_str())
            });
            let base = match &best.provenance {
                Some(p) if through_producer => &p.producer,
                _ => &best.case,
            };
            let candidates = self.shrink_candidates(base);
            for candidate in candidates {
                if tried >= SHRINK_ATTEMPTS || self.stopped(self.until) {
                    break 'outer;
                }
                tried += 1;
                let attempt = if through_producer {
                    self.replay_through(prober, &best, candidate).await
                } else {
                    self.replay(prober, &best, candidate, None).await
                };
                if let Some(smaller) = attempt {
                    best = smaller;
                    best.shrink_kept += 1;
                    continue 'outer;
                }
            }
            break;
        }
        best.shrink_tried = tried;
        best.count = entry.count;
        best.first_seen_s = entry.first_seen_s;
        *self.state.borrow_mut().book.entry_mut(index) = best;
    }

    /// Whether `entry`, when it uses a created value, shows again when sent
    /// once more alone on a freshly created one (as its reproduction does).
    /// Other entries are kept as found: without a fresh creation, state the
    /// exploration changed (stock sold out) could hide a real finding. A slow
    /// input was confirmed when found; a cancelled run keeps what it found.
    async fn confirm(&self, prober: &mut Prober, entry: &Entry) -> bool {
        if entry.observation.kind == FindingKind::SlowResponse || self.stopped(self.until) {
            return true;
        }
        let Some(provenance) = &entry.provenance else {
            return true;
        };
        let again = self
            .replay_through(prober, entry, provenance.producer.clone())
            .await;
        // Cut short by the deadline: nothing was learnt.
        again.is_some() || self.stopped(self.until)
    }

    /// Simpler variants of `case`: of the value it varies, or, for a valid
    /// request that varies nothing, of each of its parameters and body fields.
    fn shrink_candidates(&self, case: &Case) -> Vec<Case> {
        if case.slot.is_some() {
            return self.generator.shrink(case);
        }
        let mut slots: Vec<String> = case
            .parameters
            .iter()
            .filter(|p| p.value.is_some())
            .map(|p| parameter_slot(p.location, &p.name))
            .collect();
        if let Some(serde_json::Value::Object(fields)) = case.body.as_ref().and_then(|b| b.value())
        {
            slots.extend(fields.keys().map(|k| body_field_slot(k)));
        }
        let mut candidates = Vec::new();
        for slot in slots {
            let mut varied = case.clone();
            varied.slot = Some(slot);
            candidates.extend(self.generator.shrink(&varied).into_iter().map(|mut c| {
                c.slot = None;
                c
            }));
        }
        candidates
    }

    /// Sends `candidate` in place of `best`'s case; the new entry when it still
    /// shows the same finding.
    async fn replay(
        &self,
        prober: &mut Prober,
        best: &Entry,
        candidate: Case,
        provenance: Option<Provenance>,
    ) -> Option<Entry> {
        let exchange = self.send(prober, &candidate).await?;
        let same = |o: &unruly_verdict::Observation| {
            o.kind == best.observation.kind && o.cause == best.observation.cause
        };
        let observation = if best.observation.kind == FindingKind::SlowResponse {
            let confirmed = best.confirmed_ms.unwrap_or_default();
            let threshold = best.threshold_ms?.max(confirmed * SHRUNK_SLOWNESS_SHARE);
            let slow = |e: &Exchange| e.latency().as_secs_f64() * 1000.0 >= threshold;
            if !slow(&exchange) {
                return None;
            }
            // Once more, so that noise does not make a fast input look slow.
            let again = self.send(prober, &candidate).await?;
            if !slow(&again) {
                return None;
            }
            let ms = exchange.latency().min(again.latency()).as_secs_f64() * 1000.0;
            let mut observation = slow_response(
                &self.spec.operations[candidate.operation],
                candidate.slot.as_deref(),
                ms,
                best.baseline_ms.unwrap_or_default(),
            );
            observation.cause = best.observation.cause.clone();
            observation
        } else {
            self.judge
                .observe(&candidate, &exchange)
                .into_iter()
                .find(same)?
        };
        Some(Entry {
            observation,
            case: candidate,
            exchange,
            provenance: provenance.or_else(|| best.provenance.clone()),
            ..best.clone()
        })
    }

    /// Sends a smaller creation, then `best`'s case with the value it created.
    async fn replay_through(
        &self,
        prober: &mut Prober,
        best: &Entry,
        producer: Case,
    ) -> Option<Entry> {
        let old = best.provenance.as_ref()?;
        let created = self.send(prober, &producer).await?;
        if !created.status().is_some_and(|s| (200..300).contains(&s)) {
            return None;
        }
        let body = created.json()?;
        let (value, pointer) = crate::links::value_at(&body, &old.pointer)?;
        let value = value.clone();
        let link = self
            .links
            .iter()
            .find(|l| l.consumer == best.case.operation && l.pointer == old.pointer)?;
        let mut case = best.case.clone();
        case.set_parameter(link.location, &link.parameter, Some(value.clone()));
        let provenance = Provenance {
            producer,
            producer_record: created.record.clone(),
            pointer,
            location: link.location,
            parameter: link.parameter.clone(),
        };
        self.replay(prober, best, case, Some(provenance)).await
    }
}

/// Whether an exchange could be slow: answered, or timed out.
fn looks_slow(exchange: &Exchange) -> bool {
    exchange
        .error()
        .is_none_or(|class| class == ErrorClass::Timeout)
}

/// Where a created value in a linked parameter came from.
fn provenance_of(produced: &Produced, link: &Link) -> Provenance {
    Provenance {
        producer: produced.producer.0.clone(),
        producer_record: produced.producer.1.clone(),
        pointer: produced.pointer.clone(),
        location: link.location,
        parameter: link.parameter.clone(),
    }
}
