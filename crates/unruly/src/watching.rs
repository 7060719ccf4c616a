//! The target watched while unruly rehearses: its process (`--watch-pid`, `--spawn`), its
//! logs (its output, `--watch-log`), its metrics (`--scrape`), and unruly's own live
//! metrics (`--metrics-addr`). The parts come from `unruly-watch`; this module starts them,
//! feeds them what the run does, and turns what they saw into the report's `watch` and
//! its `crash`, `memory_growth` and `log_error` findings.
//!
//! One watcher can span several rehearsals (the demo explores, then loads): each is a
//! phase, begun when its run starts and finished when its report is built.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use unruly_core::{
    BehaviourWindow, FaultWindow, Finding, ProcessExit, ProcessSample, Report, TargetWatch, Window,
};
use unruly_watch::logs::{log_error_findings, tie_to_failures, Follower, LogWatch};
use unruly_watch::memory::{judge_memory, memory_growth_finding, WorkPoint};
use unruly_watch::metrics::{LiveMetrics, MetricsServer, Scraper};
use unruly_watch::process::ProcessWatch;
use unruly_watch::spawn::{LineSink, SpawnedTarget};

use crate::cli::WatchArgs;

/// How long a spawned target may take to answer on the target's address.
const SPAWN_ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the process is watched after the work stops, to see memory given back.
const SETTLE: Duration = Duration::from_secs(2);
/// How often the target's metrics are scraped.
const SCRAPE_EVERY: Duration = Duration::from_secs(1);

/// What to watch, checked.
#[derive(Debug, Clone, Default)]
pub struct WatchSettings {
    /// A process to watch.
    pub pid: Option<u32>,
    /// A command to start the target with.
    pub spawn: Option<String>,
    /// Log files to follow.
    pub logs: Vec<PathBuf>,
    /// The target's Prometheus endpoint, as a URL.
    pub scrape: Option<String>,
    /// Where unruly's own metrics are served.
    pub metrics_addr: Option<SocketAddr>,
}

impl WatchSettings {
    /// The flags, checked against the target's base URL (`--scrape /metrics` is a path on it).
    pub fn from_args(args: &WatchArgs, target: &str) -> anyhow::Result<Self> {
        if let Some(command) = &args.spawn {
            if command.trim().is_empty() {
                bail!("--spawn: expected the command that starts the target, e.g. --spawn './server --port 8080'");
            }
        }
        if args.watch_pid == Some(0) {
            bail!("--watch-pid 0: expected the pid of the target's process");
        }
        let scrape = match &args.scrape {
            Some(path) if path.starts_with('/') && target.starts_with("http://") => {
                Some(format!("{}{path}", target.trim_end_matches('/')))
            }
            Some(path) if path.starts_with('/') => bail!(
                "--scrape {path}: the target is not plain http, and scraping speaks http only; \
                 give the endpoint's http:// URL"
            ),
            Some(url) if url.starts_with("http://") && !url.contains('@') => Some(url.clone()),
            Some(other) => bail!(
                "--scrape {other}: expected an http:// URL or a path on the target, e.g. --scrape /metrics"
            ),
            None => None,
        };
        if let Some(addr) = args.metrics_addr {
            if !addr.ip().is_loopback() {
                eprintln!(
                    "note: --metrics-addr {addr} serves unruly's metrics beyond this machine"
                );
            }
        }
        Ok(Self {
            pid: args.watch_pid,
            spawn: args.spawn.clone(),
            logs: args.watch_logs.clone(),
            scrape,
            metrics_addr: args.metrics_addr,
        })
    }

    /// Whether anything is to be watched or served.
    pub fn any(&self) -> bool {
        self.pid.is_some()
            || self.spawn.is_some()
            || !self.logs.is_empty()
            || self.scrape.is_some()
            || self.metrics_addr.is_some()
    }
}

