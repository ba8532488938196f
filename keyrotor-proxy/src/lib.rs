//! The rotation engine in front of any app, whatever its language (`keyrotor proxy`, or the
//! `keyrotor-proxy` binary on its own). The app changes only its base URL; the proxy sends each chat request through one [`Rotor`] over
//! the keys it was given (environment or file, never arguments) and passes the answer on as
//! it arrives.
//!
//! - [`routes`]: the HTTP surface (chat, models, health, ready, status, metrics) and how a
//!   give-up becomes an answer;
//! - [`access`]: request ids and the one log line per chat request;
//! - [`prometheus`]: the Prometheus counters and histograms.

pub mod access;
pub mod clients;
pub mod config;
pub mod prometheus;
pub mod routes;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use humantime_serde::re::humantime;
use tokio::net::TcpListener;

use keyrotor_engine::keys::{self, LoadedKeys};
use keyrotor_engine::transport::{HttpTransport, Timeouts};
use keyrotor_engine::{Groq, OpenAi, PolicyConfig, Provider, Rotor, RotorOptions};

/// Which API the keys belong to: how its answers read, where its chat endpoint is and which
/// environment variable holds its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderName {
    /// Groq (`/openai/v1/chat/completions`, `GROQ_API_KEY`…).
    Groq,
    /// OpenAI-style headers and paths (`/v1/chat/completions`, `OPENAI_API_KEY`…).
    Openai,
}

impl ProviderName {
    fn provider(self) -> Box<dyn Provider> {
        match self {
            Self::Groq => Box::new(Groq),
            Self::Openai => Box::new(OpenAi),
        }
    }
}

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
    /// Which API's conventions the upstream follows.
    #[arg(long, value_enum, default_value = "groq")]
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
    /// Read the pool and the clients from a TOML file (see the guide, docs/proxy.md):
    /// listen address, upstream, provider, policy, deadline, the models served, the keys
    /// (keys_env or keys_file) and several clients, each with its own token (token_env or
    /// token_file) and optional RPM/TPM limits. Replaces the flags it covers.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "upstream", "policy", "provider", "keys_file", "token_env", "deadline",
    ])]
    pub config: Option<PathBuf>,
}

/// What the proxy runs with: the flags, with a config file's values over them.
struct Settings {
    args: ProxyArgs,
    /// The variable holding the keys, when not the provider's own.
    keys_env: Option<String>,
    clients: Vec<clients::ClientSpec>,
    models: Vec<String>,
}

impl Settings {
    /// The flags alone, or the config file's values over them.
    fn of(args: &ProxyArgs, env: Env<'_>) -> anyhow::Result<Self> {
        let mut settings = Settings {
            args: args.clone(),
            keys_env: None,
            clients: Vec::new(),
            models: Vec::new(),
        };
        let Some(path) = &args.config else {
            settings.clients = load_token(args, env)?
                .into_iter()
                .map(|token| clients::ClientSpec {
                    name: "default".into(),
                    token,
                    rpm: None,
                    tpm: None,
                })
                .collect();
            return Ok(settings);
        };
        let config = config::ProxyConfig::load(path)?;
        let inside = |e: anyhow::Error| e.context(format!("{}", path.display()));
        settings.clients = config.client_specs(env).map_err(inside)?;
        let a = &mut settings.args;
        if let Some(listen) = config.listen {
            a.listen = listen;
        }
        if settings.clients.is_empty() && !a.listen.ip().is_loopback() && !a.public {
            anyhow::bail!(
                "{}: refusing to listen on {} without a [[client]]: anyone who reaches it could spend the keys (add --public to do it anyway)",
                path.display(),
                a.listen
            );
        }
        // One pool, checked on load.
        if let Some(pool) = config.pools.into_iter().next() {
            a.upstream = pool.upstream;
            a.provider = pool.provider.into();
            a.policy = pool
                .policy
                .parse()
                .map_err(|e| anyhow::anyhow!("{}: pool policy: {e}", path.display()))?;
            if let Some(deadline) = pool.deadline {
                a.deadline = deadline.into();
            }
            a.keys_file = pool.keys_file;
            settings.keys_env = pool.keys_env;
            settings.models = pool.models;
        }
        Ok(settings)
    }
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

/// The keys named by the options: the file's, or the environment's under the provider's
/// variable (or the config's `keys_env`).
fn load_keys(settings: &Settings, env: Env<'_>) -> anyhow::Result<LoadedKeys> {
    let args = &settings.args;
    let loaded = match &args.keys_file {
        Some(path) => keys::from_file_named(path, args.provider.provider().key_variable())?,
        None => {
            let own = args.provider.provider().key_variable();
            let base = settings.keys_env.as_deref().unwrap_or(own);
            let loaded = keys::from_vars_named(base, env);
            if loaded.keys.is_empty() {
                anyhow::bail!(
                    "no API keys found in the environment (set {base}, {base}_2…, {base}1…, or {base}S) or --keys-file"
                );
            }
            loaded
        }
    };
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded)
}

