//! Hostile clients cannot take the mock down or change it: absurd numbers in a request,
//! fields Groq refuses, requests without a key, cross-site resets and clients that trickle
//! their headers (slowloris).

mod common;

use std::time::{Duration, Instant};

use common::{chat, json, start};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ONE_ORG: &str = r#"
header_timeout = "1s"
[latency]
enabled = false
[[orgs]]
id = "org_a"
keys = ["gsk_test_a1"]
"#;

const UNLIMITED: &str = r#"
[latency]
enabled = false
[[orgs]]
id = "org_a"
keys = ["gsk_test_a1"]
limits = { rpm = 0, rpd = 0, tpm = 0, tpd = 0 }
"#;

fn body(extra: serde_json::Value) -> serde_json::Value {
    let mut body = json!({
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

#[tokio::test]
async fn absurd_max_tokens_is_a_400_and_the_mock_stays_up() {
    for config in [ONE_ORG, UNLIMITED] {
        let server = start(config).await;
        let client = reqwest::Client::new();
        for field in ["max_tokens", "max_completion_tokens"] {
            for value in [u64::MAX, u64::MAX - 5, 131_073, 10_000_000] {
                let response = chat(
                    &client,
                    &server.url,
                    "gsk_test_a1",
                    &body(json!({ field: value })),
                )
                .await;
                assert_eq!(response.status(), 400, "{field} = {value}");
                let error = json(response).await;
                assert_eq!(error["error"]["code"], "context_length_exceeded", "{error}");
                assert!(
                    error["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("maximum context length is 131072")),
                    "{error}"
                );
            }
        }
        let ok = chat(&client, &server.url, "gsk_test_a1", &body(json!({}))).await;
        assert_eq!(
            ok.status(),
            200,
            "the mock still serves after absurd requests"
        );
    }
}

#[tokio::test]
async fn fields_groq_refuses_are_400s_naming_the_field() {
    let server = start(ONE_ORG).await;
    let client = reqwest::Client::new();
    let missing_model = json!({"messages": [{"role": "user", "content": "hi"}]});
    for (request, needle) in [
        (body(json!({"n": 2})), "'n' : number must be at most 1"),
        (body(json!({"n": 0})), "'n'"),
        (
            body(json!({"temperature": 2.5})),
            "'temperature' : number must be at most 2",
        ),
        (
            body(json!({"temperature": -0.1})),
            "'temperature' : number must be at least 0",
        ),
        (
            body(json!({"top_p": 1.5})),
            "'top_p' : number must be at most 1",
        ),
        (missing_model, "'model' : property 'model' is missing"),
        (body(json!({"model": ""})), "'model'"),
    ] {
        let response = chat(&client, &server.url, "gsk_test_a1", &request).await;
        assert_eq!(response.status(), 400, "{request}");
        let error = json(response).await;
        assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(needle)),
            "{request}: {error}"
        );
    }
    for fine in [
        body(json!({"n": 1, "temperature": 0})),
        body(json!({"temperature": 2})),
    ] {
        let response = chat(&client, &server.url, "gsk_test_a1", &fine).await;
        assert_eq!(response.status(), 200, "{fine}");
    }
}

#[tokio::test]
async fn models_needs_a_valid_key() {
    let server = start(ONE_ORG).await;
    let client = reqwest::Client::new();
    let url = format!("{}/openai/v1/models", server.url);
    let anonymous = client
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(anonymous.status(), 401);
    assert_eq!(json(anonymous).await["error"]["code"], "invalid_api_key");
    let wrong = client.get(&url).bearer_auth("gsk_nope").send().await;
    assert_eq!(wrong.map(|r| r.status().as_u16()).ok(), Some(401));
    let valid = client.get(&url).bearer_auth("gsk_test_a1").send().await;
    let valid = valid.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(valid.status(), 200);
    assert_eq!(json(valid).await["object"], "list");
}

#[tokio::test]
async fn reset_refuses_forms_text_and_foreign_origins() {
    let server = start(ONE_ORG).await;
    let client = reqwest::Client::new();
    let url = format!("{}/admin/reset", server.url);
    let host = server.url.trim_start_matches("http://").to_owned();
    let status = |r: reqwest::Result<reqwest::Response>| r.map(|r| r.status().as_u16()).ok();
    let form = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await;
    assert_eq!(status(form), Some(415));
    let text = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await;
    assert_eq!(status(text), Some(415));
    let foreign = client
        .post(&url)
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(status(foreign), Some(403));
    // The mock's counters show nothing was reset by those: one request stays counted.
    let served = chat(&client, &server.url, "gsk_test_a1", &body(json!({}))).await;
    assert_eq!(served.status(), 200);
    let state = common::admin_state(&client, &server.url).await;
    assert_eq!(state["totals"]["requests"], 1, "{state}");
    let own = client
        .post(&url)
        .header("origin", format!("http://{host}"))
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(status(own), Some(200));
    let state = common::admin_state(&client, &server.url).await;
    assert_eq!(state["totals"]["requests"], 0, "{state}");
}

/// 200 connections that send a request head one byte at a time are closed after the
/// header timeout (1 s here), while /health keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_shed_and_health_stays_up() {
    let server = start(ONE_ORG).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut slow = Vec::new();
    for _ in 0..200 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(&addr).await else {
                return None;
            };
            let opened = Instant::now();
            // One byte every 100 ms: the head would take 7 s, far past the 1 s timeout.
            for byte in head {
                if stream.write_all(&[*byte]).await.is_err() {
                    return Some(opened.elapsed());
                }
                let mut buf = [0u8; 256];
                let read = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf));
                // Anything read (the 408, or 0 bytes at close) or an error: the mock hung up.
                if read.await.is_ok() {
                    return Some(opened.elapsed());
                }
            }
            None
        }));
    }
    let client = reqwest::Client::new();
    for _ in 0..10 {
        let asked = Instant::now();
        let health = client
            .get(format!("{}/health", server.url))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        assert_eq!(health.map(|r| r.status().as_u16()).ok(), Some(200));
        assert!(asked.elapsed() < Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut shed = 0;
    for task in slow {
        if let Ok(Some(after)) = task.await {
            assert!(
                after < Duration::from_secs(5),
                "closed only after {after:?}"
            );
            shed += 1;
        }
    }
    assert_eq!(shed, 200, "every slow connection is closed by the mock");
}
