//! `unruly explore`: an API explored from its OpenAPI document.

use super::conclude;
use crate::cli::ExploreArgs;
use crate::exit::ExitCode;
use crate::output::ReportDir;
use crate::progress::Progress;
use crate::watching::{TargetWatcher, WatchSettings};
use crate::Rehearsal;
use anyhow::{anyhow, bail, Context};
use std::path::Path;
use std::time::Duration;
use unruly_core::ApiSpec;
use unruly_engine::{CancellationToken, Endpoint, ProbeBody, ProbeRequest, Prober};
use unruly_explore::ExploreOptions;
use unruly_plan::{parse_duration, OpenApiSource};

/// Most requests in flight that `--concurrency` takes.
const MAX_CONCURRENCY: usize = 1024;
/// Longest wait for a spec fetched from a URL.
const SPEC_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn execute(args: ExploreArgs) -> anyhow::Result<ExitCode> {
    let options = options(&args)?;
    // A spawned target must answer before its spec can be read from it.
    let settings = WatchSettings::from_args(&args.watch, &options.target)?;
    let interrupt = crate::interrupt::on_ctrl_c();
    let mut watcher = TargetWatcher::start(settings, &options.target, &interrupt)?;
    super::announce_metrics(watcher.as_ref());
    let explored = explore_spec(&args, &options, watcher.as_mut(), interrupt);
    if let Some(watcher) = watcher {
        watcher.stop();
    }
    let (rehearsal, report_dir) = explored?;
    conclude(&rehearsal, Some(&report_dir), args.json)
}

fn explore_spec(
    args: &ExploreArgs,
    options: &ExploreOptions,
    watcher: Option<&mut TargetWatcher>,
    interrupt: CancellationToken,
) -> anyhow::Result<(Rehearsal, ReportDir)> {
    let source = spec_source(&args.openapi, &options.target, args.insecure)?;
    let spec = unruly_plan::import_openapi(&source)?;
    let mut report_dir = ReportDir::create(&args.report_dir)?;
    let rehearsal = explore_with_progress(
        &spec,
        options,
        &mut report_dir,
        args.quiet,
        interrupt,
        watcher,
    )?;
    Ok((rehearsal, report_dir))
}

/// Explores with live progress, streaming events into `report_dir`, the target watched
/// by `watcher` if given.
pub(crate) fn explore_with_progress(
    spec: &ApiSpec,
    options: &ExploreOptions,
    report_dir: &mut ReportDir,
    quiet: bool,
    interrupt: CancellationToken,
    watcher: Option<&mut TargetWatcher>,
) -> anyhow::Result<Rehearsal> {
    let mut progress = Progress::new(quiet, Some(options.duration))
        .with_feed(watcher.as_ref().map(|watcher| watcher.feed()));
    let rehearsal = crate::explore_watched(
        spec,
        options,
        interrupt,
        watcher,
        |event| report_dir.event(event),
        |snapshot| progress.explore(snapshot),
    );
    progress.finish();
    Ok(rehearsal?)
}

/// The flags, checked.
pub(crate) fn options(args: &ExploreArgs) -> anyhow::Result<ExploreOptions> {
    let target = unruly_plan::target_url(&args.target)
        .map_err(|reason| anyhow!("--target {}: {reason}", args.target))?;
    let duration = parse_duration(&args.duration)
        .map_err(|reason| anyhow!("--duration {}: {reason}", args.duration))?;
    let timeout = parse_duration(&args.timeout)
        .map_err(|reason| anyhow!("--timeout {}: {reason}", args.timeout))?;
    if duration.is_zero() || timeout.is_zero() {
        bail!("--duration and --timeout must be longer than zero, e.g. --duration 30s");
    }
    if args.concurrency == 0 || args.concurrency > MAX_CONCURRENCY {
        bail!(
            "--concurrency {}: expected 1 to {MAX_CONCURRENCY} requests in flight",
            args.concurrency
        );
    }
    if args.max_cases == Some(0) {
        bail!("--max-cases 0: expected at least 1 case per operation");
    }
    let headers = args
        .headers
        .iter()
        .map(|raw| unruly_plan::parse_header_flag(raw).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(path) = &args.health {
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            bail!("--health {path}: expected a path on the target, e.g. --health /healthz");
        }
    }
    let dependencies = args
        .dependencies
        .iter()
        .map(|raw| {
            unruly_explore::Dependency::parse(raw)
                .map_err(|reason| anyhow!("--dependency {raw}: {reason}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (index, dependency) in dependencies.iter().enumerate() {
        if dependencies[..index]
            .iter()
            .any(|other| other.name == dependency.name)
        {
            bail!(
                "--dependency {}: the name is given twice; give each dependency its own name",
                dependency.name
            );
        }
    }
    Ok(ExploreOptions {
        health: args.health.clone(),
        target,
        insecure: args.insecure,
        duration,
        seed: args.seed,
        headers,
        only: args.only.clone(),
        max_cases: args.max_cases,
        concurrency: args.concurrency,
        timeout,
        behaviours: !args.no_behaviours,
        dependencies,
    })
}

/// The spec's text: from a URL, from a file, or from a path on the target.
fn spec_source(location: &str, target: &str, insecure: bool) -> anyhow::Result<OpenApiSource> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return fetch(location, insecure);
    }
    let path = Path::new(location);
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--openapi {location}: cannot read it as UTF-8 text"))?;
        return Ok(OpenApiSource {
            name: location.to_owned(),
            text,
        });
    }
    if location.starts_with('/') {
        return fetch(&format!("{target}{location}"), insecure);
    }
    bail!(
        "--openapi {location}: no such file; give a file, a URL, or a path on the target such as /openapi.json"
    )
}

/// GETs the spec at `url`.
fn fetch(url: &str, insecure: bool) -> anyhow::Result<OpenApiSource> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime to fetch the spec")?;
    let response = runtime.block_on(async {
        let endpoint = Endpoint::resolve(url, insecure)?;
        let mut prober = Prober::new(endpoint, 0, 64 * 1024 * 1024);
        let request = ProbeRequest {
            method: "GET".to_owned(),
            path_and_query: String::new(),
            headers: vec![(
                "Accept".to_owned(),
                "application/json, application/yaml, */*".to_owned(),
            )],
            body: ProbeBody::Empty,
        };
        prober
            .send(request, SPEC_FETCH_TIMEOUT)
            .await
            .map_err(|failure| anyhow!("{}", failure.message))
    });
    let response = response.with_context(|| format!("--openapi {url}: cannot fetch it"))?;
    if response.status != 200 {
        bail!(
            "--openapi {url}: the server answered {} instead of the document",
            response.status
        );
    }
    if !response.is_complete() {
        bail!("--openapi {url}: the document is larger than 64 MiB");
    }
    let text = String::from_utf8(response.body.to_vec())
        .map_err(|_| anyhow!("--openapi {url}: the document is not UTF-8 text"))?;
    Ok(OpenApiSource {
        name: url.to_owned(),
        text,
    })
}
