//! `unruly demo`: the embedded shop with planted bugs, rehearsed end to end.

use super::conclude;
use super::explore::explore_with_progress;
use crate::cli::DemoArgs;
use crate::exit::ExitCode;
use crate::output::ReportDir;
use crate::progress::Progress;
use crate::Rehearsal;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;
use unruly_core::FindingKind;
use unruly_demo::{DemoHandle, DemoOptions, DependencyStub, Variant};
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
        return serve(addr, variant, args.shipping_via);
    }
    // The shop calls its shipping dependency through a fault proxy that the exploration
    // starts on a free loopback port, in front of the embedded stub.
    let stub = DependencyStub::start().context("cannot start the demo's shipping stub")?;
    let shipping_via =
        free_loopback_port().context("no free loopback port for the shipping proxy")?;
    let demo = DemoHandle::start_with(
        variant,
        DemoOptions {
            shipping: Some(shipping_via),
        },
    )
    .context("cannot start the demo service")?;
    let shipping = Dependency {
        name: "shipping".to_owned(),
        listen: shipping_via.to_string(),
        upstream: stub.addr().to_string(),
    };
    eprintln!(
        "demo service ({}) listening on {}; its OpenAPI document is at {}/openapi.json",
        if args.correct {
            "correct twin"
        } else {
            "with planted bugs"
        },
        demo.base_url(),
        demo.base_url()
    );
    let interrupt = crate::interrupt::on_ctrl_c();
    let explored = explore(&demo, shipping, &args, interrupt.clone())?;
    if explored.report.interrupted {
        demo.stop();
        return Ok(ExitCode::Interrupted);
    }
    eprintln!(
        "demo: exploring found {} problems; now the load scenario (open model, 40/s rising to 1500/s)",
        explored.report.findings.len()
    );
    let mut plan = unruly_plan::parse_scenario(DEMO_SCENARIO, "demo.toml")?;
    plan.target.base_url = demo.base_url();
    let mut report_dir = ReportDir::create(&args.report_dir)?;
    let mut progress = Progress::new(args.quiet, plan.stop.duration());
    let loaded = crate::rehearse(&plan, "demo", interrupt, |event| {
        progress.event(event);
        report_dir.event(event);
    });
    progress.finish();
    demo.stop();
    stub.stop();
    let mut rehearsal = loaded?;
    // One report: the exploration's findings first, then those only the load
    // found (a bug both saw is reported once, with the shrunk input).
    let mut findings = explored.report.findings;
    let seen: Vec<(String, FindingKind)> = findings
        .iter()
        .map(|f| (f.operation.clone(), f.kind))
        .collect();
    findings.extend(
        rehearsal
            .report
            .findings
            .drain(..)
            .filter(|f| !seen.contains(&(f.operation.clone(), f.kind))),
    );
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

/// Explores the demo service from its own OpenAPI document, with the same
/// defaults as `unruly explore`.
fn explore(
    demo: &DemoHandle,
    shipping: Dependency,
    args: &DemoArgs,
    interrupt: unruly_engine::CancellationToken,
) -> anyhow::Result<Rehearsal> {
    let spec = unruly_plan::import_openapi(&unruly_plan::OpenApiSource {
        name: "openapi.json".to_owned(),
        text: unruly_demo::openapi_json().to_owned(),
    })?;
    let options = ExploreOptions {
        duration: EXPLORE_DURATION,
        dependencies: vec![shipping],
        ..ExploreOptions::new(demo.base_url())
    };
    let mut report_dir = ReportDir::create(&args.report_dir.join("explore"))?;
    let explored = explore_with_progress(&spec, &options, &mut report_dir, args.quiet, interrupt)?;
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
) -> anyhow::Result<ExitCode> {
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "--serve {addr}: the demo service listens on loopback only (127.0.0.0/8 or [::1])"
        );
    }
    if let Some(via) = shipping_via.filter(|via| !via.ip().is_loopback()) {
        anyhow::bail!("--shipping-via {via}: expected a loopback address (127.0.0.0/8 or [::1])");
    }
    let stub = match shipping_via {
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
        };
        unruly_demo::serve_with(listener, variant, options, shutdown)
            .await
            .context("the demo service failed")
    })?;
    drop(stub);
    Ok(ExitCode::Clean)
}
