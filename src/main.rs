//! The `keyrotor` binary: parse the command line, run it.

use std::process::ExitCode;

use keyrotor_serve::process;

fn main() -> ExitCode {
    process::init_logs(tracing::Level::WARN);
    match keyrotor::cli::run_cli(process::parse_args()) {
        Ok(code) => code,
        Err(err) => process::fail(&err),
    }
}
