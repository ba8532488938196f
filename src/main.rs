//! The `keyrotor` binary: parse the command line, run it.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    keyrotor::cli::run(keyrotor::cli::Cli::parse()).await
}
