//! How every keyrotor binary starts and fails, so none prints a secret: arguments parsed with
//! clap's errors redacted, logs to stderr through the redaction rule, and the final error
//! printed the same way ([`groq_wire::secret`]).
//!
//! ```no_run
//! use clap::Parser;
//! #[derive(Parser)]
//! struct Cli {
//!     #[arg(long)]
//!     name: String,
//! }
//! fn main() -> std::process::ExitCode {
//!     let cli: Cli = keyrotor_serve::process::parse_args();
//!     keyrotor_serve::process::init_logs(tracing::Level::WARN, Default::default());
//!     match Ok::<_, std::io::Error>(cli.name) {
//!         Ok(_) => std::process::ExitCode::SUCCESS,
//!         Err(err) => keyrotor_serve::process::fail(&err),
//!     }
//! }
//! ```

use std::fmt::Display;
use std::process::ExitCode;

use groq_wire::secret::{Redacting, redact};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, fields), for a log collector.
    Json,
}

/// Logs to stderr at `RUST_LOG`'s levels (`default` when it is unset or unreadable), in
/// `format`, every line through the redaction rule.
pub fn init_logs(default: tracing::Level, format: LogFormat) {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::from_level(default).into())
        .from_env_lossy();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Redacting(std::io::stderr()));
    // A second call (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The command line parsed as `C`; on a mistake, clap's message (which quotes what was
/// typed, a pasted key included) is printed redacted and the process exits with clap's
/// code (2; 0 for `--help` and `--version`).
pub fn parse_args<C: clap::Parser>() -> C {
    match C::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let text = err.render().to_string();
            if err.use_stderr() {
                eprint!("{}", redact(&text));
            } else {
                print!("{}", redact(&text));
            }
            std::process::exit(err.exit_code());
        }
    }
}

/// Prints `error: …` (with its causes, `{:#}`) redacted to stderr, and gives the failure
/// exit code (1).
pub fn fail(err: &dyn Display) -> ExitCode {
    eprintln!("error: {}", redact(&format!("{err:#}")));
    ExitCode::FAILURE
}

/// The `--catalog FILE` option every binary takes: a model catalog of the user's own (the
/// format of `groq-wire/catalog/groq.toml`) in place of the built-in one.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CatalogArg {
    /// Use this model catalog (models, limits, prices, dates and their sources; the format
    /// of groq-wire/catalog/groq.toml, `keyrotor catalog --json` shows what is loaded)
    /// instead of the built-in one.
    #[arg(long, global = true, value_name = "FILE", env = "KEYROTOR_CATALOG")]
    pub catalog: Option<std::path::PathBuf>,
}

impl CatalogArg {
    /// Loads and installs the catalog given, if any: call it before anything reads the
    /// catalog. Errors name the file, line and field.
    pub fn install(&self) -> Result<(), groq_wire::catalog::CatalogError> {
        let Some(path) = &self.catalog else {
            return Ok(());
        };
        groq_wire::catalog::install(groq_wire::catalog::Catalog::load(path)?)
    }
}
