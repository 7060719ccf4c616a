//! `unruly load URL`: the quick benchmark.

use super::{perform, Output};
use crate::cli::LoadArgs;
use crate::exit::ExitCode;
use anyhow::Context;
use unruly_plan::{parse_duration, plan_from_load_options, LoadOptions};

pub(crate) fn execute(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let duration = args
        .duration
        .as_deref()
        .map(|text| {
            parse_duration(text).map_err(|e| anyhow::anyhow!("-d/--duration '{text}': {e}"))
        })
        .transpose()?;
    let timeout = parse_duration(&args.timeout)
        .map_err(|e| anyhow::anyhow!("--timeout '{}': {e}", args.timeout))?;
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => Some(body.clone()),
        (None, Some(path)) => Some(std::fs::read_to_string(path).with_context(|| {
            format!(
                "--body-file {}: cannot read it as UTF-8 text",
                path.display()
            )
        })?),
        (None, None) => None,
    };
    let options = LoadOptions {
        url: args.url,
        connections: args.connections,
        duration,
        requests: args.requests,
        rate: args.rate,
        method: args.method,
        headers: args.headers,
        body,
        threads: args.threads,
        timeout,
        insecure: args.insecure,
        seed: 1,
        assumptions: args.assumptions,
    };
    let plan = plan_from_load_options(&options)?;
    let (_, code) = perform(
        &plan,
        Output {
            command: "load",
            report_dir: args.report_dir.as_deref(),
            json: args.json,
            quiet: args.quiet,
            watch: None,
        },
    )?;
    Ok(code)
}
