//! The explore spine: spec → explorer → findings → report.

use crate::rehearse::rfc3339;
use crate::watching::TargetWatcher;
use crate::Rehearsal;
use unruly_core::{ApiSpec, Event, Report, Settings, SCHEMA_VERSION};
use unruly_engine::CancellationToken;
use unruly_explore::{ExploreError, ExploreOptions, Snapshot};

/// Explores `spec` on `options.target` and judges what came back. `on_event`
/// sees the start, each finding and the end (for events.jsonl);
/// `on_progress` sees where the exploration is, about four times a second.
/// Cancelling `interrupt` ends it early; the report covers what was seen.
pub fn explore(
    spec: &ApiSpec,
    options: &ExploreOptions,
    interrupt: CancellationToken,
    on_event: impl FnMut(&Event),
    on_progress: impl FnMut(&Snapshot),
) -> Result<Rehearsal, ExploreError> {
    explore_watched(spec, options, interrupt, None, on_event, on_progress)
}

/// As [`explore`], with the target watched by `watcher` (its process, logs and metrics)
/// from the first request to the end; what it saw goes into the report.
pub fn explore_watched(
    spec: &ApiSpec,
    options: &ExploreOptions,
    interrupt: CancellationToken,
    mut watcher: Option<&mut TargetWatcher>,
    mut on_event: impl FnMut(&Event),
    mut on_progress: impl FnMut(&Snapshot),
) -> Result<Rehearsal, ExploreError> {
    // The watch begins as the exploration does, so that what the target logs from its
    // first request on is in it.
    if let Some(watcher) = watcher.as_deref_mut() {
        watcher.begin(std::time::Instant::now());
    }
    let mut started = false;
    let result = unruly_explore::explore(spec, options, interrupt, |snapshot| {
        if let Some(watcher) = watcher.as_deref_mut() {
            watcher.explore(
                snapshot.phase,
                snapshot.elapsed,
                snapshot.cases_run,
                snapshot.findings as u64,
            );
        }
        if !started {
            started = true;
            let started = std::time::SystemTime::now()
                .checked_sub(snapshot.elapsed)
                .unwrap_or_else(std::time::SystemTime::now);
            on_event(&Event::Start {
                target: options.target.clone(),
                started_at: rfc3339(started),
                seed: options.seed,
            });
        }
        on_progress(snapshot);
    })?;
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        command: "explore".to_string(),
        target: options.target.clone(),
        seed: options.seed,
        started_at: rfc3339(result.started_at),
        duration_s: result.duration.as_secs_f64(),
        interrupted: result.interrupted,
        settings: Settings {
            model: "explore".to_string(),
            connections: options.concurrency as u64,
            threads: 1,
            timeout_ms: options.timeout.as_millis() as u64,
            planned_duration_s: Some(options.duration.as_secs_f64()),
            planned_requests: None,
            stages: Vec::new(),
            operations: result.operations,
        },
        assumptions: Vec::new(),
        findings: result.findings,
        stats: result.stats,
        timeline: Vec::new(),
        faults: Vec::new(),
        behaviours: Vec::new(),
        watch: None,
    };
    if let Some(watcher) = watcher {
        watcher.conclude(&mut report, "E");
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
