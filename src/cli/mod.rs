//! The `keyrotor` command line: parses arguments and calls the library, one file per
//! subcommand (`run`, `sweep`, `plan`, `claims`, `compare`, `policies`, `schema`); `args`
//! holds the argument groups several take, `terminal` what every command shares with the
//! terminal.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod catalog;
mod claims;
mod compare;
mod plan;
mod policies;
mod providers;
mod run;
mod schema;
mod sweep;
mod terminal;

pub use args::AsOf;
pub use claims::ClaimsArgs;
pub use compare::CompareArgs;
pub use plan::{LimitFlags, PlanArgs};
pub use policies::policies;
pub use run::RunArgs;
pub use schema::SchemaArgs;
pub use sweep::SweepArgs;
pub use terminal::print_out;

/// Exit code when a run's thresholds are not met or `compare` finds a regression (distinct
/// from 1, an error, and 2, a usage error).
pub const EXIT_THRESHOLDS: u8 = 3;
/// Exit code of a run stopped before its end by SIGINT, SIGTERM or SIGHUP: its reports are
/// written and marked incomplete, and no verdict is given.
pub const EXIT_INCOMPLETE: u8 = 4;
/// Exit code of `claims --file` when no claim fails but some are inconclusive (too few
/// samples, or no data): not a pass.
pub const EXIT_INCONCLUSIVE: u8 = 5;

/// keyrotor — settles by measurement how well multi-key API rotation works.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// `--catalog FILE`: a model catalog of the user's own.
    #[command(flatten)]
    pub catalog: keyrotor_serve::process::CatalogArg,
}

impl Cli {
    /// How the command's logs are written: `keyrotor proxy --log-format`, text otherwise.
    pub fn log_format(&self) -> keyrotor_serve::process::LogFormat {
        match &self.command {
            Command::Proxy(args) => args.log_format,
            _ => keyrotor_serve::process::LogFormat::Text,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the seed documents' claims against the embedded mock (simulated time), or your
    /// own claims with --file, and write claims.json, claims.md and claims.html, and under
    /// runs/ the run each row rests on (its scenario.toml replays it with `keyrotor run`).
    /// With --file, exit codes are for CI: 0 every claim holds, 3 one fails, 5 none fails
    /// but one is inconclusive (a rule met on too few samples, or no data), 1 an error.
    Claims(ClaimsArgs),
    /// Run one scenario and write its reports: from a file, from flags alone (`keyrotor run
    /// --keys 5 --rate 150/min -z 10m`), or a file with flags over it. Exit codes: 0 passed,
    /// 1 error (reports marked failed after a panic), 3 a threshold failed, 4 interrupted by
    /// SIGINT/SIGTERM/SIGHUP.
    Run(Box<RunArgs>),
    /// Find the capacity (highest offered rate meeting the goodput objective) per key count.
    Sweep(SweepArgs),
    /// Compare two reports (report.json or sweep.json, or their folders) under thresholds;
    /// exit code 3 on a regression, 1 on an error.
    Compare(CompareArgs),
    /// Size the keys for an event: analytical bound per limit, simulated minimum per policy.
    Plan(Box<PlanArgs>),
    /// Print the models Groq serves on a day (default today) with their limits, prices and
    /// the sources each figure rests on (page and day seen), and the models gone by then.
    Catalog {
        /// The day (YYYY-MM-DD).
        #[command(flatten)]
        as_of: AsOf,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print what more keys give on each API people rotate free keys across (Groq, Gemini,
    /// OpenRouter, Cerebras, OpenAI): what its limits belong to, how its windows come back,
    /// its headers and error answers, with the pages each profile rests on.
    Providers {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the rotation policies: which seed each reproduces, what it does, its parameters.
    Policies {
        /// Print the presets and their default parameters as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the Groq mock on a socket (prints its URL, serves until SIGINT, SIGTERM or SIGHUP, then finishes requests in flight).
    Mock(mock_groq::MockArgs),
    /// Put the rotation engine in front of any app: serves Groq's OpenAI-compatible chat
    /// API on a socket (prints its URL) and sends each request through the keys of the
    /// environment or --keys-file (or several pools, routed by model, with --config),
    /// failing over per --policy. The app changes only its base URL (`http://IP:PORT`, or
    /// `…/openai/v1` for OpenAI SDKs). Also /health (liveness), /ready (readiness), /status,
    /// /metrics. Reads its key files and config again on SIGHUP (or POST /admin/reload);
    /// drains requests in flight on SIGINT or SIGTERM.
    Proxy(Box<keyrotor_proxy::ProxyArgs>),
    /// Print a shell completion script, e.g. `keyrotor completions bash >
    /// ~/.local/share/bash-completion/completions/keyrotor`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print keyrotor's man page (roff), e.g. `keyrotor man > keyrotor.1 && man ./keyrotor.1`.
    Man,
    /// Print the JSON Schema of report.json (or sweep, plan, claims), generated from the
    /// types; `--write DIR` writes all four (`schemas/` holds the committed ones).
    Schema(SchemaArgs),
}

/// Runs a parsed command line.
pub fn run_cli(cli: Cli) -> anyhow::Result<ExitCode> {
    cli.catalog.install()?;
    match cli.command {
        Command::Mock(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(mock_groq::run(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Proxy(args) => {
            keyrotor_proxy::main(*args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "keyrotor", &mut script);
            print_out(script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            print_out(page)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema(args) => {
            schema::schema_command(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policies { json } => {
            print_out(policies::policies(json)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Providers { json } => {
            let profiles = groq_wire::providers::Profiles::builtin();
            print_out(providers::providers(profiles, json)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalog { as_of, json } => {
            let day = as_of.as_of.unwrap_or_else(groq_wire::catalog::today);
            print_out(catalog::catalog(groq_wire::catalog::current(), day, json)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run::run_command(*args),
        Command::Sweep(args) => sweep::sweep_command(args),
        Command::Claims(args) => claims::claims_command(args),
        Command::Plan(args) => plan::plan_command(&args),
        Command::Compare(args) => compare::compare_command(&args),
    }
}
