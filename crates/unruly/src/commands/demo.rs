//! `unruly demo`: the embedded shop with planted bugs, rehearsed end to end.

use super::{perform, Output};
use crate::cli::DemoArgs;
use crate::exit::ExitCode;
use anyhow::Context;
use unruly_demo::{DemoHandle, Variant};

/// The scenario the demo runs (its target is replaced by the demo's address).
pub const DEMO_SCENARIO: &str = include_str!("demo.toml");

pub(crate) fn execute(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let variant = if args.correct {
        Variant::Correct
    } else {
        Variant::Buggy
    };
    if let Some(addr) = args.serve {
        return serve(addr, variant);
    }
    let demo = DemoHandle::start(variant).context("cannot start the demo service")?;
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
    let mut plan = unruly_plan::parse_scenario(DEMO_SCENARIO, "demo.toml")?;
    plan.target.base_url = demo.base_url();
    let (rehearsal, code) = perform(
        &plan,
        Output {
            command: "demo",
            report_dir: Some(&args.report_dir),
            json: false,
            quiet: args.quiet,
        },
    )?;
    demo.stop();
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

/// Serves the demo service on `addr` (loopback only) until Ctrl-C.
fn serve(addr: std::net::SocketAddr, variant: Variant) -> anyhow::Result<ExitCode> {
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "--serve {addr}: the demo service listens on loopback only (127.0.0.0/8 or [::1])"
        );
    }
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
        unruly_demo::serve(listener, variant, shutdown)
            .await
            .context("the demo service failed")
    })?;
    Ok(ExitCode::Clean)
}
