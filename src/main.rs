//! The `keyrotor` binary: parse the command line, run it.

use std::process::ExitCode;

use keyrotor_serve::process;

fn main() -> ExitCode {
    let cli: keyrotor::cli::Cli = process::parse_args();
    process::init_logs(tracing::Level::WARN, cli.log_format());
    match keyrotor::cli::run_cli(cli) {
        Ok(code) => code,
        Err(err) => process::fail(&err),
    }
}
