//! `unruly demo`: the embedded shop with planted bugs, rehearsed end to end.

use super::conclude;
use super::explore::explore_with_progress;
use crate::cli::DemoArgs;
use crate::exit::ExitCode;
use crate::output::ReportDir;
use crate::progress::Progress;
use crate::watching::{TargetWatcher, WatchSettings};
use crate::Rehearsal;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;
use unruly_core::{Finding, FindingKind};
use unruly_demo::{DemoOptions, DependencyStub, Variant};
use unruly_explore::{Dependency, ExploreOptions};

/// How long the demo's exploration may take at most.
const EXPLORE_DURATION: Duration = Duration::from_secs(30);

/// The scenario the demo runs (its target is replaced by the demo's address).
pub const DEMO_SCENARIO: &str = include_str!("demo.toml");

pub(crate) fn execute(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let variant = if args.correct {
        Variant::Correct
    } else {
        Variant::Buggy
    };
    if let Some(addr) = args.serve {
        return serve(addr, variant, args.shipping_via, args.no_shipping_stub);
    }
    // The shop runs in a child process that unruly spawns and watches (its memory, CPU,
    // output, its own /metrics), as `--spawn` and `--scrape` do for any service. It calls its shipping dependency through
    // a fault proxy that the exploration starts on a free loopback port, in front of the
    // stub, which runs here.
    let stub = DependencyStub::start().context("cannot start the demo's shipping stub")?;
    let shipping_via =
        free_loopback_port().context("no free loopback port for the shipping proxy")?;
    let shop = free_loopback_port().context("no free loopback port for the demo service")?;
    let base_url = format!("http://{shop}");
    let settings = WatchSettings {
        spawn: Some(serve_command(shop, shipping_via, args.correct)?),
        scrape: Some(format!("{base_url}/metrics")),
        metrics_addr: args.metrics_addr,
        ..WatchSettings::default()
    };
    let interrupt = crate::interrupt::on_ctrl_c();
    let mut watcher = TargetWatcher::start(settings, &base_url, &interrupt)?
        .context("the demo service was not started")?;
    super::announce_metrics(Some(&watcher));
    eprintln!(
        "demo service ({}) listening on {base_url}, pid {}; its OpenAPI document is at \
         {base_url}/openapi.json",
        if args.correct {
            "correct twin"
        } else {
            "with planted bugs"
        },
        watcher.pid().unwrap_or_default(),
    );
    let shipping = Dependency {
        name: "shipping".to_owned(),
        listen: shipping_via.to_string(),
        upstream: stub.addr().to_string(),
    };
    let rehearsed = rehearse_demo(&args, &base_url, shipping, &mut watcher, interrupt);
    watcher.stop();
    stub.stop();
    rehearsed
}

/// Explores the demo service, then loads it with the demo scenario, both watched.
fn rehearse_demo(
    args: &DemoArgs,
    base_url: &str,
    shipping: Dependency,
    watcher: &mut TargetWatcher,
    interrupt: unruly_engine::CancellationToken,
) -> anyhow::Result<ExitCode> {
    let explored = explore(base_url, shipping, args, interrupt.clone(), watcher)?;
    if explored.report.interrupted {
        return Ok(ExitCode::Interrupted);
    }
    eprintln!(
        "demo: exploring found {} problems; now the load scenario (open model, 40/s rising to 1500/s)",
        explored.report.findings.len()
    );
    let mut plan = unruly_plan::parse_scenario(DEMO_SCENARIO, "demo.toml")?;
    plan.target.base_url = base_url.to_owned();
    let mut report_dir = ReportDir::create(&args.report_dir)?;
    let mut progress = Progress::new(args.quiet, plan.stop.duration())
        .with_stages(&plan)
        .with_feed(Some(watcher.feed()));
    let loaded = crate::rehearse_watched(&plan, "demo", interrupt, Some(watcher), |event| {
        progress.event(event);
        report_dir.event(event);
    });
    progress.finish();
    let mut rehearsal = loaded?;
    // One report: the exploration's findings first, then those only the load
    // found (a bug both saw is reported once, with the shrunk input).
    let mut findings = explored.report.findings;
    let seen: Vec<(String, FindingKind, &str)> = findings.iter().map(same_bug).collect();
    let only_loaded: Vec<Finding> = rehearsal
        .report
        .findings
        .drain(..)
        .filter(|f| !seen.contains(&same_bug(f)))
        .collect();
    findings.extend(only_loaded);
    rehearsal.report.findings = findings;
    let code = conclude(&rehearsal, Some(&report_dir), false)?;
    if code == ExitCode::Interrupted {
        return Ok(code);
    }
    let found = rehearsal.report.findings.len();
    let broken = rehearsal
        .report
        .assumptions
        .iter()
        .filter(|a| !a.held)
        .count();
    println!(
        "demo: {found} findings and {broken} broken assumptions in the {} service",
        if args.correct { "correct" } else { "buggy" }
    );
    // The demo succeeds when it shows what it should: problems in the buggy
    // service, none in its correct twin.
    Ok(if (found + broken > 0) != args.correct {
        ExitCode::Clean
    } else {
        ExitCode::Findings
    })
}

