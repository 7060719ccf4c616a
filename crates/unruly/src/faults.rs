//! The scenario's failing dependencies during a run: a fault proxy in front of each
//! `[[dependency]]`, and the `[[fault]]` schedule put on them from the start of the load.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use unruly_core::{FaultAction, FaultWindow, Plan, ScheduledFault};
use unruly_engine::CancellationToken;
use unruly_faults::{HttpFault, Proxies, ProxySpec, Toxic};

/// A dependency's proxy could not start.
#[derive(Debug, thiserror::Error)]
#[error("[[dependency]] {name}: {error}")]
pub struct DependencyError {
    /// The dependency.
    pub name: String,
    /// Why (its listen address taken, say).
    pub error: String,
}

/// The proxies and the thread that puts the faults on and lifts them.
pub(crate) struct FaultSchedule {
    runtime: Option<tokio::runtime::Runtime>,
    proxies: Proxies,
    go: Option<std::sync::mpsc::Sender<Instant>>,
    ended: CancellationToken,
    thread: Option<JoinHandle<Vec<FaultWindow>>>,
    active: Arc<Mutex<Vec<String>>>,
}

impl FaultSchedule {
    /// Starts the proxies (they pass traffic unchanged until the schedule begins);
    /// `None` without dependencies.
    pub fn start(plan: &Plan) -> Result<Option<FaultSchedule>, DependencyError> {
        if plan.dependencies.is_empty() {
            return Ok(None);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("unruly-faults")
            .enable_all()
            .build()
            .map_err(|error| DependencyError {
                name: plan.dependencies[0].name.clone(),
                error: format!("cannot start the fault proxies' runtime: {error}"),
            })?;
        let proxies = Proxies::new(runtime.handle().clone(), plan.seed);
        for dependency in &plan.dependencies {
            proxies
                .create(ProxySpec {
                    name: dependency.name.clone(),
                    listen: dependency.listen.clone(),
                    upstream: dependency.upstream.clone(),
                    enabled: true,
                })
                .map_err(|error| DependencyError {
                    name: dependency.name.clone(),
                    error: error.error,
                })?;
        }
        let (go, started) = std::sync::mpsc::channel::<Instant>();
        let ended = CancellationToken::new();
        let active = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let faults = plan.faults.clone();
            let proxies = proxies.clone();
            let ended = ended.clone();
            let active = Arc::clone(&active);
            std::thread::Builder::new()
                .name("unruly-fault-schedule".into())
                .spawn(move || {
                    let Ok(start) = started.recv() else {
                        return Vec::new();
                    };
                    run_schedule(&faults, &proxies, start, &ended, &active)
                })
                .ok()
        };
        Ok(Some(FaultSchedule {
            runtime: Some(runtime),
            proxies,
            go: Some(go),
            ended,
            thread,
            active,
        }))
    }

    /// The faults on now, for the health probe's labels.
    pub fn now_on(&self) -> Arc<Mutex<Vec<String>>> {
        Arc::clone(&self.active)
    }

    /// The load starts now: `at` counts from `start`.
    pub fn begin(&self, start: Instant) {
        if let Some(go) = &self.go {
            let _ = go.send(start);
        }
    }

    /// The load ended: faults still on are lifted, the proxies stop. Returns when each
    /// fault was on.
    pub fn finish(mut self) -> Vec<FaultWindow> {
        self.go = None;
        self.ended.cancel();
        let windows = self
            .thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default();
        self.proxies.shutdown();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
        windows
    }
}

/// The first fault currently on, if any.
pub(crate) fn first_on(active: &Mutex<Vec<String>>) -> Option<String> {
    active
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .first()
        .cloned()
}

/// Puts each fault on at its time and lifts it after its duration, until the schedule is
/// done or the run ends.
fn run_schedule(
    faults: &[ScheduledFault],
    proxies: &Proxies,
    start: Instant,
    ended: &CancellationToken,
    active: &Mutex<Vec<String>>,
) -> Vec<FaultWindow> {
    // (when, fault index, true = on / false = off), in time order.
    let mut events: Vec<(Duration, usize, bool)> = faults
        .iter()
        .enumerate()
        .flat_map(|(index, fault)| {
            [
                (fault.at, index, true),
                (fault.at + fault.duration, index, false),
            ]
        })
        .collect();
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    let mut windows: Vec<Option<FaultWindow>> = vec![None; faults.len()];
    let set_active = |name: &str, on: bool| {
        let mut names = active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if on {
            names.push(name.to_owned());
        } else {
            names.retain(|other| other != name);
        }
    };
    for (when, index, on) in events {
        let due = start + when;
        if wait_until(due, ended) {
            break;
        }
        let fault = &faults[index];
        let at_s = start.elapsed().as_secs_f64();
        if on {
            if put_on(proxies, fault) {
                set_active(&fault.name, true);
                windows[index] = Some(FaultWindow {
                    name: fault.name.clone(),
                    dependency: fault.dependency.clone(),
                    start_s: at_s,
                    end_s: at_s,
                });
            }
        } else if let Some(window) = windows[index].as_mut() {
            lift(proxies, fault);
            set_active(&fault.name, false);
            window.end_s = at_s;
        }
    }
    // The run ended with faults still on: they end with it.
    let end_s = start.elapsed().as_secs_f64();
    for (fault, window) in faults.iter().zip(windows.iter_mut()) {
        if let Some(window) = window.as_mut().filter(|w| w.end_s <= w.start_s) {
            lift(proxies, fault);
            window.end_s = end_s;
        }
    }
    windows.into_iter().flatten().collect()
}

/// Sleeps until `due`; true if the run ended first.
fn wait_until(due: Instant, ended: &CancellationToken) -> bool {
    loop {
        if ended.is_cancelled() {
            return true;
        }
        let now = Instant::now();
        if now >= due {
            return false;
        }
        std::thread::sleep((due - now).min(Duration::from_millis(20)));
    }
}

fn put_on(proxies: &Proxies, fault: &ScheduledFault) -> bool {
    let dependency = &fault.dependency;
    match &fault.action {
        FaultAction::Down => proxies.update(dependency, None, None, Some(false)).is_ok(),
        FaultAction::Toxic(json) => Toxic::from_json(json.as_bytes())
            .and_then(|toxic| proxies.add_toxic(dependency, toxic))
            .is_ok(),
        FaultAction::Http(json) => HttpFault::from_json(json.as_bytes())
            .and_then(|fault| proxies.add_http_fault(dependency, fault))
            // HTTP faults apply to new connections: close the open ones.
            .and_then(|_| proxies.update(dependency, None, None, Some(false)))
            .and_then(|_| proxies.update(dependency, None, None, Some(true)))
            .is_ok(),
    }
}

fn lift(proxies: &Proxies, fault: &ScheduledFault) {
    let dependency = &fault.dependency;
    let _ = match &fault.action {
        FaultAction::Down => proxies
            .update(dependency, None, None, Some(true))
            .map(|_| ()),
        FaultAction::Toxic(json) => Toxic::from_json(json.as_bytes())
            .and_then(|toxic| proxies.remove_toxic(dependency, &toxic.name)),
        FaultAction::Http(json) => HttpFault::from_json(json.as_bytes())
            .and_then(|http| proxies.remove_http_fault(dependency, &http.name)),
    };
}
