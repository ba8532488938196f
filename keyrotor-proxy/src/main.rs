//! The `keyrotor-proxy` binary: the proxy alone, for a deployment that needs nothing else of
//! keyrotor (`keyrotor proxy` runs the same code).

use std::process::ExitCode;

use clap::Parser;
use keyrotor_serve::process;

/// Puts the rotation engine in front of any app: serves Groq's OpenAI-compatible chat API on
/// a socket (prints its URL) and sends each request through the keys of the environment or
/// --keys-file (or several pools, routed by model, with --config), failing over per
/// --policy. The app changes only its base URL. Also /health (liveness), /ready
/// (readiness), /status, /metrics. Reads its key files and config again on SIGHUP (or POST
/// /admin/reload); drains requests in flight on SIGINT or SIGTERM.
#[derive(Parser)]
#[command(name = "keyrotor-proxy", version)]
struct Cli {
    #[command(flatten)]
    proxy: keyrotor_proxy::ProxyArgs,
}

fn main() -> ExitCode {
    let cli = process::parse_args::<Cli>();
    process::init_logs(tracing::Level::WARN, cli.proxy.log_format);
    match keyrotor_proxy::main(cli.proxy) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => process::fail(&err),
    }
}
