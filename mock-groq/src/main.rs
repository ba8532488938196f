//! The `mock-groq` binary: serves the mock from a config file.

use std::process::ExitCode;

use clap::Parser;
use keyrotor_serve::process;

/// A mock of Groq's API: per-organisation rate limits, Groq's headers and error bodies,
/// simulated latency and injected faults. Prints the URL it listens on, then serves until
/// Ctrl-C.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    mock: mock_groq::MockArgs,
    #[command(flatten)]
    catalog: process::CatalogArg,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = process::parse_args::<Cli>();
    process::init_logs(tracing::Level::WARN, process::LogFormat::Text);
    if let Err(err) = cli.catalog.install() {
        return process::fail(&err);
    }
    match mock_groq::run(cli.mock).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => process::fail(&err),
    }
}
