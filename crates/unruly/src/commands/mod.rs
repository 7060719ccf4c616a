//! One module per subcommand; each turns flags into a plan and hands it to
//! [`perform`], which runs it, writes the report and picks the exit code.

mod demo;
mod explore;
mod init;
mod load;
mod proxy;
mod run;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;
use crate::output::{print_report, ReportDir};
use crate::progress::Progress;
use crate::rehearse::{rehearse_watched, Rehearsal};
use crate::watching::{TargetWatcher, WatchSettings};
use std::path::Path;
use unruly_core::Plan;

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Load(args) => load::execute(args),
        Command::Run(args) => run::execute(args),
        Command::Explore(args) => explore::execute(args),
        Command::Init(args) => init::execute(args),
        Command::Demo(args) => demo::execute(args),
        Command::Proxy(args) => proxy::execute(args),
    }
}

/// How a planned run reports.
pub(crate) struct Output<'a> {
    pub command: &'a str,
    pub report_dir: Option<&'a Path>,
    pub json: bool,
    pub quiet: bool,
    /// What to watch of the target (`run`; `load` watches nothing).
    pub watch: Option<&'a crate::cli::WatchArgs>,
}

/// Runs `plan` with live progress, streams events, writes the report files and
/// prints the summary. Ctrl-C ends the run early and still writes everything.
pub(crate) fn perform(plan: &Plan, output: Output<'_>) -> anyhow::Result<(Rehearsal, ExitCode)> {
    let connections = (plan.workload.connections() as u64).saturating_add(
        unruly_engine::behaviour::ScenarioBehaviours::connections(plan),
    );
    let limit = unruly_engine::raise_open_file_limit(connections);
    if !limit.sufficient {
        eprintln!(
            "warning: the open-file limit is {} and cannot be raised to fit {} connections; \
             some will fail to connect. Raise it with `ulimit -n` (hard limit) and retry.",
            limit.current, connections
        );
    }
    let mut report_dir = output.report_dir.map(ReportDir::create).transpose()?;
    let settings = output
        .watch
        .map(|args| WatchSettings::from_args(args, &plan.target.base_url))
        .transpose()?
        .unwrap_or_default();
    let interrupt = crate::interrupt::on_ctrl_c();
    let mut watcher = TargetWatcher::start(settings, &plan.target.base_url, &interrupt)?;
    announce_metrics(watcher.as_ref());
    let mut progress = Progress::new(output.quiet, plan.stop.duration())
        .with_stages(plan)
        .with_feed(watcher.as_ref().map(TargetWatcher::feed));
    let rehearsal = rehearse_watched(plan, output.command, interrupt, watcher.as_mut(), |event| {
        progress.event(event);
        if let Some(dir) = report_dir.as_mut() {
            dir.event(event);
        }
    });
    progress.finish();
    if let Some(watcher) = watcher {
        watcher.stop();
    }
    let rehearsal = rehearsal?;
    let code = conclude(&rehearsal, report_dir.as_ref(), output.json)?;
    Ok((rehearsal, code))
}

/// Says where unruly's own metrics are served, if they are.
pub(crate) fn announce_metrics(watcher: Option<&TargetWatcher>) {
    if let Some(addr) = watcher.and_then(TargetWatcher::metrics_addr) {
        eprintln!("unruly's live metrics: http://{addr}/metrics");
    }
}

/// Writes report.json (files first: a closed stdout, `| head`, must not cost
/// the report), prints the summary and picks the exit code.
pub(crate) fn conclude(
    rehearsal: &Rehearsal,
    report_dir: Option<&ReportDir>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let written = report_dir
        .map(|dir| dir.write_report(&rehearsal.report))
        .transpose()?;
    print_report(&rehearsal.report, json, written.as_deref());
    Ok(if rehearsal.report.interrupted {
        ExitCode::Interrupted
    } else if rehearsal.has_problems() {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    })
}
