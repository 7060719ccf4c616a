//! The `unruly` command: parse, run, map the outcome to an exit code.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = unruly::cli::Cli::parse();
    let code = match unruly::execute(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            unruly::ExitCode::Usage
        }
    };
    std::process::ExitCode::from(code as u8)
}
