//! Wiring: the axum router over the mock's state, serving it on a socket, and the command
//! line shared by the `mock-groq` binary and `keyrotor mock`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::api_error::ApiError;
use crate::config::{Config, ConfigError};
use crate::state::Mock;
use crate::{admin, chat, models};

/// The mock as an `axum::Router`: serve it on a socket, or call it in-process with
/// `tower::ServiceExt::oneshot` (no socket).
pub fn router(config: Config) -> Result<Router, ConfigError> {
    Ok(app(config)?.0)
}

/// The router and the state behind it, for a caller that reads the state in-process (the
/// harness reads [`Mock::attribution`]).
pub fn app(config: Config) -> Result<(Router, Arc<Mock>), ConfigError> {
    let max_body = config.max_body_bytes;
    let mock = Arc::new(Mock::new(config)?);
    let profile = &mock.provider.profile;
    let router = Router::new()
        .route(&profile.chat_path, post(chat::completions))
        .route(&profile.models_path, get(models::list))
        .route("/admin/state", get(admin::state))
        .route("/admin/reset", post(admin::reset))
        .route("/admin/attribution", get(admin::attribution))
        .route("/metrics", get(admin::metrics))
        .route("/health", get(admin::health))
        .fallback(unknown_path)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(Arc::clone(&mock));
    Ok((router, mock))
}

async fn unknown_path(uri: Uri) -> Response {
    let err = ApiError::unknown_path(uri.path());
    chat::error_response_plain(&err)
}

/// Serves the mock on `listener` until `shutdown` completes; then waits at most two seconds
/// for requests in flight (a stalled request would otherwise hold it open).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = config.header_timeout;
    let app = router(config).map_err(std::io::Error::other)?;
    keyrotor_serve::serve_router(
        app,
        listener,
        header_timeout,
        Duration::from_secs(2),
        shutdown,
    )
    .await
}

/// Command-line options of the mock.
#[derive(Debug, Clone, clap::Args)]
pub struct MockArgs {
    /// The mock's TOML config: organisations, keys, limits, latency and faults
    /// (see mock-groq/config.example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address to listen on; port 0 picks a free port. The URL is printed on one line.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Make rate-limit windows pass N× faster than real time, 0.001 to 100000 (overrides
    /// the config).
    #[arg(long, value_name = "N")]
    pub time_scale: Option<f64>,
    /// Answer at once instead of simulating service time (overrides the config).
    #[arg(long)]
    pub no_latency: bool,
    /// Serve Groq's catalog as of this day (YYYY-MM-DD; overrides the config; default
    /// today): models decommissioned by then answer 404 `model_not_found`.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

/// Runs the mock from command-line options: loads the config, binds, prints
/// `http://IP:PORT` and serves until SIGINT, SIGTERM or SIGHUP (then finishes requests in flight).
pub async fn run(args: MockArgs) -> anyhow::Result<()> {
    let mut config = Config::from_file(&args.config)?;
    if let Some(scale) = args.time_scale {
        config.time_scale = scale;
    }
    if args.no_latency {
        config.latency.enabled = false;
    }
    if args.as_of.is_some() {
        config.as_of = args.as_of;
    }
    config.validate()?;
    let as_of = config.as_of();
    let groq = config.is_groq();
    if let Some(model) = crate::catalog::current()
        .model(&config.model)
        .filter(|_| groq)
    {
        let availability = model.availability(as_of);
        if availability != crate::catalog::Availability::Served {
            eprintln!(
                "warning: the default model {} is {availability} as of {as_of}: requests naming it get 404 model_not_found",
                config.model
            );
        }
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: the mock listens on {addr}, not a loopback address: anyone who can reach it can use its keys, read /admin/state and reset it"
        );
    }
    // Registered before the URL is printed: whoever got the URL can already stop the mock.
    let stop = keyrotor_serve::signals::stop_signal();
    // The URL for whoever started it; a closed stdout (a reader gone) must not stop the mock.
    let _ = writeln!(std::io::stdout(), "http://{addr}");
    tracing::info!(
        orgs = config.orgs.len(),
        keys = config.orgs.iter().map(|o| o.keys.len()).sum::<usize>(),
        time_scale = config.time_scale,
        %as_of,
        "mock-groq listening on http://{addr}"
    );
    serve(config, listener, async move {
        if let Some(name) = stop.await {
            eprintln!("{name}: shutting down, finishing requests in flight");
        }
    })
    .await
    .context("server failed")
}
