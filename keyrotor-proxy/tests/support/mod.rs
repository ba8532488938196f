//! What the proxy's tests share: servers on 127.0.0.1 with a free port that stop when
//! dropped (the mock, a scripted upstream, the proxy in process), and the requests they send.

#![allow(dead_code)] // each test file uses its own share of these.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser;
use keyrotor_proxy::{ProxyArgs, build, routes};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Stops its server when dropped.
pub struct Running {
    pub url: String,
    _stop: oneshot::Sender<()>,
}

pub async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    (listener, format!("http://{addr}"))
}

pub async fn serve(app: axum::Router) -> Running {
    let (listener, url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(keyrotor_serve::serve_router(
        app,
        listener,
        Duration::from_secs(5),
        Duration::from_secs(1),
        async {
            let _ = rx.await;
        },
    ));
    Running { url, _stop: tx }
}

pub async fn mock(toml: &str) -> Running {
    let config = mock_groq::Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    serve(mock_groq::router(config).unwrap_or_else(|e| panic!("{e}"))).await
}

/// Parses the proxy's flags, as the command line would.
#[derive(Parser)]
pub struct Cli {
    /// The proxy's flags.
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

/// A proxy in front of `upstream` with these keys (written to a key file) and extra flags.
pub async fn proxy(upstream: &str, keys: &[&str], flags: &[&str]) -> Running {
    proxy_with_env(upstream, keys, flags, |_: &str| None).await
}

pub async fn proxy_with_env(
    upstream: &str,
    keys: &[&str],
    flags: &[&str],
    env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> Running {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let n = FILES.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "keyrotor-proxy-test-{}-{n}.keys",
        std::process::id()
    ));
    std::fs::write(&path, keys.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    let path = path.display().to_string();
    let mut argv = vec!["proxy", "--upstream", upstream, "--keys-file", &path];
    argv.extend_from_slice(flags);
    let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
    let built = build(&cli.proxy, env).unwrap_or_else(|e| panic!("{e:#}"));
    let _ = std::fs::remove_file(&path);
    serve(routes::router(built, cli.proxy.max_body)).await
}

pub fn chat_body(stream: bool) -> Value {
    let mut body = json!({
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "Say hello in Portuguese."}],
        "max_tokens": 20,
    });
    if stream {
        body["stream"] = json!(true);
    }
    body
}

pub async fn post(url: &str, path: &str, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

pub async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap_or_else(|e| panic!("{e}"))
}

pub async fn get(url: &str, path: &str) -> reqwest::Response {
    reqwest::get(format!("{url}{path}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Starts the `keyrotor-proxy` binary with `args` and only the variables of `env`, its
/// stderr to `stderr`; returns it and the URL it printed.
pub fn start_binary(
    args: &[&str],
    env: &[(&str, &str)],
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_keyrotor-proxy"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line:?}");
    (child, url)
}
