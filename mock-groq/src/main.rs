//! The `mock-groq` binary: serves the mock from a config file.

use clap::Parser;

/// A mock of Groq's API: per-organisation rate limits, Groq's headers and error bodies,
/// simulated latency and injected faults. Prints the URL it listens on, then serves until
/// Ctrl-C.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    mock: mock_groq::MockArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    mock_groq::run(Cli::parse().mock).await
}
