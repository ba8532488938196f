//! The mock over loopback HTTP: response shapes, headers, shared organisation limits, errors,
//! faults, events and the admin view.

mod common;

use std::time::Duration;

use common::{admin_state, chat, chat_body, header, json, start};
use serde_json::{Value, json};

const TWO_ORGS: &str = r#"
seed = 7
[latency]
enabled = false
[[orgs]]
id = "org_a"
keys = ["gsk_test_a1", "gsk_test_a2"]
limits = { rpm = 3, rpd = 1000, tpm = 12000, tpd = 100000 }
[[orgs]]
id = "org_b"
keys = ["gsk_test_b1"]
"#;

#[tokio::test]
async fn completion_has_groqs_shape_and_headers() {
    let server = start(TWO_ORGS).await;
    let client = reqwest::Client::new();
    let response = chat(&client, &server.url, "gsk_test_b1", &chat_body(50)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-ratelimit-limit-requests"), "1000");
    assert_eq!(header(&response, "x-ratelimit-remaining-requests"), "999");
    assert_eq!(header(&response, "x-ratelimit-limit-tokens"), "8000");
    // One request of 1000/day: 86.4 s until full.
    assert_eq!(header(&response, "x-ratelimit-reset-requests"), "1m26.4s");
    assert!(header(&response, "x-request-id").starts_with("req_"));
    let request_id = header(&response, "x-request-id");
    let body = json(response).await;
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-")),
        "{body}"
    );
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "openai/gpt-oss-120b");
    assert_eq!(body["service_tier"], "on_demand");
    assert_eq!(body["x_groq"]["id"], request_id.as_str());
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert!(body["usage_breakdown"].is_null());
    let usage = &body["usage"];
    for field in ["queue_time", "prompt_time", "completion_time", "total_time"] {
        assert!(
            usage[field].as_f64().is_some(),
            "usage.{field} missing: {body}"
        );
    }
    let prompt = usage["prompt_tokens"].as_u64().unwrap_or(0);
    let completion = usage["completion_tokens"].as_u64().unwrap_or(0);
    // "Say hello in Portuguese." is 24 characters: 3 + 4 + 6.
    assert_eq!(prompt, 13);
    assert!((13..=50).contains(&completion), "{completion}");
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
    let total = usage["total_time"].as_f64().unwrap_or(0.0);
    let parts: f64 = ["queue_time", "prompt_time", "completion_time"]
        .iter()
        .map(|f| usage[*f].as_f64().unwrap_or(0.0))
        .sum();
    assert!((total - parts).abs() < 1e-9);
}