/// The watcher of a target, across one or more phases.
pub struct TargetWatcher {
    settings: WatchSettings,
    /// The watched process's latest sample, for the live progress.
    feed: SampleFeed,
    spawned: Option<SpawnedTarget>,
    /// The log of the phase running now (the spawned target's output goes there).
    log: Arc<Mutex<LogWatch>>,
    /// What the target logged before the first phase (while starting): reported with the
    /// first phase's findings.
    startup: Option<LogWatch>,
    /// Whether a phase has begun (the log before the first one is the startup's).
    begun: bool,
    metrics: Option<(LiveMetrics, MetricsServer)>,
    phase: Option<Phase>,
}

/// The watched process as the run goes, shared with whoever shows it.
#[derive(Debug, Clone, Default)]
pub struct SampleFeed(Arc<Mutex<Live>>);

/// What the feed holds.
#[derive(Debug, Clone, Default)]
struct Live {
    sample: Option<ProcessSample>,
    exit: Option<String>,
}

impl SampleFeed {
    fn set(&self, sample: Option<ProcessSample>, exit: Option<ProcessExit>) {
        let mut live = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        live.sample = sample;
        live.exit = exit.map(|exit| exit.how);
    }

    /// The latest sample, if the process is watched.
    pub fn get(&self) -> Option<ProcessSample> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).sample
    }

    /// How the process ended, if it has during this phase (`exit status 3`).
    pub fn exit(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .exit
            .clone()
    }
}

/// What one phase watches.
struct Phase {
    process: Option<ProcessWatch>,
    followers: Vec<Follower>,
    scraper: Option<Scraper>,
    /// Requests (or cases) sent so far, over time.
    work: Vec<WorkPoint>,
    requests: u64,
    /// What ran when (explore's phases), for blame.
    stages: Vec<(f64, String)>,
}

/// What a phase saw, for the report.
struct WatchedPhase {
    /// The report's `watch` (absent when no process, log or metrics were watched).
    pub watch: Option<TargetWatch>,
    /// `crash`, `memory_growth` and `log_error` findings, numbered from the first id given.
    pub findings: Vec<Finding>,
}

/// What the run tells the watcher when a phase ends.
struct PhaseContext<'a> {
    /// The run's per-second timeline (empty for an exploration).
    pub timeline: &'a [Window],
    /// When behaviours ran.
    pub behaviours: &'a [BehaviourWindow],
    /// When faults were on.
    pub faults: &'a [FaultWindow],
    /// What was found so far: a logged error is tied to the failed request it came with.
    pub findings: &'a [Finding],
    /// How the findings of this report are numbered: `F` (a run), `E` (an exploration).
    pub id_prefix: &'a str,
    /// The number of the first finding to add.
    pub first_id: usize,
    /// The run's seed.
    pub seed: u64,
}

