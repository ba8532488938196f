//! The proxy as a service: a config with two pools routes each request by its model; keys
//! swapped on SIGHUP and `POST /admin/reload` without a restart (a new key serves the next
//! request, a removed one takes no new request while the one in flight on it finishes, a
//! resting key keeps its rest, a bad config keeps the old one and says so); no key or token
//! in logs, `/status` or `/metrics`. Every server runs on 127.0.0.1 with a free port.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use keyrotor_proxy::{build, routes};
use serde_json::{Value, json};
use tokio::sync::Notify;

mod support;
use support::{Cli, chat_body, mock, post, serve, text};

/// A directory of its own for a test's files, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("keyrotor-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Self(dir)
    }
    fn write(&self, file: &str, text: &str) -> String {
        let path = self.0.join(file);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn with_model(model: &str) -> Value {
    let mut body = chat_body(false);
    body["model"] = json!(model);
    body
}

fn served_by(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-keyrotor-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

/// Two pools over two upstreams, each serving its own models: a request's model picks its
/// pool (its key answers it), an unlisted model answers Groq's 404, the model list names
/// both pools' models, and /status and /metrics show each pool by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_two_pools_routes_by_model() {
    let mock_of = |key: &str| {
        format!("[latency]\nenabled = false\n[[orgs]]\nid = \"o\"\nkeys = [\"{key}\"]\n")
    };
    let big = mock(&mock_of("gsk_pool_big")).await;
    let small = mock(&mock_of("gsk_pool_small")).await;
    let dir = Dir::new("two-pools");
    let big_keys = dir.write("big.keys", "gsk_pool_big\n");
    let config = dir.write(
        "proxy.toml",
        &format!(
            "[[pool]]\nname = \"big\"\nupstream = \"{}\"\nmodels = [\"openai/gpt-oss-120b\"]\nkeys_file = \"{big_keys}\"\n\n[[pool]]\nname = \"small\"\nupstream = \"{}\"\nmodels = [\"openai/gpt-oss-20b\"]\nkeys_env = \"SMALL_KEY\"\n",
            big.url, small.url
        ),
    );
    let cli = Cli::try_parse_from(["proxy", "--config", &config]).unwrap_or_else(|e| panic!("{e}"));
    let env = |name: &str| (name == "SMALL_KEY").then(|| "gsk_pool_small".to_owned());
    let built = build(&cli.proxy, env).unwrap_or_else(|e| panic!("{e:#}"));
    let proxy = serve(routes::router(built, cli.proxy.max_body)).await;
    let chat = "/openai/v1/chat/completions";

    for (model, key) in [
        ("openai/gpt-oss-120b", "gsk_pool_big"),
        ("openai/gpt-oss-20b", "gsk_pool_small"),
        ("openai/gpt-oss-120b", "gsk_pool_big"),
    ] {
        let answer = post(&proxy.url, chat, "x", &with_model(model)).await;
        assert_eq!(answer.status(), 200, "{model}");
        assert_eq!(served_by(&answer), mock_groq::fingerprint(key), "{model}");
    }
    let unlisted = post(&proxy.url, chat, "x", &with_model("groq/compound")).await;
    assert_eq!(unlisted.status(), 404);
    let said = text(unlisted).await;
    assert!(
        said.contains("model_not_found") && said.contains("groq/compound"),
        "{said}"
    );

    let listed: Value = support::get(&proxy.url, "/openai/v1/models")
        .await
        .json()
        .await
        .unwrap_or_default();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["openai/gpt-oss-120b", "openai/gpt-oss-20b"],
        "{listed}"
    );

    let status: Value = support::get(&proxy.url, "/status")
        .await
        .json()
        .await
        .unwrap_or_default();
    let pools: Vec<(&str, u64)> = status["pools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let sent = p["status"]["totals"]["requests"].as_u64().unwrap_or(0);
            (p["name"].as_str().unwrap_or(""), sent)
        })
        .collect();
    assert_eq!(pools, [("big", 2), ("small", 1)], "{status}");
    let metrics = text(support::get(&proxy.url, "/metrics").await).await;
    let small_fp = mock_groq::fingerprint("gsk_pool_small");
    assert!(
        metrics.contains(&format!(
            "keyrotor_key_attempts_total{{pool=\"small\",key=\"{small_fp}\",org=\"0\"}} 1"
        )),
        "{metrics}"
    );
    assert!(!format!("{status}{metrics}").contains("gsk_pool"));

    // A model in two pools, two catch-all pools, a bad pool name: refused with the line.
    let refusals = [
        (
            "[[pool]]\nname = \"a\"\nmodels = [\"m\"]\nkeys_env = \"K\"\n[[pool]]\nname = \"b\"\nmodels = [\"m\"]\nkeys_env = \"K\"\n",
            "line 6: pool `b`: models: `m` is already served by pool `a`",
        ),
        (
            "[[pool]]\nname = \"a\"\nkeys_env = \"K\"\n[[pool]]\nname = \"b\"\nkeys_env = \"K\"\n",
            "line 5: pool `b`: models: pool `a` already takes every unlisted model",
        ),
        (
            "[[pool]]\nname = \"a b\"\nkeys_env = \"K\"\n",
            "line 2: pool name `a b`",
        ),
    ];
    for (file, expected) in refusals {
        dir.write("proxy.toml", file);
        let error = build(&cli.proxy, |_: &str| Some("gsk_x".to_owned()))
            .map(|_| ())
            .map_err(|e| format!("{e:#}"));
        assert!(
            error
                .as_ref()
                .is_err_and(|e| e.contains("proxy.toml") && e.contains(expected)),
            "{expected}: {error:?}"
        );
    }
}

