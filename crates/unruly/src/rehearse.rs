//! The spine: plan → engine (+ behaviours and the health probe, alongside the
//! load) → verdict → report.

use std::time::{Instant, SystemTime};
use unruly_core::{
    BehaviourWindow, Event, Firing, Plan, Report, Settings, Stage, Workload, SCHEMA_VERSION,
};
use unruly_engine::behaviour::ScenarioBehaviours;
use unruly_engine::{CancellationToken, EngineError, Progress, RunResult};
use unruly_watch::{HealthOutcome, HealthWatch};

use crate::faults::{first_on, DependencyError, FaultSchedule};
use crate::watching::TargetWatcher;

/// Why a rehearsal could not start.
#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    /// The target is unusable or unreachable.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A dependency's fault proxy could not start.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A finished (or interrupted) rehearsal.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    /// The report, as written to report.json.
    pub report: Report,
}

impl Rehearsal {
    /// Whether anything was found or any assumption broke.
    pub fn has_problems(&self) -> bool {
        !self.report.findings.is_empty() || self.report.assumptions.iter().any(|a| !a.held)
    }
}

/// Runs `plan` against its target and judges the outcome. `on_event` sees the
/// start, each second's window, each finding and the end, in order (the caller
/// streams them to events.jsonl and the live progress). Cancelling `interrupt`
/// ends the run early; the report then covers what was measured.
///
/// The plan's behaviours fire on their schedules alongside the load, and the
/// health probe (`plan.target.health`) runs through the whole load; what they
/// see is judged into findings with the rest.
///
/// Fails before any load when the target is unusable or unreachable.
pub fn rehearse(
    plan: &Plan,
    command: &str,
    interrupt: CancellationToken,
    on_event: impl FnMut(&Event),
) -> Result<Rehearsal, RehearseError> {
    rehearse_watched(plan, command, interrupt, None, on_event)
}

/// As [`rehearse`], with the target watched by `watcher` (its process, logs and
/// metrics): the phase begins with the load and ends with it, and what it saw goes into
/// the report (`watch`, and `crash`, `memory_growth` and `log_error` findings).
pub fn rehearse_watched(
    plan: &Plan,
    command: &str,
    interrupt: CancellationToken,
    mut watcher: Option<&mut TargetWatcher>,
    mut on_event: impl FnMut(&Event),
) -> Result<Rehearsal, RehearseError> {
    let faults = FaultSchedule::start(plan)?;
    let watchers = Watchers::spawn(plan, &interrupt, faults.as_ref())?;
    let result = unruly_engine::run(plan, interrupt, |progress| match progress {
        Progress::Started { at } => {
            let start = Instant::now();
            watchers.begin(start);
            if let Some(watcher) = watcher.as_deref_mut() {
                watcher.begin(start);
            }
            if let Some(faults) = &faults {
                faults.begin(start);
            }
            on_event(&Event::Start {
                target: plan.target.base_url.clone(),
                started_at: rfc3339(at),
                seed: plan.seed,
            })
        }
        Progress::Window(window) => {
            if let Some(watcher) = watcher.as_deref_mut() {
                watcher.window(window);
            }
            on_event(&Event::Window(window.clone()))
        }
    })?;
    let mut watched = watchers.finish();
    watched.faults = faults.map(FaultSchedule::finish).unwrap_or_default();
    let mut report = build_report(plan, command, result, watched);
    if let Some(watcher) = watcher {
        watcher.conclude(&mut report, "F");
    }
    unruly_report::redact_report(&mut report);
    for finding in &report.findings {
        on_event(&Event::Finding(finding.clone()));
    }
    on_event(&Event::End {
        duration_s: report.duration_s,
        interrupted: report.interrupted,
    });
    Ok(Rehearsal { report })
}

/// What runs beside the load: the plan's behaviours and the health probe, each
/// on its own thread, started when the load starts.
struct Watchers {
    behaviours: Option<ScenarioBehaviours>,
    health: Option<HealthWatch>,
}

/// What they saw.
struct Watched {
    firings: Vec<Firing>,
    health: Option<HealthOutcome>,
    faults: Vec<unruly_core::FaultWindow>,
}