/// What makes two findings one bug: their operation and kind and, for a logged error, what
/// was logged (two signatures on one operation are two bugs).
fn same_bug(finding: &Finding) -> (String, FindingKind, &str) {
    let what = match finding.kind {
        FindingKind::LogError => finding
            .summary
            .split_once(" logged ")
            .map_or(finding.summary.as_str(), |(what, _)| what),
        _ => "",
    };
    (finding.operation.clone(), finding.kind, what)
}

/// The command that serves the demo shop in a child process: this very binary, with
/// `demo --serve`.
fn serve_command(
    shop: SocketAddr,
    shipping_via: SocketAddr,
    correct: bool,
) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find unruly's own executable")?;
    let exe = exe.to_string_lossy().replace('\'', r"'\''");
    Ok(format!(
        "'{exe}' demo --serve {shop} --shipping-via {shipping_via} --no-shipping-stub{}",
        if correct { " --correct" } else { "" }
    ))
}

/// Explores the demo service from its own OpenAPI document, with the same
/// defaults as `unruly explore`.
fn explore(
    base_url: &str,
    shipping: Dependency,
    args: &DemoArgs,
    interrupt: unruly_engine::CancellationToken,
    watcher: &mut TargetWatcher,
) -> anyhow::Result<Rehearsal> {
    let spec = unruly_plan::import_openapi(&unruly_plan::OpenApiSource {
        name: "openapi.json".to_owned(),
        text: unruly_demo::openapi_json().to_owned(),
    })?;
    let options = ExploreOptions {
        duration: EXPLORE_DURATION,
        dependencies: vec![shipping],
        ..ExploreOptions::new(base_url.to_owned())
    };
    let mut report_dir = ReportDir::create(&args.report_dir.join("explore"))?;
    let explored = explore_with_progress(
        &spec,
        &options,
        &mut report_dir,
        args.quiet,
        interrupt,
        Some(watcher),
    )?;
    report_dir.write_report(&explored.report)?;
    Ok(explored)
}

/// A loopback port free now, for a listener started a moment later.
fn free_loopback_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// Serves the demo service on `addr` (loopback only) until Ctrl-C; with `shipping_via`,
/// the shop calls its shipping stub through that address.
fn serve(
    addr: SocketAddr,
    variant: Variant,
    shipping_via: Option<SocketAddr>,
    no_stub: bool,
) -> anyhow::Result<ExitCode> {
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "--serve {addr}: the demo service listens on loopback only (127.0.0.0/8 or [::1])"
        );
    }
    if let Some(via) = shipping_via.filter(|via| !via.ip().is_loopback()) {
        anyhow::bail!("--shipping-via {via}: expected a loopback address (127.0.0.0/8 or [::1])");
    }
    let stub = match shipping_via.filter(|_| !no_stub) {
        Some(via) => {
            let stub = DependencyStub::start().context("cannot start the demo's shipping stub")?;
            eprintln!(
                "shipping stub on {}; the shop calls it through {via}, e.g. \
                 unruly explore --dependency shipping={via}@{}",
                stub.addr(),
                stub.addr()
            );
            Some(stub)
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the demo runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--serve {addr}: cannot listen there"))?;
        eprintln!(
            "demo service ({variant}) on http://{addr} (OpenAPI at /openapi.json); Ctrl-C stops it"
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let options = DemoOptions {
            shipping: shipping_via,
            log_to_stderr: true,
        };
        unruly_demo::serve_with(listener, variant, options, shutdown)
            .await
            .context("the demo service failed")
    })?;
    drop(stub);
    Ok(ExitCode::Clean)
}