impl TargetWatcher {
    /// Starts what is watched before the run: the spawned target (waiting until it
    /// answers at `target`, the base URL) and unruly's metrics endpoint. `None` when
    /// nothing is.
    ///
    /// Ctrl-C (`interrupt`) while waiting for a spawned target stops it and fails.
    pub fn start(
        settings: WatchSettings,
        target: &str,
        interrupt: &unruly_engine::CancellationToken,
    ) -> anyhow::Result<Option<Self>> {
        if !settings.any() {
            return Ok(None);
        }
        if let Some(pid) = settings.pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                bail!("--watch-pid {pid}: no such process; give the pid of the target's process");
            }
        }
        let log = Arc::new(Mutex::new(LogWatch::new(Instant::now())));
        let metrics = match settings.metrics_addr {
            Some(addr) => {
                let live = LiveMetrics::new();
                let server = unruly_watch::metrics::serve(addr, live.clone())
                    .with_context(|| format!("--metrics-addr {addr}"))?;
                Some((live, server))
            }
            None => None,
        };
        let spawned = match &settings.spawn {
            Some(command) => Some(spawn_target(
                command,
                &target_sockets(target)?,
                &log,
                interrupt,
            )?),
            None => None,
        };
        Ok(Some(Self {
            settings,
            feed: SampleFeed::default(),
            spawned,
            log,
            startup: None,
            begun: false,
            metrics,
            phase: None,
        }))
    }

    /// The pid of the spawned target, if unruly started it.
    pub fn pid(&self) -> Option<u32> {
        self.spawned.as_ref().map(SpawnedTarget::pid)
    }

    /// Where unruly's metrics are served, if they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, server)| server.addr())
    }

    /// The live metrics, if served.
    pub fn live(&self) -> Option<&LiveMetrics> {
        self.metrics.as_ref().map(|(live, _)| live)
    }

    /// A phase (a rehearsal) starts now: sampling, following and scraping begin.
    pub fn begin(&mut self, start: Instant) {
        if let Some(live) = self.live() {
            // An exploration names its stages as it goes; a run is its load.
            live.phase("load");
        }
        let phase_log = LogWatch::new(start);
        let before = std::mem::replace(
            &mut *self.log.lock().unwrap_or_else(PoisonError::into_inner),
            phase_log.clone(),
        );
        if !self.begun && self.spawned.is_some() {
            self.startup = Some(before);
        }
        self.begun = true;
        // Each part starts on its own: one that cannot leaves the others watching.
        let process = match (&self.spawned, self.settings.pid) {
            (Some(spawned), _) => {
                ProcessWatch::attach_child(spawned.pid(), start, spawned.exit_probe())
                    .map_err(|error| warn(format!("cannot watch the spawned target: {error}")))
                    .ok()
            }
            (None, Some(pid)) => ProcessWatch::attach(pid, start)
                .map_err(|error| warn(format!("--watch-pid {pid}: {error}")))
                .ok(),
            (None, None) => None,
        };
        let followers = self
            .settings
            .logs
            .iter()
            .filter_map(|path| {
                phase_log
                    .follow(path, Arc::new(std::sync::atomic::AtomicBool::new(false)))
                    .map_err(|error| {
                        warn(format!(
                            "--watch-log {}: cannot follow it: {error}",
                            path.display()
                        ))
                    })
                    .ok()
            })
            .collect();
        let scraper = self.settings.scrape.as_ref().and_then(|url| {
            Scraper::spawn(url, start, SCRAPE_EVERY)
                .map_err(|error| warn(format!("--scrape {url}: {error}")))
                .ok()
        });
        self.phase = Some(Phase {
            process,
            followers,
            scraper,
            work: Vec::new(),
            requests: 0,
            stages: Vec::new(),
        });
    }

    /// The watched process's latest sample as the run goes, for the live progress.
    pub fn feed(&self) -> SampleFeed {
        self.feed.clone()
    }

    /// One second of the run: the work done, and the live metrics.
    pub fn window(&mut self, window: &Window) {
        self.feed.set(self.latest_sample(), self.exited());
        if let Some(phase) = self.phase.as_mut() {
            phase.requests += window.requests;
            phase.work.push(WorkPoint {
                t_s: (window.t_s + 1) as f64,
                requests: phase.requests,
            });
        }
        if let Some(live) = self.live() {
            live.window(window);
            if let Some(sample) = self.latest_sample() {
                live.target(&sample);
            }
        }
    }

    /// Where an exploration is: its stage and the requests sent so far.
    pub fn explore(&mut self, stage: &str, elapsed: Duration, requests: u64, findings: u64) {
        self.feed.set(self.latest_sample(), self.exited());
        if let Some(phase) = self.phase.as_mut() {
            let t_s = elapsed.as_secs_f64();
            if phase.work.last().is_none_or(|last| t_s - last.t_s >= 0.25) {
                phase.work.push(WorkPoint { t_s, requests });
            }
            if phase.stages.last().is_none_or(|(_, last)| last != stage) {
                phase.stages.push((t_s, stage.to_owned()));
            }
        }
        if let Some(live) = self.live() {
            live.phase(stage);
            live.explore(requests, findings);
            if let Some(sample) = self.latest_sample() {
                live.target(&sample);
            }
        }
    }

    /// A finding, for the live metrics.
    pub fn finding(&self, finding: &Finding) {
        if let Some(live) = self.live() {
            live.finding(finding);
        }
    }

    /// How the watched process ended, if it has in this phase.
    fn exited(&self) -> Option<ProcessExit> {
        self.phase
            .as_ref()
            .and_then(|phase| phase.process.as_ref())
            .and_then(ProcessWatch::exited)
    }

    /// The watched process's latest sample.
    pub fn latest_sample(&self) -> Option<ProcessSample> {
        self.phase
            .as_ref()
            .and_then(|phase| phase.process.as_ref())
            .and_then(ProcessWatch::latest)
    }

    /// The phase of `report` ended: what the watch saw goes into it, its `watch` and its
    /// findings, numbered `{id_prefix}N` after the report's own (`F` in a run, `E` in an
    /// exploration); the live metrics count every finding.
    pub fn conclude(&mut self, report: &mut Report, id_prefix: &str) {
        let phase = self.finish(PhaseContext {
            timeline: &report.timeline,
            behaviours: &report.behaviours,
            faults: &report.faults,
            findings: &report.findings,
            id_prefix,
            first_id: report.findings.len() + 1,
            seed: report.seed,
        });
        report.findings.extend(phase.findings);
        report.watch = phase.watch;
        for finding in &report.findings {
            self.finding(finding);
        }
    }

    /// The phase ended: stops sampling, following and scraping, and judges what was seen.
    fn finish(&mut self, context: PhaseContext<'_>) -> WatchedPhase {
        let Some(phase) = self.phase.take() else {
            return WatchedPhase {
                watch: None,
                findings: Vec::new(),
            };
        };
        // Memory given back once the work stops is no leak: watch a moment longer.
        if let Some(process) = &phase.process {
            if process.exited().is_none() {
                std::thread::sleep(SETTLE);
            }
        }
        for follower in phase.followers {
            follower.stop();
        }
        let log = self
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let process = phase.process.map(ProcessWatch::finish);
        let scraped = phase.scraper.map(Scraper::finish);
        let running = |t_s: f64| running_at(t_s, &context, &phase.stages);
        // Numbered once they are all in, below.
        let mut findings = Vec::new();
        if let Some(exit) = process.as_ref().and_then(|p| p.exit.as_ref()) {
            let during = running(exit.t_s).unwrap_or_else(|| "load".to_owned());
            let finding = unruly_watch::crash::crash_finding(
                exit,
                &log.tail(),
                &during,
                String::new(),
                context.seed,
            );
            findings.push(finding);
        }
        if let Some(process) = &process {
            if let Some(growth) = judge_memory(&process.samples, &phase.work, context.timeline) {
                findings.push(memory_growth_finding(&growth, String::new(), context.seed));
            }
        }
        let groups = log.groups();
        let mut logged = log_error_findings(
            &groups,
            context.timeline,
            &running,
            context.first_id + findings.len(),
            context.seed,
        );
        tie_to_failures(&mut logged, &groups, context.findings);
        findings.extend(logged);
        if let Some(startup) = self.startup.take() {
            // Errors logged while the target started, before the first request: no request
            // caused them, but production would log them too.
            let mut groups = startup.groups();
            for group in &mut groups {
                group.first_t_s = 0.0;
                group.last_t_s = 0.0;
                group.times.clear();
            }
            findings.extend(log_error_findings(
                &groups,
                &[],
                &|_| Some("the target's start, before the first request".to_owned()),
                context.first_id + findings.len(),
                context.seed,
            ));
        }
        for (index, finding) in findings.iter_mut().enumerate() {
            finding.id = format!("{}{}", context.id_prefix, context.first_id + index);
        }
        let watched_anything = process.is_some()
            || scraped.is_some()
            || self.spawned.is_some()
            || !self.settings.logs.is_empty();
        let watch = watched_anything.then(|| TargetWatch {
            source: self.source(),
            pid: process.as_ref().map(|p| p.pid),
            samples: process
                .as_ref()
                .map(|p| p.samples.clone())
                .unwrap_or_default(),
            exit: process.and_then(|p| p.exit),
            log_lines: log.lines_read(),
            scraped: scraped.map(|s| s.series).unwrap_or_default(),
        });
        WatchedPhase { watch, findings }
    }

    /// How the target is watched, for the report.
    fn source(&self) -> String {
        match (&self.spawned, self.settings.pid) {
            (Some(spawned), _) => format!("spawned: {}", spawned.command()),
            (None, Some(pid)) => format!("pid {pid}"),
            (None, None) if !self.settings.logs.is_empty() => {
                let files: Vec<String> = self
                    .settings
                    .logs
                    .iter()
                    .map(|path| path.display().to_string())
                    .collect();
                format!("log {}", files.join(", "))
            }
            (None, None) => "metrics".to_owned(),
        }
    }

    /// Stops the spawned target (if any) and the metrics endpoint.
    pub fn stop(mut self) {
        if let Some(spawned) = self.spawned.take() {
            spawned.stop();
        }
        if let Some((_, server)) = self.metrics.take() {
            server.stop();
        }
    }
}

