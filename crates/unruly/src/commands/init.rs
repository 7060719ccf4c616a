//! `unruly init`: a commented starter scenario.

use crate::cli::InitArgs;
use crate::exit::ExitCode;
use anyhow::{bail, Context};
use unruly_plan::{starter_scenario, OpenApiSource};

pub(crate) fn execute(args: InitArgs) -> anyhow::Result<ExitCode> {
    let openapi = match &args.openapi {
        Some(path) => Some(OpenApiSource {
            name: path.display().to_string(),
            text: std::fs::read_to_string(path)
                .with_context(|| format!("--openapi {}: cannot read it", path.display()))?,
        }),
        None => None,
    };
    let scenario = starter_scenario(&args.target, openapi.as_ref())?;
    if args.output.as_os_str() == "-" {
        print!("{scenario}");
        return Ok(ExitCode::Clean);
    }
    if args.output.exists() && !args.force {
        bail!(
            "-o {}: the file exists; pass --force to overwrite it",
            args.output.display()
        );
    }
    std::fs::write(&args.output, scenario)
        .with_context(|| format!("-o {}: cannot write it", args.output.display()))?;
    println!(
        "wrote {}; run it with: unruly run {}",
        args.output.display(),
        args.output.display()
    );
    Ok(ExitCode::Clean)
}
