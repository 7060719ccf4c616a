//! `unruly proxy`: the fault proxy and its Toxiproxy-compatible control API, until Ctrl-C.

use crate::cli::ProxyArgs;
use crate::exit::ExitCode;
use anyhow::{bail, Context};
use std::net::SocketAddr;
use unruly_faults::{read_config, ControlApi, Proxies, TOXIPROXY_VERSION};

/// Starts the proxies of `--config`, serves the API on `--api`, and stops on Ctrl-C.
pub fn execute(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    let api: SocketAddr = args.api.parse().with_context(|| {
        format!(
            "--api {}: not an address; give ip:port, e.g. 127.0.0.1:8474",
            args.api
        )
    })?;
    if !api.ip().is_loopback() && args.token.is_none() {
        bail!(
            "--api {api}: the control API is off loopback, where anyone who reaches it could \
             break your dependencies; give --token (or UNRULY_PROXY_TOKEN), or listen on 127.0.0.1"
        );
    }
    let specs = match &args.config {
        Some(path) => read_config(path)?,
        None => Vec::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the proxy's runtime")?;
    let proxies = Proxies::new(runtime.handle().clone(), args.seed);
    if let Some(path) = &args.config {
        let started = proxies
            .populate(specs)
            .map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.error))?;
        for proxy in &started {
            println!(
                "proxy {}: {} -> {}",
                proxy.name, proxy.listen, proxy.upstream
            );
        }
    }
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(api))
        .with_context(|| {
            format!("--api {api}: cannot listen (is Toxiproxy or another unruly proxy running?)")
        })?;
    let stop = crate::interrupt::on_ctrl_c();
    println!(
        "unruly proxy: control API on http://{api} (Toxiproxy {TOXIPROXY_VERSION} compatible{}); Ctrl-C stops",
        if args.token.is_some() { ", token required" } else { "" }
    );
    runtime.block_on(ControlApi::new(proxies.clone(), args.token).serve(listener, stop));
    proxies.shutdown();
    Ok(ExitCode::Clean)
}
