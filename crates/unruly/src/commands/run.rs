//! `unruly run FILE`: a scenario.

use super::{perform, Output};
use crate::cli::RunArgs;
use crate::exit::ExitCode;

pub(crate) fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut plan = unruly_plan::load_scenario(&args.scenario)?;
    if let Some(target) = args.target {
        plan.target.base_url = unruly_plan::target_url(&target)
            .map_err(|reason| anyhow::anyhow!("--target {target}: {reason}"))?;
    }
    let (_, code) = perform(
        &plan,
        Output {
            command: "run",
            report_dir: Some(&args.report_dir),
            json: args.json,
            quiet: args.quiet,
        },
    )?;
    Ok(code)
}
