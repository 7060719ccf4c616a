//! Live progress on stderr: a bar on a terminal, plain lines elsewhere (CI, pipes).
//! It only displays what the engine's windows say; it owns no data.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use unruly_core::{Event, Plan, Stage, Window, Workload};
use unruly_explore::Snapshot;

use crate::watching::SampleFeed;

enum Mode {
    Quiet,
    Bar(ProgressBar),
    Plain,
}

/// Live progress of one run.
pub(crate) struct Progress {
    mode: Mode,
    planned: Option<Duration>,
    requests: u64,
    errors: u64,
    /// The second of the last plain line about an exploration.
    printed_s: Option<u64>,
    /// The workload's stages: when each ends (seconds from the start) and its name.
    stages: Vec<(f64, String)>,
    /// Operations that have failed at least once so far.
    failing: BTreeSet<String>,
    /// The watched target's latest sample.
    feed: Option<SampleFeed>,
}

impl Progress {
    /// Progress for a run planned to last `planned` (if known).
    pub fn new(quiet: bool, planned: Option<Duration>) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let mode = if quiet {
            Mode::Quiet
        } else if interactive {
            let bar = match planned {
                Some(planned) => ProgressBar::new(planned.as_secs().max(1)),
                None => ProgressBar::new_spinner(),
            };
            bar.set_draw_target(ProgressDrawTarget::stderr());
            let template = if planned.is_some() {
                "{spinner} [{bar:24}] {pos:>3}/{len}s {msg}"
            } else {
                "{spinner} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            Mode::Bar(bar)
        } else {
            Mode::Plain
        };
        Self {
            mode,
            planned,
            requests: 0,
            errors: 0,
            printed_s: None,
            stages: Vec::new(),
            failing: BTreeSet::new(),
            feed: None,
        }
    }

    /// Names the phase of each second after the plan's workload stages (`hold 40/s`,
    /// `ramp to 1500/s`); a closed-model run is `load` throughout.
    pub fn with_stages(mut self, plan: &Plan) -> Self {
        if let Workload::Open { stages, .. } = &plan.workload {
            let mut end = 0.0;
            self.stages = stages
                .iter()
                .map(|stage| match *stage {
                    Stage::Hold { rate, duration } => {
                        end += duration.as_secs_f64();
                        (end, format!("hold {rate}/s"))
                    }
                    Stage::Ramp { to, duration, .. } => {
                        end += duration.as_secs_f64();
                        (end, format!("ramp to {to}/s"))
                    }
                })
                .collect();
        }
        self
    }

    /// Shows the watched target's memory and CPU with each line.
    pub fn with_feed(mut self, feed: Option<SampleFeed>) -> Self {
        self.feed = feed;
        self
    }

    fn stage_at(&self, t_s: u64) -> &str {
        self.stages
            .iter()
            .find(|(end, _)| (t_s as f64) < *end)
            .or(self.stages.last())
            .map_or("load", |(_, name)| name.as_str())
    }

    /// The watched target's memory and CPU, if watched.
    fn target(&self) -> String {
        if let Some(how) = self.feed.as_ref().and_then(SampleFeed::exit) {
            return format!("  target ENDED: {how}");
        }
        match self.feed.as_ref().and_then(SampleFeed::get) {
            Some(sample) => format!(
                "  target {:.0} MiB {:.0}% CPU",
                sample.rss_bytes as f64 / (1024.0 * 1024.0),
                sample.cpu_percent
            ),
            None => String::new(),
        }
    }

    /// Shows an event.
    pub fn event(&mut self, event: &Event) {
        if let Event::Window(window) = event {
            self.window(window);
        }
    }

    fn window(&mut self, window: &Window) {
        self.requests += window.requests;
        self.errors += window.errors;
        self.failing.extend(
            window
                .operations
                .iter()
                .filter(|(_, operation)| operation.errors > 0)
                .map(|(name, _)| name.clone()),
        );
        let line = format!(
            "{:<15} {:>7} req/s  p99 {:>9}  errors {:>6}  failing ops {}  total {}{}",
            self.stage_at(window.t_s),
            window.requests,
            format_ms(window.latency_ms.p99),
            window.errors,
            self.failing.len(),
            self.requests,
            self.target()
        );
        match &self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => {
                bar.set_position(window.t_s + 1);
                bar.set_message(line);
            }
            Mode::Plain => {
                let of = self
                    .planned
                    .map(|p| format!("/{}s", p.as_secs()))
                    .unwrap_or_default();
                // A closed stderr must not end the run.
                let _ = writeln!(std::io::stderr(), "[{:>3}s{of}] {line}", window.t_s + 1);
            }
        }
    }

    /// Shows where an exploration is: on a terminal at every snapshot, as
    /// plain lines once a second.
    pub fn explore(&mut self, snapshot: &Snapshot) {
        let seconds = snapshot.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            snapshot.cases_run as f64 / seconds
        } else {
            0.0
        };
        let line = format!(
            "{:<9}  operations {}/{}  cases {} ({rate:.0}/s)  findings {}{}",
            snapshot.phase,
            snapshot.operations_covered,
            snapshot.operations_total,
            snapshot.cases_run,
            snapshot.findings,
            self.target()
        );
        match &self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => {
                bar.set_position(snapshot.elapsed.as_secs());
                bar.set_message(line);
            }
            Mode::Plain => {
                let second = snapshot.elapsed.as_secs();
                if self.printed_s.is_none_or(|p| second > p) || snapshot.phase == "done" {
                    self.printed_s = Some(second);
                    let _ = writeln!(std::io::stderr(), "[{:>3}s] {line}", second);
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else if ms >= 1.0 {
        format!("{ms:.2}ms")
    } else {
        format!("{:.0}µs", ms * 1000.0)
    }
}