#[tokio::test]
async fn stream_follows_groqs_sse_format() {
    let server = start(TWO_ORGS).await;
    let client = reqwest::Client::new();
    let mut body = chat_body(40);
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let response = chat(&client, &server.url, "gsk_test_b1", &body).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    assert!(
        header(&response, "x-ratelimit-remaining-tokens")
            .parse::<u64>()
            .is_ok()
    );
    let text = response.text().await.unwrap_or_default();
    let events: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not an SSE data line: {e}"))
        })
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap_or_else(|err| panic!("{err}: {e}")))
        .collect();
    assert!(chunks.len() >= 4, "{text}");
    assert!(
        chunks[0]["x_groq"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_"))
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let finish = &chunks[chunks.len() - 2];
    assert!(
        finish["choices"][0]["finish_reason"].is_string(),
        "{finish}"
    );
    assert!(
        finish["x_groq"]["usage"]["total_tokens"].as_u64().is_some(),
        "{finish}"
    );
    let last = &chunks[chunks.len() - 1];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"], finish["x_groq"]["usage"]);
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    let words = content.split(' ').filter(|w| !w.is_empty()).count() as u64;
    assert_eq!(Some(words), last["usage"]["completion_tokens"].as_u64());
}

#[tokio::test]
async fn keys_of_one_org_share_its_limits_and_429_is_groqs() {
    let server = start(TWO_ORGS).await;
    let client = reqwest::Client::new();
    for key in ["gsk_test_a1", "gsk_test_a2", "gsk_test_a1"] {
        assert_eq!(
            chat(&client, &server.url, key, &chat_body(10))
                .await
                .status(),
            200
        );
    }
    let limited = chat(&client, &server.url, "gsk_test_a2", &chat_body(10)).await;
    assert_eq!(limited.status(), 429);
    // RPM 3: one request refills in 20 s.
    assert_eq!(header(&limited, "retry-after"), "20");
    assert_eq!(header(&limited, "x-ratelimit-remaining-requests"), "997");
    let body = json(limited).await;
    assert_eq!(body["error"]["type"], "requests");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let message = body["error"]["message"].as_str().unwrap_or("");
    let prefix = "Rate limit reached for model `openai/gpt-oss-120b` in organization `org_a` service tier `on_demand` on requests per minute (RPM): Limit 3, Used 3, Requested 1. Please try again in ";
    let wait = message
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{message}"));
    // A little real time passed since the burst: just under 20 s.
    assert!(
        wait.starts_with("20s.") || wait.starts_with("19.9"),
        "{message}"
    );
    // The other organisation is unaffected.
    assert_eq!(
        chat(&client, &server.url, "gsk_test_b1", &chat_body(10))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn oversized_request_is_413_with_groqs_body() {
    let server = start(TWO_ORGS).await;
    let client = reqwest::Client::new();
    let response = chat(&client, &server.url, "gsk_test_b1", &chat_body(20_000)).await;
    assert_eq!(response.status(), 413);
    let body = json(response).await;
    assert_eq!(body["error"]["type"], "tokens");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("on tokens per minute (TPM): Limit 8000, Requested 20013, please reduce"),
        "{message}"
    );
}

#[tokio::test]
async fn bad_requests_get_openai_style_errors() {
    let server = start(TWO_ORGS).await;
    let client = reqwest::Client::new();
    let url = format!("{}/openai/v1/chat/completions", server.url);
    let post = |body: &'static str, content_type: &'static str, auth: Option<&'static str>| {
        let mut request = client
            .post(&url)
            .header("content-type", content_type)
            .body(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    let cases = [
        (
            post("{}", "application/json", None).await,
            401,
            Some("invalid_api_key"),
        ),
        (
            post("{}", "application/json", Some("Bearer nope")).await,
            401,
            Some("invalid_api_key"),
        ),
        (
            post("{}", "application/json", Some("Basic gsk_test_b1")).await,
            401,
            Some("invalid_api_key"),
        ),
        (
            post("{not json", "application/json", Some("Bearer gsk_test_b1")).await,
            400,
            None,
        ),
        (
            post("{}", "text/plain", Some("Bearer gsk_test_b1")).await,
            400,
            None,
        ),
        (
            post(
                r#"{"model":"openai/gpt-oss-120b"}"#,
                "application/json",
                Some("Bearer gsk_test_b1"),
            )
            .await,
            400,
            None,
        ),
        (
            post(
                r#"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#,
                "application/json",
                Some("Bearer gsk_test_b1"),
            )
            .await,
            404,
            Some("model_not_found"),
        ),
    ];
    for (response, status, code) in cases {
        let response = response.unwrap_or_else(|e| panic!("connection failed: {e}"));
        assert_eq!(response.status(), status);
        let body = json(response).await;
        assert!(body["error"]["message"].is_string(), "{body}");
        assert!(body["error"]["type"].is_string(), "{body}");
        if let Some(code) = code {
            assert_eq!(body["error"]["code"], code, "{body}");
        }
    }
    let small = start(&format!("max_body_bytes = 1000\n{TWO_ORGS}")).await;
    let big = json!({"model": "openai/gpt-oss-120b", "messages": [{"role": "user", "content": "x".repeat(5000)}]});
    let response = chat(&client, &small.url, "gsk_test_b1", &big).await;
    assert_eq!(response.status(), 413);
    assert!(
        json(response).await["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1000 bytes"))
    );
    let missing = client
        .get(format!("{}/openai/v1/nothing", server.url))
        .send()
        .await;
    let missing = missing.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn faults_and_events_behave_as_configured() {
    let config = r#"
[latency]
enabled = false
[[orgs]]
id = "busy"
keys = ["k_busy"]
[[orgs]]
id = "dropping"
keys = ["k_drop"]
[[orgs]]
id = "stalling"
keys = ["k_stall"]
[[orgs]]
id = "spent"
keys = ["k_spent", "k_revoked"]
[[faults]]
kind = "over_capacity"
org = "busy"
[[faults]]
kind = "drop"
org = "dropping"
[[faults]]
kind = "stall"
org = "stalling"
duration = "30s"
[[events]]
kind = "exhaust_daily"
org = "spent"
at = "0s"
[[events]]
kind = "revoke_key"
key = "k_revoked"
at = "0s"
"#;
    let server = start(config).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let busy = chat(&client, &server.url, "k_busy", &chat_body(10)).await;
    assert_eq!(busy.status(), 503);
    assert!(
        header(&busy, "x-ratelimit-remaining-tokens")
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(json(busy).await["error"]["type"], "internal_server_error");

    let dropped = client
        .post(format!("{}/openai/v1/chat/completions", server.url))
        .bearer_auth("k_drop")
        .json(&chat_body(10))
        .send()
        .await;
    let failed = match dropped {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(
        failed,
        "a dropped connection must surface as a transport error"
    );

    let stalled = client
        .post(format!("{}/openai/v1/chat/completions", server.url))
        .bearer_auth("k_stall")
        .json(&chat_body(10))
        .send()
        .await;
    assert!(stalled.is_err_and(|e| e.is_timeout()));

    let spent = chat(&client, &server.url, "k_spent", &chat_body(10)).await;
    assert_eq!(spent.status(), 429);
    let retry_after: u64 = header(&spent, "retry-after").parse().unwrap_or(0);
    assert!(retry_after > 60, "a daily limit waits long: {retry_after}");
    let message = json(spent).await["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(message.contains("per day"), "{message}");

    let revoked = chat(&client, &server.url, "k_revoked", &chat_body(10)).await;
    assert_eq!(revoked.status(), 401);

    let state = admin_state(&client, &server.url).await;
    let keys: Vec<&Value> = state["orgs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|o| o["keys"].as_array().into_iter().flatten())
        .collect();
    let total = |field: &str| {
        keys.iter()
            .map(|k| k[field].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(total("server_errors"), 1);
    assert_eq!(total("dropped"), 1);
    assert_eq!(total("rate_limited"), 1);
    assert_eq!(total("unauthorized"), 1);
    assert!(keys.iter().any(|k| k["revoked"] == true));
}

#[tokio::test]
async fn admin_state_metrics_and_reset() {
    let server = start(TWO_ORGS).await;
    let client = reqwest::Client::new();
    for _ in 0..4 {
        chat(&client, &server.url, "gsk_test_a1", &chat_body(10)).await;
    }
    chat(&client, &server.url, "wrong", &chat_body(10)).await;
    let state_text = client
        .get(format!("{}/admin/state", server.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        !state_text.contains("gsk_test"),
        "admin state shows a full key: {state_text}"
    );
    let state: Value = serde_json::from_str(&state_text).unwrap_or_else(|e| panic!("{e}"));
    let a1 = &state["orgs"][0]["keys"][0];
    assert_eq!(a1["fingerprint"], mock_groq::fingerprint("gsk_test_a1"));
    assert_eq!(
        (
            a1["requests"].as_u64(),
            a1["ok"].as_u64(),
            a1["rate_limited"].as_u64()
        ),
        (Some(4), Some(3), Some(1))
    );
    // The 429 came from requests per minute running out, and says so.
    assert_eq!(a1["rate_limited_rpm"], 1);
    assert_eq!(a1["rate_limited_tpm"], 0);
    assert_eq!(state["unauthenticated"]["unauthorized"], 1);
    assert_eq!(state["totals"]["requests"], 5);
    let rpm = state["orgs"][0]["models"][0]["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["window"] == "rpm").cloned())
        .unwrap_or_default();
    assert_eq!(rpm["limit"], 3);
    assert!(rpm["used"].as_f64().is_some_and(|u| u > 2.9), "{rpm}");

    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let metrics = metrics.text().await.unwrap_or_default();
    let line = format!(
        "mock_groq_requests_total{{org=\"org_a\",key=\"{}\",outcome=\"rate_limited\"}} 1",
        mock_groq::fingerprint("gsk_test_a1")
    );
    assert!(metrics.contains(&line), "{metrics}");
    let by_window = format!(
        "mock_groq_rate_limited_total{{org=\"org_a\",key=\"{}\",window=\"rpm\"}} 1",
        mock_groq::fingerprint("gsk_test_a1")
    );
    assert!(metrics.contains(&by_window), "{metrics}");
    assert!(!metrics.contains("gsk_test"));

    let reset = client
        .post(format!("{}/admin/reset", server.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reset.status(), 200);
    assert_eq!(
        chat(&client, &server.url, "gsk_test_a1", &chat_body(10))
            .await
            .status(),
        200
    );
    let health = client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json(health).await["status"], "ok");
    let models = client
        .get(format!("{}/openai/v1/models", server.url))
        .bearer_auth("gsk_test_a1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let models = json(models).await;
    assert_eq!(models["object"], "list");
    assert!(
        models["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|m| m["id"] == "openai/gpt-oss-20b"))
    );
}

#[tokio::test]
async fn metrics_escape_an_organisation_id_from_the_config() {
    let config = r#"
[latency]
enabled = false
[[orgs]]
id = "team \"a\" \\ b"
keys = ["gsk_test_q1"]
"#;
    let server = start(config).await;
    let client = reqwest::Client::new();
    let response = chat(&client, &server.url, "gsk_test_q1", &chat_body(10)).await;
    assert_eq!(response.status(), 200);
    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        header(&metrics, "content-type").starts_with("text/plain; version=0.0.4"),
        "{metrics:?}"
    );
    let metrics = metrics.text().await.unwrap_or_default();
    let line = format!(
        r#"mock_groq_requests_total{{org="team \"a\" \\ b",key="{}",outcome="ok"}} 1"#,
        mock_groq::fingerprint("gsk_test_q1")
    );
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
}

#[tokio::test]
async fn time_scale_makes_windows_pass_faster() {
    // RPM 1 at 60×: the minute window passes in one real second.
    let config = r#"
time_scale = 60.0
[latency]
enabled = false
[[orgs]]
id = "o"
keys = ["k"]
limits = { rpm = 1 }
"#;
    let server = start(config).await;
    let client = reqwest::Client::new();
    assert_eq!(
        chat(&client, &server.url, "k", &chat_body(10))
            .await
            .status(),
        200
    );
    let limited = chat(&client, &server.url, "k", &chat_body(10)).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "retry-after"), "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        chat(&client, &server.url, "k", &chat_body(10))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn unused_reservation_is_given_back() {
    // Completions use exactly 10 % of max_tokens; TPM 1000.
    let config = r#"
[latency]
enabled = false
[completion]
min_fraction = 0.1
max_fraction = 0.1
[[orgs]]
id = "o"
keys = ["k"]
limits = { tpm = 1000 }
"#;
    let server = start(config).await;
    let client = reqwest::Client::new();
    let first = chat(&client, &server.url, "k", &chat_body(900)).await;
    assert_eq!(first.status(), 200);
    // Admission reserves 13 prompt + 900: the headers at admission show it.
    assert_eq!(header(&first, "x-ratelimit-remaining-tokens"), "87");
    let usage = json(first).await["usage"]["total_tokens"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(usage, 13 + 90);
    // After settlement only the actual usage counts (a little refilled meanwhile).
    let second = chat(&client, &server.url, "k", &chat_body(100)).await;
    assert_eq!(second.status(), 200);
    let remaining: u64 = header(&second, "x-ratelimit-remaining-tokens")
        .parse()
        .unwrap_or(0);
    let expected = 1000 - 103 - 113;
    assert!(
        (expected..expected + 20).contains(&remaining),
        "{remaining}"
    );
}

#[tokio::test]
async fn a_stream_error_breaks_a_stream_off_after_its_200_and_spares_json_answers() {
    let server = start(
        r#"
[latency]
enabled = false
[[orgs]]
id = "flaky"
keys = ["k_flaky"]
[[faults]]
kind = "stream_error"
"#,
    )
    .await;
    let client = reqwest::Client::new();
    let mut body = chat_body(40);
    body["stream"] = serde_json::json!(true);
    let broken = chat(&client, &server.url, "k_flaky", &body).await;
    assert_eq!(broken.status(), 200);
    let text = broken.text().await.unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    let last = events.last().copied().unwrap_or("");
    assert!(
        events.len() > 2,
        "some content comes before the error: {text}"
    );
    assert!(!text.contains("[DONE]"), "{text}");
    let error: Value = serde_json::from_str(last.trim_start_matches("data: "))
        .unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(error["error"]["type"], "internal_server_error");

    // A JSON answer has no stream to break.
    let whole = chat(&client, &server.url, "k_flaky", &chat_body(40)).await;
    assert_eq!(whole.status(), 200);
    assert!(json(whole).await["choices"][0]["message"]["content"].is_string());

    let state = admin_state(&client, &server.url).await;
    assert_eq!(state["totals"]["stream_errors"], 1, "{state}");
    assert_eq!(state["totals"]["ok"], 1, "{state}");
}

/// Groq retired llama-3.3-70b-versatile for the free and developer tiers on 2026-08-16: from
/// that day a request naming it gets Groq's 404 `model_not_found`, and /models no longer
/// lists it; the day before it is served with the limits of that time.
#[tokio::test]
async fn a_decommissioned_model_answers_404_from_its_day_and_200_before() {
    let client = reqwest::Client::new();
    let llama = json!({"model": "llama-3.3-70b-versatile", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10});
    for (as_of, served) in [
        ("2026-08-15", true),
        ("2026-08-16", false),
        ("2025-12-24", true),
    ] {
        let server = common::start(&format!(
            "as_of = \"{as_of}\"\n[latency]\nenabled = false\n[[orgs]]\nid = \"org_a\"\nkeys = [\"gsk_a\"]\n"
        ))
        .await;
        let response = chat(&client, &server.url, "gsk_a", &llama).await;
        let status = response.status().as_u16();
        let limit = response
            .headers()
            .get("x-ratelimit-limit-tokens")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let models = client
            .get(format!("{}/openai/v1/models", server.url))
            .bearer_auth("gsk_a")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_default();
        if served {
            assert_eq!(status, 200, "{as_of}: {text}");
            assert_eq!(limit.as_deref(), Some("12000"), "{as_of}: TPM of that time");
            assert!(models.contains("\"llama-3.3-70b-versatile\""), "{models}");
        } else {
            assert_eq!(status, 404, "{as_of}");
            assert_eq!(
                text,
                r#"{"error":{"message":"The model `llama-3.3-70b-versatile` does not exist or you do not have access to it.","type":"invalid_request_error","code":"model_not_found"}}"#
            );
            assert!(!models.contains("llama-3.3"), "{models}");
            assert!(models.contains("\"openai/gpt-oss-120b\""), "{models}");
        }
    }
}

#[tokio::test]
async fn attribution_files_each_call_under_the_drivers_marker() {
    let server = common::start(
        "attribution = true\n[latency]\nenabled = false\n[[orgs]]\nid = \"org_a\"\nkeys = [\"gsk_attr_a\"]\n",
    )
    .await;
    let client = reqwest::Client::new();
    let mut marked = common::chat_body(10);
    marked["messages"][0]["content"] = json!("Hello [kr:5] there");
    let ok = common::chat(&client, &server.url, "gsk_attr_a", &marked).await;
    assert_eq!(ok.status(), 200);
    let unknown = common::chat(&client, &server.url, "gsk_not_known", &marked).await;
    assert_eq!(unknown.status(), 401);
    let plain = common::chat(&client, &server.url, "gsk_attr_a", &common::chat_body(10)).await;
    assert_eq!(plain.status(), 200);

    let log: Value = client
        .get(format!("{}/admin/attribution", server.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let calls = log["calls"]["5"].as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 2, "{log}");
    assert_eq!(
        (calls[0]["key"].clone(), calls[0]["status"].clone()),
        (json!(0), json!(200))
    );
    assert_eq!(
        (calls[1]["key"].clone(), calls[1]["status"].clone()),
        (Value::Null, json!(401))
    );
    assert_eq!(log["unattributed"], 1, "{log}");

    let off = common::start("[[orgs]]\nid = \"org_a\"\nkeys = [\"gsk_attr_b\"]\n").await;
    let refused = client
        .get(format!("{}/admin/attribution", off.url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refused.status(), 404, "off unless the config asks");
}

/// A web page cannot reset the mock or spend its keys: a DNS-rebinding request (the page's
/// own name as `Host`, with a matching `Origin`) and a cross-site one (a foreign `Origin`)
/// are refused before any route runs; this machine's programs are served.
#[tokio::test]
async fn a_web_page_reaches_no_route_of_the_mock_on_loopback() {
    let server = start(TWO_ORGS).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let raw = |head: String| {
        let addr = addr.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(&addr)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let body = "{}";
            let request = format!(
                "{head}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream
                .write_all(request.as_bytes())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer).await;
            answer
        }
    };
    let rebinding = raw(
        "POST /admin/reset HTTP/1.1\r\nHost: evil.example:80\r\nOrigin: http://evil.example:80\r\n"
            .to_owned(),
    )
    .await;
    assert!(rebinding.starts_with("HTTP/1.1 403"), "{rebinding}");
    assert!(rebinding.contains("foreign_request"), "{rebinding}");
    let cross_site = raw(format!(
        "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\nAuthorization: Bearer gsk_test_b1\r\n"
    ))
    .await;
    assert!(cross_site.starts_with("HTTP/1.1 403"), "{cross_site}");
    let own = raw(format!("POST /admin/reset HTTP/1.1\r\nHost: {addr}\r\n")).await;
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");
    let state = admin_state(&reqwest::Client::new(), &server.url).await;
    assert_eq!(
        state["orgs"][1]["keys"][0]["requests"], 0,
        "no key was spent"
    );
}
