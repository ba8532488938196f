//! The `keyrotor-proxy` binary: the proxy alone, for a deployment that needs nothing else of
//! keyrotor (`keyrotor proxy` runs the same code).

use std::process::ExitCode;

use clap::Parser;

/// Puts the rotation engine in front of any app: serves Groq's OpenAI-compatible chat API on
/// a socket (prints its URL) and sends each request through the keys of the environment or
/// --keys-file, failing over per --policy. The app changes only its base URL. Also /health,
/// /status, /metrics. Drains requests in flight on SIGINT, SIGTERM or SIGHUP.
#[derive(Parser)]
#[command(name = "keyrotor-proxy", version)]
struct Cli {
    #[command(flatten)]
    proxy: keyrotor_proxy::ProxyArgs,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match keyrotor_proxy::main(Cli::parse().proxy) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