/// What the scripted upstream saw: the key of each request, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// An upstream that answers `gsk_tired` with a 429 asking two minutes' rest, holds
/// `gsk_old`'s requests until `release`, and answers any other key at once.
fn scripted_upstream(seen: Seen, release: Arc<Notify>) -> axum::Router {
    let chat = move |headers: HeaderMap| {
        let (seen, release) = (seen.clone(), release.clone());
        async move {
            let key = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("")
                .to_owned();
            if let Ok(mut seen) = seen.lock() {
                seen.push(key.clone());
            }
            match key.as_str() {
                "gsk_tired" => return tired(),
                "gsk_old" => release.notified().await,
                _ => {}
            }
            let completion = json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "olá"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
            });
            axum::Json(completion).into_response()
        }
    };
    axum::Router::new().route("/openai/v1/chat/completions", axum::routing::post(chat))
}

fn tired() -> Response {
    let body = json!({"error": {
        "message": "Rate limit reached for model `m` in organization `org_tired` service tier `on_demand` on requests per day (RPD): Limit 1000, Used 1000, Requested 1. Please try again in 2m0s.",
        "type": "requests", "code": "rate_limit_exceeded"}});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert("retry-after", axum::http::HeaderValue::from(120u32));
    response
}

/// The `keyrotor-proxy` binary over `config`, its stderr at INFO into `log`.
struct Binary {
    child: std::process::Child,
    url: String,
}

impl Binary {
    fn start(config: &str, log: &Path, env: &[(&str, &str)]) -> Self {
        let log = std::fs::File::create(log).unwrap_or_else(|e| panic!("{e}"));
        let mut vars = vec![("RUST_LOG", "info")];
        vars.extend_from_slice(env);
        let args = ["--config", config, "--listen", "127.0.0.1:0"];
        let (child, url) = support::start_binary(&args, &vars, log.into());
        Self { child, url }
    }