/// The client token, read from the variable `--token-env` names.
fn load_token(args: &ProxyArgs, env: Env<'_>) -> anyhow::Result<Option<String>> {
    let Some(name) = &args.token_env else {
        if !args.listen.ip().is_loopback() && !args.public {
            anyhow::bail!(
                "refusing to listen on {} without --token-env: anyone who reaches it could spend the keys (add --public to do it anyway)",
                args.listen
            );
        }
        eprintln!(
            "warning: no --token-env: any client that reaches {} is served with these keys",
            args.listen
        );
        return Ok(None);
    };
    let token = env(name).with_context(|| format!("--token-env {name}: not set"))?;
    if token.trim().is_empty() {
        anyhow::bail!("--token-env {name}: the variable is empty");
    }
    groq_wire::secret::remember(&token);
    Ok(Some(token))
}

/// Builds the proxy's state from its options (and config file) and the environment.
pub fn build(args: &ProxyArgs, env: Env<'_>) -> anyhow::Result<Arc<routes::Proxy>> {
    build_from(Settings::of(args, env)?, env)
}

/// Builds the proxy's state from its settings.
fn build_from(settings: Settings, env: Env<'_>) -> anyhow::Result<Arc<routes::Proxy>> {
    let keys = load_keys(&settings, env)?.keys;
    let args = &settings.args;
    let provider = args.provider.provider();
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: args.attempt_timeout.into(),
    };
    let transport = HttpTransport::streaming(&args.upstream, provider.chat_path(), timeouts)
        .with_context(|| format!("--upstream {}", args.upstream))?;
    let options = RotorOptions {
        deadline: args.deadline.into(),
        ..RotorOptions::default()
    };
    let rotor = match args.provider {
        ProviderName::Groq => {
            Rotor::for_provider(keys, args.policy.clone(), transport, options, Groq)
        }
        ProviderName::Openai => {
            Rotor::for_provider(keys, args.policy.clone(), transport, options, OpenAi)
        }
    }?;
    let rotor = match args.state.as_str() {
        "local" => rotor,
        spec => {
            let url = keyrotor_engine::store::redis_url(spec, env).context("--state")?;
            let store =
                keyrotor_engine::RedisStore::open(&url, &args.pool_id, args.state_timeout.into())
                    .context("--state")?;
            tracing::info!(store = ?store, pool = %args.pool_id, "key state shared on Redis");
            rotor.with_store(Arc::new(store), args.on_state_error)?
        }
    };
    let models_url = format!(
        "{}{}",
        args.upstream.trim_end_matches('/'),
        provider.chat_path().replace("/chat/completions", "/models")
    );
    let clients = clients::Clients::new(settings.clients).map_err(anyhow::Error::msg)?;
    routes::Proxy::new(rotor, clients, settings.models, &models_url, timeouts)
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
/// flight.
pub async fn run(args: ProxyArgs) -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    // The config file's values over the flags, read once.
    let settings = Settings::of(&args, &env)?;
    let args = settings.args.clone();
    let proxy = build_from(settings, &env)?;
    let listen = args.listen;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    // Registered before the URL is printed: whoever got the URL can already stop the proxy.
    let stop = shutdown_signal();
    // The URL for whoever started it; a closed stdout (a reader gone) must not stop a proxy.
    let _ = writeln!(std::io::stdout(), "http://{addr}");
    let keys = proxy.rotor.keys().len();
    tracing::info!(keys, policy = proxy.rotor.policy().name(), upstream = %args.upstream, "keyrotor proxy listening on http://{addr}");
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

/// The stop signals (SIGINT, SIGTERM, SIGHUP: [`keyrotor_serve::signals`]), registered at once
/// and said when one comes.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let stop = keyrotor_serve::signals::stop_signal();
    async move {
        if let Some(name) = stop.await {
            eprintln!("{name}: shutting down, finishing requests in flight");
        }
    }
}
