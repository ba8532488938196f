//! The rotation engine in front of any app, whatever its language (`keyrotor proxy`, or the
//! `keyrotor-proxy` binary on its own). The app changes only its base URL; the proxy sends
//! each chat request through the [`keyrotor_engine::Rotor`] of the pool serving its model,
//! over the keys it was given (environment or file, never arguments), and passes the answer
//! on as it arrives.
//!
//! - [`setup`]: what it serves with, from its flags or [`config`] file and the secrets they
//!   name; [`reload`]: reading it again on SIGHUP or `POST /admin/reload`, key state kept;
//! - [`pools`]: the pools and routing by model; [`clients`]: client tokens and their limits;
//! - [`routes`]: the chat endpoint and how a give-up becomes an answer; [`pages`]: models,
//!   health, ready, status, metrics, admin reload;
//! - [`access`]: request ids and the one log line per chat request;
//! - [`prometheus`]: the Prometheus counters and histograms.

pub mod access;
pub mod clients;
pub mod config;
pub mod pages;
pub mod pools;
pub mod prometheus;
pub mod reload;
pub mod routes;
pub mod setup;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use humantime_serde::re::humantime;
use tokio::net::TcpListener;

use keyrotor_engine::PolicyConfig;
pub use keyrotor_engine::provider::ProviderName;
use keyrotor_engine::transport::Timeouts;

/// Command-line options of the proxy (`keyrotor proxy`, `keyrotor-proxy`).
#[derive(Debug, Clone, clap::Args)]
pub struct ProxyArgs {
    /// Address to listen on; port 0 picks a free port. The URL is printed on one line.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The API the keys belong to, as a base URL without its `/openai/v1` path.
    #[arg(long, value_name = "URL", default_value = "https://api.groq.com")]
    pub upstream: String,
    /// The rotation policy, e.g. `adaptive` or `cooldown:cooldown=30s` (the presets and their
    /// parameters: `keyrotor policies`, or docs/engine.md).
    #[arg(long, value_name = "POLICY", default_value = "adaptive")]
    pub policy: PolicyConfig,
    /// Which API's conventions the upstream follows: groq, openai, gemini, openrouter or
    /// cerebras (docs/providers.md).
    #[arg(long, value_name = "NAME", default_value = "groq", value_parser = provider_name)]
    pub provider: ProviderName,
    /// Read the keys from this file (`NAME=value` lines as in a .env file, or one key per
    /// line) instead of the environment (GROQ_API_KEY, GROQ_API_KEY_2…, GROQ_API_KEY1…,
    /// GROQ_API_KEYS, GROQ_API_KEY_BACKUP, GROQ_API_KEY_FALLBACK).
    #[arg(long, value_name = "FILE")]
    pub keys_file: Option<PathBuf>,
    /// Name of an environment variable holding a token clients must send as
    /// `Authorization: Bearer <token>`. Without it any client is served, so the proxy listens
    /// only on loopback unless --public is given.
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Listen on a non-loopback address even without --token-env (anyone who reaches it can
    /// spend the keys).
    #[arg(long)]
    pub public: bool,
    /// Longest a request may take in all, waits and failovers included (e.g. 60s; 1ms to
    /// 1h).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = deadline)]
    pub deadline: humantime::Duration,
    /// Longest one attempt may take, a stream to its last byte (e.g. 120s).
    #[arg(long, value_name = "DURATION", default_value = "120s")]
    pub attempt_timeout: humantime::Duration,
    /// On SIGINT or SIGTERM, how long requests in flight may take to finish.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub drain: humantime::Duration,
    /// Threads serving requests (1 to 256). One thread answers tens of thousands of requests
    /// a second, far beyond what a pool of Groq keys admits, with less latency than several.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
    /// Never let the serving threads sleep: each keeps checking for I/O without waiting, so
    /// a request finds it awake instead of waking it. For a proxy on cores of its own, above
    /// all on a VM, where waking a sleeping core takes tens of microseconds; it costs those
    /// cores whole, idle or not (as HAProxy's `busy-polling`).
    #[arg(long)]
    pub busy_poll: bool,
    /// Largest request body accepted, in bytes (1 KiB to 64 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_body: u64,
    /// Where key state lives: `local` (this process), `redis://host:port[/db]` or
    /// `redis+unix:///path/to/redis.sock` (shared by every proxy replica given the same
    /// server and --pool-id; the socket spares replicas on Redis's host the TCP stack), or
    /// `env:NAME` for a Redis URL with a password, read from that environment variable.
    #[arg(long, value_name = "STATE", default_value = "local")]
    pub state: String,
    /// Names the shared pool in the store (1 to 64 of A-Z a-z 0-9 _ . -): replicas with the
    /// same id share key state; several pools can share one Redis.
    #[arg(long, value_name = "ID", default_value = "default")]
    pub pool_id: String,
    /// When the shared store fails: `fail-open` serves from this replica's own state (and
    /// says so in /status and the logs), `fail-closed` refuses requests with a 503.
    #[arg(long, value_name = "MODE", default_value = "fail-open")]
    pub on_state_error: keyrotor_engine::OnStoreError,
    /// Longest a call to the shared store may take before it counts as failed (1ms to 10s).
    #[arg(long, value_name = "DURATION", default_value = "100ms")]
    pub state_timeout: humantime::Duration,
    /// Log lines as text or as one JSON object each (`json`, for a log collector). Logs go
    /// to stderr at RUST_LOG's levels (default warn); `RUST_LOG=info` adds a line per chat
    /// request with its request id and each attempt's key fingerprint, outcome and time.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: keyrotor_serve::process::LogFormat,
    /// Read the pools and the clients from a TOML file (see the guide, docs/proxy.md):
    /// listen address; pools, each with its upstream, provider, policy, deadline, the
    /// models it serves (a request's model picks its pool) and its keys (keys_env or
    /// keys_file); clients, each with its own token (token_env or token_file) and optional
    /// RPM/TPM limits; an [admin] token. Replaces the flags it covers. Read again, with the
    /// key files, on SIGHUP or POST /admin/reload.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "upstream", "policy", "provider", "keys_file", "token_env", "deadline",
    ])]
    pub config: Option<PathBuf>,
    /// Name of an environment variable holding the token `POST /admin/reload` wants (as
    /// `Authorization: Bearer <token>`); a config file's [admin] takes precedence. Without
    /// either, only SIGHUP reloads.
    #[arg(long, value_name = "NAME")]
    pub admin_token_env: Option<String>,
}

