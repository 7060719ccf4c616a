//! `unruly run FILE`: a scenario, its behaviours and (with `--health` or
//! `[target] health`) the health probe.

use super::{perform, Output};
use crate::cli::RunArgs;
use crate::exit::ExitCode;

pub(crate) fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut plan = unruly_plan::load_scenario(&args.scenario)?;
    if let Some(target) = args.target {
        plan.target.base_url = unruly_plan::target_url(&target)
            .map_err(|reason| anyhow::anyhow!("--target {target}: {reason}"))?;
    }
    if let Some(path) = args.health {
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            anyhow::bail!("--health {path}: expected a path on the target, e.g. --health /health");
        }
        plan.target.health = Some(path);
    }
    let (_, code) = perform(
        &plan,
        Output {
            command: "run",
            report_dir: Some(&args.report_dir),
            json: args.json,
            quiet: args.quiet,
            watch: Some(&args.watch),
        },
    )?;
    Ok(code)
}