fn warn(message: String) {
    eprintln!("warning: {message}; the rest is watched");
}

/// The addresses the target may answer on, from its base URL.
fn target_sockets(target: &str) -> anyhow::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    let endpoint = unruly_engine::Endpoint::resolve(target, true)
        .map_err(|error| anyhow!("--spawn: {error}"))?;
    let port = if endpoint.scheme == "https" { 443 } else { 80 };
    let has_port = endpoint
        .authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
    let authority = if has_port {
        endpoint.authority.clone()
    } else {
        format!("{}:{port}", endpoint.authority)
    };
    let addrs: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    if addrs.is_empty() {
        bail!("--spawn: cannot resolve the target's address {authority}");
    }
    Ok(addrs)
}

/// What ran at `t_s`: a behaviour, a fault, or an exploration's stage.
fn running_at(t_s: f64, context: &PhaseContext<'_>, stages: &[(f64, String)]) -> Option<String> {
    if let Some(behaviour) = context
        .behaviours
        .iter()
        .find(|window| window.start_s <= t_s && t_s <= window.end_s)
    {
        return Some(behaviour.name.clone());
    }
    if let Some(fault) = context
        .faults
        .iter()
        .find(|window| window.start_s <= t_s && t_s <= window.end_s)
    {
        return Some(fault.name.clone());
    }
    stages
        .iter()
        .rev()
        .find(|(start, _)| *start <= t_s)
        .map(|(_, stage)| stage.clone())
}

/// Starts `command` as the target, its output going to the phase's log, and waits until it
/// answers on one of `addrs` (or Ctrl-C).
fn spawn_target(
    command: &str,
    addrs: &[SocketAddr],
    log: &Arc<Mutex<LogWatch>>,
    interrupt: &unruly_engine::CancellationToken,
) -> anyhow::Result<SpawnedTarget> {
    let current = Arc::clone(log);
    let sink: LineSink = Arc::new(move |stream, line| {
        let log = current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        log.line(stream.as_str(), line);
    });
    let mut spawned =
        unruly_watch::spawn::start(command, sink).with_context(|| format!("--spawn {command}"))?;
    if let Err(error) =
        spawned.wait_until_answers_or(addrs, SPAWN_ANSWER_TIMEOUT, || interrupt.is_cancelled())
    {
        // Stopping it joins the readers of its output, so that all of it is in the log.
        spawned.stop();
        let tail = log.lock().unwrap_or_else(PoisonError::into_inner).tail();
        let output = if tail.is_empty() {
            "it printed nothing".to_owned()
        } else {
            format!("its last output:\n  {}", tail.join("\n  "))
        };
        bail!("--spawn {command}: {error}\n{output}");
    }
    Ok(spawned)
}
