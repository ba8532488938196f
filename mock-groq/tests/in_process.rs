//! The mock called in-process through `tower::ServiceExt::oneshot` (no socket) on a paused
//! tokio clock: the service-time model and the rate-limit windows run in virtual time.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mock_groq::Config;
use serde_json::{Value, json};
use tower::ServiceExt;

fn request(key: &str, max_tokens: u64) -> Request<Body> {
    let body = json!({
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "abcdefgh"}],
        "max_tokens": max_tokens,
    });
    Request::post("/openai/v1/chat/completions")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn call(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(start_paused = true)]
async fn service_time_is_what_usage_reports() {
    let config = Config::from_toml(
        r#"
[latency]
edge = "0s"
queue = "0s"
jitter = 0.0
prefill_tps = 1000.0
decode_tps = 100.0
[completion]
min_fraction = 1.0
max_fraction = 1.0
[[orgs]]
id = "o"
keys = ["k"]
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let app = mock_groq::router(config).unwrap_or_else(|e| panic!("{e}"));
    let start = tokio::time::Instant::now();
    let (status, _, body) = call(&app, request("k", 50)).await;
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(status, 200);
    // 9 prompt tokens at 1000/s + 50 completion tokens at 100/s.
    let total = body["usage"]["total_time"].as_f64().unwrap_or(0.0);
    assert!((total - (0.009 + 0.5)).abs() < 1e-9, "{body}");
    assert!(
        (elapsed - total).abs() < 0.002,
        "slept {elapsed}, reported {total}"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "length");
}

#[tokio::test(start_paused = true)]
async fn windows_refill_in_virtual_time_and_retry_after_is_exact() {
    let config = Config::from_toml(
        r#"
[latency]
enabled = false
[[orgs]]
id = "o"
keys = ["k1", "k2"]
limits = { rpm = 2 }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let app = mock_groq::router(config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call(&app, request("k1", 10)).await.0, 200);
    assert_eq!(call(&app, request("k2", 10)).await.0, 200);
    let (status, headers, body) = call(&app, request("k1", 10)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("30")
    );
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(call(&app, request("k2", 10)).await.0, 429);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(call(&app, request("k2", 10)).await.0, 200);
}

#[tokio::test(start_paused = true)]
async fn same_seed_gives_same_responses() {
    let toml = r#"
seed = 42
[latency]
enabled = false
[[orgs]]
id = "o"
keys = ["k"]
"#;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = mock_groq::router(Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut bodies = Vec::new();
        for _ in 0..5 {
            let (_, _, mut body) = call(&app, request("k", 100)).await;
            body["created"] = Value::Null;
            bodies.push(body);
        }
        runs.push(bodies);
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0][0]["usage"], Value::Null);
}