/// `--provider`: one of [`ProviderName::ALL`].
fn provider_name(text: &str) -> Result<ProviderName, String> {
    text.parse()
}

/// `--deadline`: 1 ms to 1 h (0 would answer every request 504).
fn deadline(text: &str) -> Result<humantime::Duration, String> {
    let d: humantime::Duration = text.parse().map_err(|e| format!("{e}"))?;
    let range = Duration::from_millis(1)..=Duration::from_secs(3600);
    if range.contains(&d.into()) {
        Ok(d)
    } else {
        Err(format!("from 1ms to 1h, got {text}"))
    }
}

/// A lookup of environment variables (the process's, or a test's).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Builds the proxy's state from its options (and config file) and the environment `env`,
/// which reloads read again.
pub fn build(
    args: &ProxyArgs,
    env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> anyhow::Result<Arc<routes::Proxy>> {
    Ok(build_listening(args, Arc::new(env))?.0)
}

/// The proxy's state and the address it listens on (the config file's, or the flag's).
fn build_listening(
    args: &ProxyArgs,
    env: reload::SharedEnv,
) -> anyhow::Result<(Arc<routes::Proxy>, SocketAddr)> {
    let (live, listen) = reload::Live::start(args.clone(), env)?;
    Ok((routes::Proxy::new(live, args.timeouts())?, listen))
}

impl ProxyArgs {
    /// An attempt's timeouts upstream: 5 s to connect, `--attempt-timeout` for the answer.
    pub(crate) fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            request: self.attempt_timeout.into(),
        }
    }
}

/// Runs the proxy on a runtime of `--threads` threads.
pub fn main(args: ProxyArgs) -> anyhow::Result<()> {
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(n))
            .enable_all()
            .build()?,
    };
    runtime.block_on(run(args))
}

/// Keeps `threads` of the runtime's threads polling until dropped: a task that always
/// yields leaves tokio's scheduler work to do, so it checks for I/O with a zero timeout
/// instead of sleeping in `epoll_wait`. (On a multi-threaded runtime two spinners may share
/// a thread and leave another free to sleep.)
fn busy_poll(threads: u16) -> tokio::task::JoinSet<()> {
    let mut spinners = tokio::task::JoinSet::new();
    for _ in 0..threads {
        spinners.spawn(async {
            loop {
                tokio::task::yield_now().await;
            }
        });
    }
    spinners
}

/// Binds, prints `http://IP:PORT`, serves until SIGINT or SIGTERM, then drains requests in
/// flight; reloads on SIGHUP.
pub async fn run(args: ProxyArgs) -> anyhow::Result<()> {
    let env: reload::SharedEnv = Arc::new(|name: &str| std::env::var(name).ok());
    let (proxy, listen) = build_listening(&args, env)?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    // Registered before the URL is printed: whoever got the URL can already stop the proxy,
    // or reload it.
    let stop = shutdown_signal();
    reload_on_hangup(Arc::clone(&proxy));
    // The URL for whoever started it; a closed stdout (a reader gone) must not stop a proxy.
    let _ = writeln!(std::io::stdout(), "http://{addr}");
    let served = proxy.live.now();
    for pool in served.pools.iter() {
        tracing::info!(pool = %pool.name, keys = pool.rotor.keys().len(), policy = pool.rotor.policy().name(), "pool ready");
    }
    tracing::info!("keyrotor proxy listening on http://{addr}");
    drop(served);
    let app = routes::router(proxy, args.max_body);
    let _spinners = args.busy_poll.then(|| busy_poll(args.threads));
    keyrotor_serve::serve_router(
        app,
        listener,
        Duration::from_secs(10),
        args.drain.into(),
        stop,
    )
    .await
    .context("server failed")
}

/// The service's stop signals (SIGINT, SIGTERM: [`keyrotor_serve::signals::service_stop`]),
/// registered at once and said when one comes.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let stop = keyrotor_serve::signals::service_stop();
    async move {
        if let Some(name) = stop.await {
            eprintln!("{name}: shutting down, finishing requests in flight");
        }
    }
}

/// Reloads on every SIGHUP while the proxy runs ([`reload`]).
fn reload_on_hangup(proxy: Arc<routes::Proxy>) {
    let Some(mut hangups) = keyrotor_serve::signals::hangups() else {
        tracing::warn!("cannot listen for SIGHUP: reload with POST /admin/reload");
        return;
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let reloading = Arc::clone(&proxy);
            // The outcome is logged and kept for /status and /metrics by the reload itself.
            let _ = tokio::task::spawn_blocking(move || reloading.live.reload()).await;
        }
    });
}