impl Watchers {
    /// Prepares both (checking first that the target answers, as the load
    /// will); neither sends anything before [`Watchers::begin`].
    fn spawn(
        plan: &Plan,
        interrupt: &CancellationToken,
        faults: Option<&FaultSchedule>,
    ) -> Result<Self, EngineError> {
        if plan.behaviours.is_empty() && plan.target.health.is_none() {
            return Ok(Self {
                behaviours: None,
                health: None,
            });
        }
        let endpoint = unruly_engine::preflight(plan)?;
        let behaviours = ScenarioBehaviours::spawn(plan, &endpoint, interrupt.clone())?;
        let health = match &plan.target.health {
            Some(path) => {
                let running = behaviours.now_running();
                let faults_on = faults.map(FaultSchedule::now_on);
                Some(HealthWatch::spawn(
                    endpoint,
                    path.clone(),
                    Vec::new(),
                    move || {
                        running
                            .current()
                            .or_else(|| faults_on.as_deref().and_then(first_on))
                    },
                )?)
            }
            None => None,
        };
        Ok(Self {
            behaviours: Some(behaviours),
            health,
        })
    }

    /// The load starts now.
    fn begin(&self, start: Instant) {
        if let Some(behaviours) = &self.behaviours {
            behaviours.begin(start);
        }
        if let Some(health) = &self.health {
            health.begin(start);
        }
    }

    /// The load ended: both stop.
    fn finish(self) -> Watched {
        let firings = self
            .behaviours
            .map(ScenarioBehaviours::finish)
            .unwrap_or_default();
        Watched {
            firings,
            health: self.health.and_then(HealthWatch::finish),
            faults: Vec::new(),
        }
    }
}

fn build_report(plan: &Plan, command: &str, result: RunResult, watched: Watched) -> Report {
    let behaviours = behaviour_windows(plan, &watched.firings);
    let assumptions = unruly_verdict::check_assumptions(&plan.assumptions, &result.stats);
    let mut findings = unruly_verdict::findings_from_samples(&result.samples, plan.seed);
    let verdict = unruly_verdict::judge_behaviours(
        &plan.behaviours,
        &watched.firings,
        watched.health.as_ref().map(|h| &h.seen),
        plan.seed,
        findings.len() + 1,
    );
    findings.extend(verdict.findings);
    findings.extend(unruly_verdict::judge_faults(
        &watched.faults,
        &result.timeline,
        plan.seed,
        findings.len() + 1,
    ));
    if let Some(mut health) = watched.health {
        for name in &verdict.explained {
            health.log.explain(name);
        }
        let id = format!("F{}", findings.len() + 1);
        findings.extend(health.log.finding(id, plan.seed));
    }
    Report {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        command: command.to_string(),
        target: plan.target.base_url.clone(),
        seed: plan.seed,
        started_at: rfc3339(result.started_at),
        duration_s: result.duration.as_secs_f64(),
        interrupted: result.interrupted,
        settings: Settings {
            threads: result.threads as u64,
            ..settings(plan)
        },
        assumptions,
        findings,
        stats: result.stats,
        timeline: result.timeline,
        faults: watched.faults,
        behaviours,
        watch: None,
    }
}

/// When each behaviour fired, for the timeline to shade.
fn behaviour_windows(plan: &Plan, firings: &[Firing]) -> Vec<BehaviourWindow> {
    firings
        .iter()
        .filter_map(|firing| {
            let behaviour = plan.behaviours.get(firing.behaviour)?;
            Some(BehaviourWindow {
                name: behaviour.name.clone(),
                start_s: firing.started_s,
                end_s: firing.ended_s.max(firing.started_s),
            })
        })
        .collect()
}

fn settings(plan: &Plan) -> Settings {
    let (model, connections, stages) = match &plan.workload {
        Workload::Closed { users, .. } => ("closed", *users, Vec::new()),
        Workload::Open {
            connections,
            stages,
        } => (
            "open",
            *connections,
            stages.iter().map(describe_stage).collect(),
        ),
    };
    Settings {
        model: model.to_string(),
        connections: connections as u64,
        threads: plan.threads as u64,
        timeout_ms: plan.timeout.as_millis() as u64,
        planned_duration_s: plan.stop.duration().map(|d| d.as_secs_f64()),
        planned_requests: plan.stop.requests(),
        stages,
        operations: plan.operations.iter().map(|op| op.name.clone()).collect(),
    }
}

fn describe_stage(stage: &Stage) -> String {
    match *stage {
        Stage::Hold { rate, duration } => format!("hold {rate}/s for {duration:?}"),
        Stage::Ramp { from, to, duration } => format!("ramp {from}/s to {to}/s over {duration:?}"),
    }
}

pub(crate) fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}
