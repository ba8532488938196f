//! The proxy over loopback: a stream reaches the client before the upstream has
//! finished it; a limited key fails over unseen; a pool with every key out answers Groq's 429
//! with a truthful `retry-after`; the upstream's own errors pass through; the token guard;
//! /health, /ready, /status and /metrics show fingerprints, never keys. Every server here (mock,
//! scripted upstream, proxy) runs on 127.0.0.1 with a free port and stops with the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use clap::Parser;
use futures_util::StreamExt;
use keyrotor_proxy::{build, routes};
use serde_json::{Value, json};
use tokio::sync::Notify;

mod support;
use support::{Cli, Running, chat_body, get, mock, post, proxy, proxy_with_env, serve, text};

// The engine's `redis-server` for tests (one helper, not a copy).
#[path = "../../keyrotor-engine/tests/support/redis.rs"]
mod redis_support;

/// An upstream whose stream sends its first event at once and the rest only when told.
fn held_stream_upstream(release: Arc<Notify>) -> axum::Router {
    axum::Router::new().route(
        "/openai/v1/chat/completions",
        axum::routing::post(move || {
            let release = release.clone();
            async move {
                let first = futures_util::stream::once(async {
                    Ok::<_, std::io::Error>(Bytes::from_static(
                        b"data: {\"choices\":[{\"delta\":{\"content\":\"Ola\"}}]}\n\n",
                    ))
                });
                let rest = futures_util::stream::once(async move {
                    release.notified().await;
                    Ok(Bytes::from_static(b"data: [DONE]\n\n"))
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(first.chain(rest)))
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reaches_the_client_before_the_upstream_has_finished_it() {
    let release = Arc::new(Notify::new());
    let upstream = serve(held_stream_upstream(release.clone())).await;
    let proxy = proxy(&upstream.url, &["gsk_stream_1"], &[]).await;
    let response = post(&proxy.url, "/v1/chat/completions", "any", &chat_body(true)).await;
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the first event did not arrive while the upstream held the rest: the proxy buffers"
            )
        })
        .and_then(Result::ok)
        .unwrap_or_default();
    assert!(first.starts_with(b"data: {\"choices\""), "{first:?}");
    release.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = body.next().await {
        rest.extend_from_slice(&chunk.unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(rest, b"data: [DONE]\n\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_key_fails_over_unseen_and_an_empty_pool_says_when_to_come_back() {
    let (_upstream, proxy) = spent_day_and_sixty_a_minute().await;
    let path = "/openai/v1/chat/completions";

    let first = post(&proxy.url, path, "placeholder", &chat_body(false)).await;
    assert_eq!(
        first.status(),
        200,
        "the daily 429 on the first key failed over"
    );
    let attempts = first.headers().get("x-keyrotor-attempts").cloned();
    assert_eq!(attempts.as_ref().and_then(|v| v.to_str().ok()), Some("2"));
    let remaining = first
        .headers()
        .get("x-ratelimit-remaining-requests")
        .cloned();
    let answer: Value = serde_json::from_str(&text(first).await).unwrap_or_default();
    assert!(
        answer["choices"][0]["message"]["content"].is_string(),
        "{answer}"
    );
    // The pool's daily requests left: the spent org's 0 plus the other's, not one key's.
    let remaining: u64 = remaining
        .and_then(|v| v.to_str().ok().and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| panic!("no pool remaining-requests header"));
    assert!(remaining > 0, "{remaining}");

    let second = post(&proxy.url, path, "placeholder", &chat_body(true)).await;
    assert_eq!(second.status(), 200);
    let stream = text(second).await;
    assert!(stream.trim_end().ends_with("data: [DONE]"), "{stream}");

    // Spend org_ok's minute: then Groq's 429 for the pool, with the earliest key's return
    // (one request refills in a second) as retry-after. At most 100 requests.
    let mut answered = 2;
    let limited = loop {
        let response = post(&proxy.url, path, "placeholder", &chat_body(false)).await;
        if response.status() != 200 || answered >= 100 {
            break response;
        }
        answered += 1;
    };
    assert_eq!(limited.status(), 429, "after {answered} answers");
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or_else(|| panic!("no retry-after on the pool's 429"));
    assert!((1..=2).contains(&retry_after), "retry-after {retry_after}");
    let error: Value = serde_json::from_str(&text(limited).await).unwrap_or_default();
    assert_eq!(error["error"]["code"], "rate_limit_exceeded", "{error}");
    assert_eq!(error["error"]["type"], "requests", "{error}");

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let after = post(&proxy.url, path, "placeholder", &chat_body(false)).await;
    let after_status = after.status();
    assert_eq!(
        after_status,
        200,
        "{retry_after} s later: {}",
        text(after).await
    );
    answered += 1;

    let health: Value =
        serde_json::from_str(&text(get(&proxy.url, "/health").await).await).unwrap_or_default();
    assert_eq!(health["pools"][0]["keys"], 2, "{health}");
    assert_eq!(
        health["pools"][0]["key_states"][0]["state"], "exhausted",
        "{health}"
    );
    let status = text(get(&proxy.url, "/status").await).await;
    let metrics = text(get(&proxy.url, "/metrics").await).await;
    for shown in [&status, &metrics, &health.to_string()] {
        assert!(!shown.contains("gsk_sdk"), "a key leaked: {shown}");
    }
    let fingerprint = mock_groq::fingerprint("gsk_sdk_out");
    assert!(
        metrics.contains(&format!(
            "keyrotor_key_failures_total{{pool=\"default\",key=\"{fingerprint}\",org=\"0\",reason=\"rate_limited_day\"}} 1"
        )),
        "{metrics}"
    );
    let answered_line = format!("keyrotor_proxy_requests_total{{outcome=\"answered\"}} {answered}");
    assert!(
        metrics.contains(&answered_line),
        "{answered_line} in {metrics}"
    );
    assert!(
        metrics.contains("keyrotor_proxy_requests_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    let count = format!(
        "keyrotor_proxy_request_duration_seconds_count {}",
        answered + 1
    );
    assert!(metrics.contains(&count), "{count} in {metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstreams_own_errors_pass_through_and_the_token_guards() {
    let upstream =
        mock("[latency]\nenabled = false\n[[orgs]]\nid = \"org_a\"\nkeys = [\"gsk_pass_1\"]\n")
            .await;
    let env = |name: &str| (name == "PROXY_TOKEN").then(|| "let-me-in".to_owned());
    let proxy = proxy_with_env(
        &upstream.url,
        &["gsk_pass_1"],
        &["--token-env", "PROXY_TOKEN"],
        env,
    )
    .await;
    let path = "/openai/v1/chat/completions";

    let refused = post(&proxy.url, path, "wrong", &chat_body(false)).await;
    assert_eq!(refused.status(), 401);
    let allowed = post(&proxy.url, path, "let-me-in", &chat_body(false)).await;
    assert_eq!(allowed.status(), 200);

    let mut retired = chat_body(false);
    retired["model"] = json!("no-such-model");
    let not_found = post(&proxy.url, path, "let-me-in", &retired).await;
    assert_eq!(not_found.status(), 404, "Groq's 404 is the client's to see");
    let error: Value = serde_json::from_str(&text(not_found).await).unwrap_or_default();
    assert_eq!(error["error"]["code"], "model_not_found", "{error}");

    let garbage = reqwest::Client::new()
        .post(format!("{}{path}", proxy.url))
        .bearer_auth("let-me-in")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(garbage.status(), 400);

    let models = reqwest::Client::new()
        .get(format!("{}/openai/v1/models", proxy.url))
        .bearer_auth("let-me-in")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(models.status(), 200);
    let list: Value = serde_json::from_str(&text(models).await).unwrap_or_default();
    assert!(
        list["data"].as_array().is_some_and(|d| !d.is_empty()),
        "{list}"
    );
}

/// A web page cannot spend the keys (a `text/plain` POST, which a browser sends cross-site
/// without a preflight, is refused before any key is used); `/status` is the operator's
/// when a token is set; a pool whose every key the upstream refused says so with a status
/// SDKs do not retry; `--deadline 0s` is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_spends_a_key_status_wants_the_token_and_refused_keys_are_not_a_rate_limit() {
    let upstream =
        mock("[latency]\nenabled = false\n[[orgs]]\nid = \"org_a\"\nkeys = [\"gsk_page_1\"]\n")
            .await;
    let env = |name: &str| (name == "PROXY_TOKEN").then(|| "let-me-in".to_owned());
    let guarded = proxy_with_env(
        &upstream.url,
        &["gsk_page_1"],
        &["--token-env", "PROXY_TOKEN"],
        env,
    )
    .await;
    let open = proxy(&upstream.url, &["gsk_page_1"], &[]).await;
    let path = "/openai/v1/chat/completions";
    let calls = || async {
        let state: Value = get(&upstream.url, "/admin/state")
            .await
            .json()
            .await
            .unwrap_or_default();
        state["orgs"][0]["keys"][0]["requests"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = calls().await;
    let text_plain = |origin: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", open.url))
            .header("content-type", "text/plain")
            .body(chat_body(false).to_string());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move { request.send().await.unwrap_or_else(|e| panic!("{e}")) }
    };
    // A page's cross-site POST names its origin: refused before any route.
    let page = text_plain(Some("http://evil.example")).await;
    assert_eq!(page.status(), 403);
    assert!(text(page).await.contains("foreign_request"));
    // Without an origin (a page whose browser hides it, or any program): not JSON, refused.
    assert_eq!(text_plain(None).await.status(), 415);
    assert_eq!(calls().await, before, "no key was spent");
    let json = post(&open.url, path, "x", &chat_body(false)).await;
    assert_eq!(json.status(), 200);
    assert_eq!(calls().await, before + 1, "a JSON request is served");
    assert!(
        json.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|id| id.starts_with("kr-")),
        "the proxy's own request id: {:?}",
        json.headers()
    );
    let named = reqwest::Client::new()
        .post(format!("{}{path}", open.url))
        .header("x-request-id", "app-req-42")
        .json(&chat_body(false))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        named.headers().get("x-request-id"),
        Some(&"app-req-42".parse().unwrap_or_else(|e| panic!("{e}")))
    );
    assert_eq!(get(&open.url, "/ready").await.status(), 200);

    assert_eq!(get(&guarded.url, "/status").await.status(), 401);
    let with_token = reqwest::Client::new()
        .get(format!("{}/status", guarded.url))
        .bearer_auth("let-me-in")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(with_token.status(), 200);

    // Keys the upstream does not know: the adaptive policy disables each on its 401.
    let refused = proxy(&upstream.url, &["gsk_unknown_1", "gsk_unknown_2"], &[]).await;
    for _ in 0..2 {
        let answer = post(&refused.url, path, "x", &chat_body(false)).await;
        assert_eq!(answer.status(), 403, "not a 429 an SDK would retry forever");
        assert!(answer.headers().get("retry-after").is_none());
        let said = text(answer).await;
        assert!(
            said.contains("every key of this pool (2 keys) was refused"),
            "{said}"
        );
    }
    // Every key disabled: not ready (send the traffic elsewhere), yet alive (a restart would
    // not bring a revoked key back).
    let ready = get(&refused.url, "/ready").await;
    assert_eq!(ready.status(), 503);
    assert!(text(ready).await.contains("every key is disabled"));
    let health = get(&refused.url, "/health").await;
    assert_eq!(health.status(), 200);
    assert!(text(health).await.contains("\"down\""));

    let zero = Cli::try_parse_from(["proxy", "--deadline", "0s"]);
    assert!(zero.is_err_and(|e| e.to_string().contains("from 1ms to 1h")));
}

/// An upstream 2xx that is no completion (HTML, an empty body, JSON cut off) is a failure:
/// the proxy tries the other keys and, when every one answers so, says so in a 502; never a
/// 2xx the app would take for an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_2xx_without_a_completion_is_never_passed_on_as_a_success() {
    for (kind, body) in [
        ("text/html", "<html>maintenance</html>"),
        ("application/json", ""),
        (
            "application/json",
            "{\"id\":\"chatcmpl-1\",\"choices\":[{\"mess",
        ),
    ] {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let upstream = serve(axum::Router::new().route(
            "/openai/v1/chat/completions",
            axum::routing::post(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                async move {
                    Response::builder()
                        .status(200)
                        .header("content-type", kind)
                        .body(Body::from(body))
                        .unwrap_or_default()
                }
            }),
        ))
        .await;
        let proxy = proxy(
            &upstream.url,
            &["gsk_html_1", "gsk_html_2"],
            &["--policy", "round-robin"],
        )
        .await;
        let answer = post(
            &proxy.url,
            "/openai/v1/chat/completions",
            "x",
            &chat_body(false),
        )
        .await;
        assert_eq!(answer.status(), 502, "{kind} {body:?}");
        let said = text(answer).await;
        assert!(
            said.contains("no completion") && said.contains(kind),
            "{said}"
        );
        assert_eq!(calls.load(Ordering::Relaxed), 2, "both keys were tried");
    }
}

#[test]
fn the_command_refuses_a_public_address_without_a_token_and_keys_on_the_command_line() {
    let bin = env!("CARGO_BIN_EXE_keyrotor-proxy");
    let out = std::process::Command::new(bin)
        .args(["--listen", "0.0.0.0:0", "--upstream", "http://127.0.0.1:9"])
        .env("GROQ_API_KEY", "gsk_cli_1")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without --token-env"), "{stderr}");
    let out = std::process::Command::new(bin)
        .args(["--key", "gsk_cli_1"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success(), "there is no flag that takes a key");
    let out = std::process::Command::new(bin)
        .args(["--upstream", "http://127.0.0.1:9"])
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("no API keys"),
        "{stderr}"
    );
}

/// Two keys: the first one's organisation spent its day at the start, the second may send 60
/// requests a minute (a burst of 60, then one a second); the adaptive policy waits at most
/// 500 ms. The SDK scripts expect this set-up too.
async fn spent_day_and_sixty_a_minute() -> (Running, Running) {
    let upstream = spent_day_mock().await;
    let proxy = proxy(
        &upstream.url,
        &["gsk_sdk_out", "gsk_sdk_ok"],
        &["--deadline", "500ms"],
    )
    .await;
    (upstream, proxy)
}

/// The mock of [`spent_day_and_sixty_a_minute`]: `gsk_sdk_out`'s organisation spent its
/// day at the start; `gsk_sdk_ok`'s may send 60 requests a minute.
async fn spent_day_mock() -> Running {
    mock(
        r#"
[latency]
enabled = false
[[orgs]]
id = "org_out"
keys = ["gsk_sdk_out"]
[[orgs]]
id = "org_ok"
keys = ["gsk_sdk_ok"]
limits = { rpm = 60 }
[[events]]
kind = "exhaust_daily"
org = "org_out"
at = "0s"
"#,
    )
    .await
}

/// Runs an SDK check script against `proxy_url`, killed after two minutes; its output.
async fn run_script(program: String, script: &'static str, proxy_url: String) -> String {
    run_script_with(program, script, vec![("PROXY_URL", proxy_url)]).await
}

/// Runs an SDK check script with `env` set, killed after two minutes; its output.
async fn run_script_with(
    program: String,
    script: &'static str,
    env: Vec<(&'static str, String)>,
) -> String {
    let outcome = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(&program)
            .arg(script)
            .envs(env)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("cannot run {program} ({e}): run scripts/test.sh, which installs it")
            })?;
        let limit = std::time::Instant::now() + Duration::from_secs(120);
        while child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if std::time::Instant::now() > limit {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    outcome.unwrap_or_else(|why| {
        panic!("{script} failed (SDKs missing? scripts/test.sh installs them):\n{why}")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdks_fail_over_stream_and_retry_through_the_proxy() {
    let (_upstream, proxy) = spent_day_and_sixty_a_minute().await;
    let python = std::env::var("KEYROTOR_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/check_proxy.py");
    let output = run_script(python, script, proxy.url.clone()).await;
    assert!(
        output.contains("ok   groq retries after retry-after"),
        "{output}"
    );
    assert!(
        output.contains("ok   failover took two attempts"),
        "{output}"
    );
}

/// The other providers' official SDKs through the proxy, each on its provider's own path:
/// the openai SDK on Gemini's and OpenRouter's, cerebras-cloud-sdk on Cerebras's. Gemini and
/// Cerebras keys fail over from a scope whose day is spent and, once every scope is out, the
/// SDK raises its own RateLimitError with a `retry-after`; OpenRouter's two keys of one account
/// share its minute, and the account's 429 costs one upstream attempt, not one per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_providers_official_sdks_fail_over_and_see_their_429s_through_the_proxy() {
    let spent_then_three = |provider: &str, model: &str, out: &str, ok: &str| {
        format!(
            "provider = \"{provider}\"\nmodels = [\"{model}\"]\n[latency]\nenabled = false\n\
             [[orgs]]\nid = \"scope_out\"\nkeys = [\"{out}\"]\nlimits = {{ rpd = 100 }}\n\
             [[orgs]]\nid = \"scope_ok\"\nkeys = [\"{ok}\"]\nlimits = {{ rpm = 3 }}\n\
             [[events]]\nkind = \"exhaust_daily\"\norg = \"scope_out\"\nat = \"0s\"\n"
        )
    };
    let gemini_up = mock(&spent_then_three(
        "gemini",
        "gemini-2.5-flash",
        "g-out",
        "g-ok",
    ))
    .await;
    let cerebras_up = mock(&spent_then_three(
        "cerebras",
        "gpt-oss-120b",
        "c-out",
        "c-ok",
    ))
    .await;
    let router_up = mock(
        "provider = \"openrouter\"\nmodels = [\"meta-llama/llama-3.3-70b-instruct:free\"]\n\
         [latency]\nenabled = false\n[[orgs]]\nid = \"account\"\nkeys = [\"o-one\", \"o-two\"]\n\
         limits = { rpm = 2, rpd = 0 }\n",
    )
    .await;
    let deadline = ["--deadline", "500ms"];
    let with = |provider: &'static str| ["--provider", provider, deadline[0], deadline[1]];
    let gemini = proxy(&gemini_up.url, &["g-out", "g-ok"], &with("gemini")).await;
    let cerebras = proxy(&cerebras_up.url, &["c-out", "c-ok"], &with("cerebras")).await;
    let router = proxy(&router_up.url, &["o-one", "o-two"], &with("openrouter")).await;
    let python = std::env::var("KEYROTOR_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/check_providers.py");
    let env = vec![
        ("GEMINI_URL", gemini.url.clone()),
        ("CEREBRAS_URL", cerebras.url.clone()),
        ("OPENROUTER_URL", router.url.clone()),
    ];
    let output = run_script_with(python, script, env).await;
    for provider in ["gemini", "cerebras"] {
        assert!(
            output.contains(&format!("ok   {provider}: failover took two attempts")),
            "{output}"
        );
        assert!(
            output.contains(&format!("ok   {provider}: 429 says when to come back")),
            "{output}"
        );
    }
    assert!(
        output.contains("ok   openrouter: one upstream 429, not one per key"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_groq_node_sdk_fails_over_streams_and_retries_through_the_proxy() {
    let (_upstream, proxy) = spent_day_and_sixty_a_minute().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/check_proxy.mjs");
    let output = run_script("node".to_owned(), script, proxy.url.clone()).await;
    assert!(
        output.contains("ok   retries after retry-after"),
        "{output}"
    );
    assert!(output.contains("ok   stream usage"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_request_in_flight_finish_then_exits() {
    drains_on_sigterm(&[]).await;
}

/// A busy-polling proxy keeps its thread on the CPU while idle, and still serves, drains
/// and exits as a sleeping one does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_polling_proxy_spins_when_idle_and_still_serves_and_drains() {
    drains_on_sigterm(&["--busy-poll"]).await;
}

/// CPU seconds process `pid` has used (user + system), from /proc/PID/stat in USER_HZ
/// ticks (100 a second on Linux).
fn cpu_secs(pid: u32) -> f64 {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_else(|e| panic!("{e}"));
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => panic!("unreadable /proc/{pid}/stat: {stat}"),
    }
}

/// Starts `keyrotor-proxy FLAGS` in front of an upstream that holds its stream open, sends
/// SIGTERM with a request in flight, and checks the request finishes and the proxy exits 0.
/// With `--busy-poll`, first checks the idle proxy spends at least a quarter of the wall
/// time on the CPU (a sleeping one spends next to none).
async fn drains_on_sigterm(flags: &[&str]) {
    let release = Arc::new(Notify::new());
    let upstream = serve(held_stream_upstream(release.clone())).await;
    let args = [
        &["--listen", "127.0.0.1:0", "--upstream", &upstream.url][..],
        flags,
    ]
    .concat();
    let env = [("GROQ_API_KEY", "gsk_drain_1")];
    let (mut child, url) = support::start_binary(&args, &env, std::process::Stdio::null());
    if flags.contains(&"--busy-poll") {
        let (cpu, wall) = (cpu_secs(child.id()), std::time::Instant::now());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let busy = (cpu_secs(child.id()) - cpu) / wall.elapsed().as_secs_f64();
        assert!(
            busy >= 0.25,
            "an idle busy-polling proxy used {busy:.2} of a core"
        );
    }

    let response = post(&url, "/openai/v1/chat/completions", "any", &chat_body(true)).await;
    assert_eq!(response.status(), 200);
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "the proxy exited with a request in flight"
    );
    release.notify_one();
    let body = tokio::time::timeout(Duration::from_secs(5), response.bytes())
        .await
        .unwrap_or_else(|_| panic!("the stream did not finish"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(body.ends_with(b"data: [DONE]\n\n"), "{body:?}");
    let limit = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if std::time::Instant::now() > limit {
            let _ = child.kill();
            panic!("the proxy did not exit after draining");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

/// Two proxy replicas sharing key state on Redis (started on loopback, stopped after), one
/// over TCP and one over the server's Unix socket: a key
/// replica A found out of its day is never tried by replica B, whose /status and /health say
/// what it learned; a replica whose store is unreachable serves from its own state
/// (fail-open) or refuses with a 503 (fail-closed); a Redis password is never a flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_replicas_share_key_state_on_redis() {
    let redis = redis_support::Server::start();
    let (url, unix_url) = (redis.url(), redis.unix_url());
    let upstream = spent_day_mock().await;
    let keys = ["gsk_sdk_out", "gsk_sdk_ok"];
    let shared = ["--state", &url, "--pool-id", "replicas-test"];
    let a = proxy(&upstream.url, &keys, &shared).await;
    // Replica B reaches the same server through its Unix socket.
    let by_socket = ["--state", &unix_url, "--pool-id", "replicas-test"];
    let b = proxy(&upstream.url, &keys, &by_socket).await;
    let path = "/openai/v1/chat/completions";
    // Four requests through a replica, then how often the spent key has answered 429.
    let four_then_429s = |replica: String| {
        let upstream = upstream.url.clone();
        async move {
            for _ in 0..4 {
                let answer = post(&replica, path, "x", &chat_body(false)).await;
                assert_eq!(answer.status(), 200);
            }
            let state: Value = get(&upstream, "/admin/state")
                .await
                .json()
                .await
                .unwrap_or_default();
            state["orgs"][0]["keys"][0]["rate_limited"]
                .as_u64()
                .unwrap_or(0)
        }
    };
    assert_eq!(
        four_then_429s(a.url.clone()).await,
        1,
        "replica A met the spent key once"
    );
    assert_eq!(
        four_then_429s(b.url.clone()).await,
        1,
        "replica B never tried it"
    );
    let status: Value = get(&b.url, "/status")
        .await
        .json()
        .await
        .unwrap_or_default();
    let store = &status["pools"][0]["status"]["store"];
    assert_eq!(store["store"], "redis", "{status}");
    assert_eq!(store["reachable"], true, "{status}");
    assert!(store["rests_learned"].as_u64() >= Some(1), "{status}");
    let health: Value = get(&b.url, "/health")
        .await
        .json()
        .await
        .unwrap_or_default();
    let pool = &health["pools"][0];
    assert_eq!(pool["key_states"][0]["state"], "exhausted", "{health}");
    assert_eq!(pool["state"]["store"], "redis", "{health}");

    // Nothing listens on port 1: the store is unreachable.
    let gone = ["--state", "redis://127.0.0.1:1/", "--state-timeout", "50ms"];
    let open = proxy(&upstream.url, &keys, &gone).await;
    assert_eq!(
        post(&open.url, path, "x", &chat_body(false)).await.status(),
        200
    );
    let status: Value = get(&open.url, "/status")
        .await
        .json()
        .await
        .unwrap_or_default();
    let store = &status["pools"][0]["status"]["store"];
    assert_eq!(store["reachable"], false, "{status}");
    assert!(store["served_locally"].as_u64() >= Some(1), "{status}");
    let closed_flags = [&gone[..], &["--on-state-error", "fail-closed"]].concat();
    let closed = proxy(&upstream.url, &keys, &closed_flags).await;
    let refused = post(&closed.url, path, "x", &chat_body(false)).await;
    assert_eq!(refused.status(), 503);
    assert!(text(refused).await.contains("state_unavailable"));

    let cli = Cli::try_parse_from(["proxy", "--state", "redis://:hunter2@127.0.0.1:6379/"])
        .unwrap_or_else(|e| panic!("{e}"));
    let error = build(&cli.proxy, |_: &str| Some("gsk_x".to_owned()))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_else(|| panic!("a password on the command line was accepted"));
    assert!(
        error.contains("env:NAME") && !error.contains("hunter2"),
        "{error}"
    );
}

/// `--config`: one pool serving one model, two clients by their own tokens. A client over
/// its own RPM gets its own 429 (its limit named, `retry-after` from its own budget) while
/// the other is served; a model the pool does not serve answers Groq's 404; usage per client
/// is in /status and /metrics by name, never a token; a bad config names its line and field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_kept_apart_by_their_own_limits() {
    // `gsk_cfg_out`'s organisation spent its day: the first request fails over from it.
    let upstream = mock(
        "[latency]\nenabled = false\n[[orgs]]\nid = \"o\"\nkeys = [\"gsk_cfg_key\"]\n[[orgs]]\nid = \"out\"\nkeys = [\"gsk_cfg_out\"]\n[[events]]\nkind = \"exhaust_daily\"\norg = \"out\"\nat = \"0s\"\n",
    )
    .await;
    let dir = std::env::temp_dir().join(format!("keyrotor-proxy-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let config = dir.join("proxy.toml");
    std::fs::write(
        &config,
        format!(
            "[[pool]]\nname = \"chat\"\nupstream = \"{}\"\nmodels = [\"openai/gpt-oss-120b\"]\nkeys_env = \"CFG_KEY\"\n\n[[client]]\nname = \"web\"\ntoken_env = \"WEB_TOKEN\"\nrpm = 2\n\n[[client]]\nname = \"batch\"\ntoken_env = \"BATCH_TOKEN\"\n",
            upstream.url
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let env = |name: &str| match name {
        "CFG_KEYS" => Some("gsk_cfg_out,gsk_cfg_key".to_owned()),
        "WEB_TOKEN" => Some("web-secret-token".to_owned()),
        "BATCH_TOKEN" => Some("batch-secret-token".to_owned()),
        _ => None,
    };
    let path = config.display().to_string();
    let cli = Cli::try_parse_from(["proxy", "--config", &path]).unwrap_or_else(|e| panic!("{e}"));
    let built = build(&cli.proxy, env).unwrap_or_else(|e| panic!("{e:#}"));
    let proxy = serve(routes::router(built, cli.proxy.max_body)).await;
    let chat = "/openai/v1/chat/completions";
    for _ in 0..2 {
        let ok = post(&proxy.url, chat, "web-secret-token", &chat_body(false)).await;
        assert_eq!(ok.status(), 200);
    }
    let limited = post(&proxy.url, chat, "web-secret-token", &chat_body(false)).await;
    assert_eq!(limited.status(), 429);
    let retry = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|s| (20..=30).contains(&s)), "{retry:?}");
    let body = text(limited).await;
    assert!(
        body.contains("client `web` is over its limit of 2 requests per minute")
            && body.contains("\"code\":\"rate_limit_exceeded\""),
        "{body}"
    );
    let other = post(&proxy.url, chat, "batch-secret-token", &chat_body(false)).await;
    assert_eq!(other.status(), 200, "another client is still served");
    let stranger = post(&proxy.url, chat, "not-a-client", &chat_body(false)).await;
    assert_eq!(stranger.status(), 401);
    let mut unknown_model = chat_body(false);
    unknown_model["model"] = json!("llama-3.3-70b-versatile");
    let gone = post(&proxy.url, chat, "batch-secret-token", &unknown_model).await;
    assert_eq!(gone.status(), 404);
    assert!(text(gone).await.contains("model_not_found"));

    let get = |path: &str, token: &str| {
        reqwest::Client::new()
            .get(format!("{}{path}", proxy.url))
            .bearer_auth(token)
            .send()
    };
    let status = get("/status", "batch-secret-token")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status: Value = status.json().await.unwrap_or_default();
    let web = &status["clients"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(
        (web["requests"].as_u64(), web["limited"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(web["tokens_out"].as_u64().is_some_and(|n| n > 0), "{web}");
    let metrics = text(get("/metrics", "x").await.unwrap_or_else(|e| panic!("{e}"))).await;
    assert!(
        metrics.contains("keyrotor_proxy_client_limited_total{client=\"web\"} 1")
            && metrics.contains("keyrotor_proxy_client_requests_total{client=\"batch\"} 1"),
        "{metrics}"
    );
    // The Grafana dashboard in the guide graphs only metrics the proxy writes.
    let dashboard = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/grafana/keyrotor-proxy.json"
    );
    let dashboard = std::fs::read_to_string(dashboard).unwrap_or_else(|e| panic!("{e}"));
    let dashboard: Value = serde_json::from_str(&dashboard).unwrap_or_else(|e| panic!("{e}"));
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    for expr in &exprs {
        let names = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("keyrotor_"));
        for name in names {
            let family = name.trim_end_matches("_bucket");
            assert!(
                metrics.contains(&format!("# TYPE {family} ")),
                "the dashboard graphs {name}, which /metrics does not write"
            );
        }
    }
    // The compose example's config loads.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/docker/proxy.toml");
    let loaded = keyrotor_proxy::config::ProxyConfig::load(std::path::Path::new(example));
    assert!(
        loaded.is_ok_and(|c| c.clients.len() == 2),
        "examples/docker/proxy.toml"
    );
    let shown = format!("{status}{metrics}");
    for secret in [
        "web-secret-token",
        "batch-secret-token",
        "gsk_cfg_key",
        "gsk_cfg_out",
    ] {
        assert!(!shown.contains(secret), "{secret} shown");
    }

    // A bad file keeps its line and field in the error.
    std::fs::write(&config, "[[pool]]\nname = \"a\"\nkeys_env = \"K\"\n[[client]]\nname = \"web\"\ntoken_env = \"T\"\nrpm = 0\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let cli = Cli::try_parse_from(["proxy", "--config", &path]).unwrap_or_else(|e| panic!("{e}"));
    let error = build(&cli.proxy, env)
        .map(|_| ())
        .map_err(|e| format!("{e:#}"));
    assert!(
        error
            .as_ref()
            .is_err_and(|e| e.contains("proxy.toml") && e.contains("line 7") && e.contains("rpm")),
        "{error:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