    /// Sends SIGHUP and waits (up to 5 s) for the reload it asks for; returns /status.
    async fn hang_up(&self) -> Value {
        let before = self.status().await["last_reload"].clone();
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sent.success());
        for _ in 0..100 {
            let status = self.status().await;
            let last = &status["last_reload"];
            let serving = last["ok"] == false || last["generation"] == status["generation"];
            if *last != before && serving {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no reload after SIGHUP: {}", self.status().await)
    }

    /// /status, as the client `web` sees it.
    async fn status(&self) -> Value {
        reqwest::Client::new()
            .get(format!("{}/status", self.url))
            .bearer_auth("web-secret-token")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_default()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn admin_reload(url: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/admin/reload"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Keys swapped live. `gsk_tired` rests two minutes after its 429; a reload by
/// `POST /admin/reload` adds `gsk_old`, which serves the next request (the tired key's rest
/// carried over: it is not tried again). With a request in flight on `gsk_old`, SIGHUP swaps
/// it for `gsk_new`: the next request goes to `gsk_new`, none to `gsk_old`, and the one in
/// flight finishes on `gsk_old`. A broken config on SIGHUP keeps the keys serving and says
/// why in /status and /metrics. No key or token in the log, /status or /metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_swapped_live_and_a_bad_reload_keeps_the_old_config() {
    let (seen, release) = (Seen::default(), Arc::new(Notify::new()));
    let upstream = serve(scripted_upstream(seen.clone(), release.clone())).await;
    let dir = Dir::new("reload");
    let keys = dir.write("pool.keys", "gsk_tired\n");
    let admin = dir.write("admin.token", "admin-secret-token\n");
    let good = format!(
        "[[pool]]\nname = \"chat\"\nupstream = \"{}\"\ndeadline = \"3s\"\nkeys_file = \"{keys}\"\n\n[[client]]\nname = \"web\"\ntoken_env = \"WEB_TOKEN\"\n\n[admin]\ntoken_file = \"{admin}\"\n",
        upstream.url
    );
    let config = dir.write("proxy.toml", &good);
    let log = dir.0.join("proxy.log");
    let proxy = Binary::start(&config, &log, &[("WEB_TOKEN", "web-secret-token")]);
    let chat = "/openai/v1/chat/completions";
    let url = proxy.url.clone();
    let ask = move || {
        let url = url.clone();
        async move { post(&url, chat, "web-secret-token", &chat_body(false)).await }
    };
    let fp = |key: &str| mock_groq::fingerprint(key);

    let first = ask().await;
    assert_eq!(first.status(), 429, "the only key is tired");

    // Over HTTP: a wrong token is refused; the admin token reloads.
    assert_eq!(
        admin_reload(&proxy.url, "web-secret-token").await.status(),
        401
    );
    dir.write("pool.keys", "gsk_tired\ngsk_old\n");
    let reloaded = admin_reload(&proxy.url, "admin-secret-token").await;
    assert_eq!(reloaded.status(), 200);
    let said: Value = reloaded.json().await.unwrap_or_default();
    assert_eq!(said["generation"], 2, "{said}");
    assert_eq!(said["pools"][0]["added"], json!([fp("gsk_old")]), "{said}");

    // gsk_old serves the next request; it is held there, in flight.
    let in_flight = tokio::spawn(ask());
    for _ in 0..100 {
        if seen.lock().is_ok_and(|s| s.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let so_far = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(
        so_far,
        ["gsk_tired", "gsk_old"],
        "the tired key kept its rest"
    );

    // SIGHUP swaps gsk_old for gsk_new.
    dir.write("pool.keys", "gsk_tired\ngsk_new\n");
    let status = proxy.hang_up().await;
    assert_eq!(status["generation"], 3, "{status}");
    let next = ask().await;
    assert_eq!(next.status(), 200);
    assert_eq!(served_by(&next), fp("gsk_new"));
    release.notify_one();
    let finished = in_flight.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        finished.status(),
        200,
        "the request in flight on a removed key finished"
    );
    assert_eq!(served_by(&finished), fp("gsk_old"));
    let all = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(
        all,
        ["gsk_tired", "gsk_old", "gsk_new"],
        "no new request reached gsk_old"
    );

    // A config that does not parse: the old one keeps serving, and says why.
    dir.write("proxy.toml", &good.replace("[[pool]]", "[[pool]\n"));
    let status = proxy.hang_up().await;
    assert_eq!(status["generation"], 3, "{status}");
    assert_eq!(status["last_reload"]["ok"], false, "{status}");
    assert!(
        status["last_reload"]["said"]
            .as_str()
            .is_some_and(|s| s.contains("proxy.toml") && s.contains("line 1")),
        "{status}"
    );
    let still = ask().await;
    assert_eq!(
        (still.status(), served_by(&still)),
        (StatusCode::OK, fp("gsk_new"))
    );
    let metrics = text(support::get(&proxy.url, "/metrics").await).await;
    for line in [
        "keyrotor_proxy_config_last_reload_successful 0",
        "keyrotor_proxy_reloads_total{outcome=\"ok\"} 2",
        "keyrotor_proxy_reloads_total{outcome=\"failed\"} 1",
        "keyrotor_proxy_config_generation 3",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("config reloaded"), "{logged}");
    assert!(logged.contains("reload failed"), "{logged}");
    let shown = format!("{logged}{status}{metrics}");
    for secret in [
        "gsk_tired",
        "gsk_old",
        "gsk_new",
        "web-secret-token",
        "admin-secret-token",
    ] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
}

/// A pool of Gemini keys (`provider = "gemini"`): requests go to Gemini's OpenAI-compatible
/// path; a key whose project spent its day (a `RESOURCE_EXHAUSTED` per-day quota) fails over
/// unseen and rests until midnight Pacific, as /health shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gemini_pool_fails_over_a_spent_day_and_rests_the_key_until_the_reset() {
    let chat = |headers: HeaderMap| async move {
        let key = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if key == "Bearer gemini-spent" {
            let body = json!([{"error": {"code": 429, "message": "You exceeded your current quota.",
                "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                 "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "250"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}}]);
            return (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        }
        axum::Json(json!({
            "id": "chatcmpl-g", "object": "chat.completion", "created": 1, "model": "gemini-2.5-flash",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "olá"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
        }))
        .into_response()
    };
    let upstream = serve(
        axum::Router::new().route("/v1beta/openai/chat/completions", axum::routing::post(chat)),
    )
    .await;
    let dir = Dir::new("gemini");
    let config = dir.write(
        "proxy.toml",
        &format!(
            "[[pool]]\nname = \"gemini\"\nprovider = \"gemini\"\nupstream = \"{}\"\nkeys_env = \"GEMINI_API_KEY\"\n",
            upstream.url
        ),
    );
    let cli = Cli::try_parse_from(["proxy", "--config", &config]).unwrap_or_else(|e| panic!("{e}"));
    let env =
        |name: &str| (name == "GEMINI_API_KEYS").then(|| "gemini-spent,gemini-fresh".to_owned());
    let built = build(&cli.proxy, env).unwrap_or_else(|e| panic!("{e:#}"));
    let proxy = serve(routes::router(built, cli.proxy.max_body)).await;
    let answer = post(
        &proxy.url,
        "/v1/chat/completions",
        "x",
        &with_model("gemini-2.5-flash"),
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer
            .headers()
            .get("x-keyrotor-attempts")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_eq!(served_by(&answer), mock_groq::fingerprint("gemini-fresh"));
    // Midnight Pacific is 0 to 25 hours away, never the 12 s the body's retryDelay says.
    rests_until_midnight_pacific(&proxy.url).await;
}

/// The mock's config for `provider`: `model`, one scope per entry of `scopes` with its keys,
/// each limited to `limits`.
fn provider_mock(provider: &str, model: &str, scopes: &[&[&str]], limits: &str) -> String {
    let mut text =
        format!("provider = \"{provider}\"\nmodels = [\"{model}\"]\n[latency]\nenabled = false\n");
    for (i, keys) in scopes.iter().enumerate() {
        let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
        text.push_str(&format!(
            "[[orgs]]\nid = \"scope{i}\"\nkeys = [{}]\nlimits = {limits}\n",
            keys.join(", ")
        ));
    }
    text
}

/// The proxy in front of the mock speaking each provider: three keys of one scope (a Gemini
/// project, an OpenRouter account, a Cerebras organization) serve what one key does — the
/// scope's 3 a minute — within a 1-second deadline; the same keys in three scopes three times
/// that. A Gemini project's spent day rests its key until midnight Pacific, read from the
/// mock's own 429 body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_add_capacity_only_across_the_providers_scope() {
    let keys = ["key-one", "key-two", "key-three"];
    let served = |upstream: String, provider: &'static str, model: &'static str| async move {
        let flags = ["--provider", provider, "--deadline", "1s"];
        let proxy = support::proxy(&upstream, &keys, &flags).await;
        let mut ok = 0;
        for _ in 0..9 {
            let answer = post(&proxy.url, "/v1/chat/completions", "x", &with_model(model)).await;
            ok += usize::from(answer.status() == 200);
        }
        ok
    };
    for (provider, model) in [
        ("gemini", "gemini-2.5-flash"),
        ("openrouter", "meta-llama/llama-3.3-70b-instruct:free"),
        ("cerebras", "gpt-oss-120b"),
    ] {
        let one = support::mock(&provider_mock(provider, model, &[&keys], "{ rpm = 3 }")).await;
        let apart = [&keys[..1], &keys[1..2], &keys[2..]];
        let three = support::mock(&provider_mock(provider, model, &apart, "{ rpm = 3 }")).await;
        assert_eq!(
            served(one.url.clone(), provider, model).await,
            3,
            "{provider}: one scope"
        );
        assert_eq!(
            served(three.url.clone(), provider, model).await,
            9,
            "{provider}: three scopes"
        );
    }

    let flash = "gemini-2.5-flash";
    let daily = support::mock(&provider_mock(
        "gemini",
        flash,
        &[&keys[..1]],
        "{ rpd = 1 }",
    ))
    .await;
    let proxy = support::proxy(&daily.url, &keys[..1], &["--provider", "gemini"]).await;
    let body = with_model(flash);
    for expected in [200, 429] {
        let answer = post(&proxy.url, "/v1/chat/completions", "x", &body).await;
        assert_eq!(answer.status(), expected);
    }
    rests_until_midnight_pacific(&proxy.url).await;
}

/// The proxy's first key is spent for the day and rests until midnight Pacific (±5 s), as
/// its /health says.
async fn rests_until_midnight_pacific(proxy: &str) {
    let health: Value = support::get(proxy, "/health")
        .await
        .json()
        .await
        .unwrap_or_default();
    let spent = &health["pools"][0]["key_states"][0];
    assert_eq!(spent["state"], "exhausted", "{health}");
    let rests = spent["ready_in_ms"].as_u64().unwrap_or(0) as f64;
    let now = jiff::Timestamp::now();
    let midnight = keyrotor_engine::Gemini::default()
        .daily_reset(now)
        .map_or(0.0, |at| at.duration_since(now).as_secs_f64() * 1000.0);
    assert!(
        (rests - midnight).abs() < 5_000.0,
        "rests {rests} ms; midnight Pacific in {midnight} ms"
    );
}
