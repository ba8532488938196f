//! The `keyrotor` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand};

/// keyrotor — settles by measurement how well multi-key API rotation works.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Groq mock on a socket (prints its URL, serves until Ctrl-C).
    Mock(mock_groq::MockArgs),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Mock(args) => mock_groq::run(args).await,
    }
}
