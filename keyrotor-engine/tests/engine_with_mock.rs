//! The engine against the real mock: many tasks through one Rotor (in-process, no socket),
//! every request accounted for exactly once and matching the mock's own counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use keyrotor_engine::transport::InProcessTransport;
use keyrotor_engine::{ApiKey, ChatRequest, PolicyConfig, Rotor, RotorOptions};
use mock_groq::Config;
use serde_json::Value;
use tower::ServiceExt;

const MOCK: &str = r#"
seed = 3
[latency]
enabled = false
[[orgs]]
id = "org_a"
keys = ["k_a"]
limits = { rpm = 30 }
[[orgs]]
id = "org_b"
keys = ["k_b1", "k_b2"]
limits = { rpm = 30 }
[[orgs]]
id = "org_c"
keys = ["k_c"]
limits = { rpm = 30 }
"#;

fn keys() -> Vec<ApiKey> {
    ["k_a", "k_b1", "k_b2", "k_c"]
        .into_iter()
        .map(ApiKey::new)
        .collect()
}

async fn admin_state(router: &axum::Router) -> Value {
    let request = Request::get("/admin/state")
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

async fn hammer(name: &str) {
    let config = Config::from_toml(MOCK).unwrap_or_else(|e| panic!("{e}"));
    let router = mock_groq::router(config).unwrap_or_else(|e| panic!("{e}"));
    let transport = InProcessTransport::new(router.clone(), Duration::from_secs(5));
    let policy: PolicyConfig = name.parse().unwrap_or_else(|e| panic!("{e}"));
    let rotor = Rotor::new(keys(), policy, transport, RotorOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (rotor, ok, failed) = (rotor.clone(), Arc::clone(&ok), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                let sent = rotor
                    .send(&ChatRequest::synthetic(
                        "openai/gpt-oss-120b",
                        50,
                        20,
                        false,
                    ))
                    .await;
                let counter = if sent.outcome.is_ok() { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap_or_else(|e| panic!("{e}"));
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(ok + failed, 200, "{name}: every request ends exactly once");
    // 3 organisations × 30 RPM: about 90 can succeed within the test's second or two; the
    // policies that stay on one key get one organisation's 30 (a finding, not a bug).
    assert!(
        ok <= 95,
        "{name}: {ok} succeeded, more than the organisations allow"
    );
    if name.starts_with("round-robin") {
        assert!(ok >= 85, "{name}: {ok} succeeded");
    }
    if name.starts_with("adaptive") {
        // With max_wait=0 a request never waits for a key that is being probed after a 429
        // (half-open), so a burst loses some of the organisations' 90 to timing: how many
        // depends on how the machine schedules the tasks (70 and more on an idle machine,
        // fewer with every core busy). What holds on any machine: a probe holds one key at a
        // time while the others serve, so at least a third of the 90 is answered.
        assert!(ok >= 30, "{name}: {ok} succeeded");
    }
    eprintln!("{name}: {ok} of 200 succeeded");
    let status = rotor.status();
    let state = admin_state(&router).await;
    assert_eq!(
        Some(status.totals.requests),
        state["totals"]["requests"].as_u64(),
        "{name}: attempts"
    );
    assert_eq!(
        Some(status.totals.successes),
        state["totals"]["ok"].as_u64(),
        "{name}: successes"
    );
    assert_eq!(
        status.totals.successes, ok,
        "{name}: one success per succeeded request"
    );
    let limited: u64 = status
        .keys
        .iter()
        .map(|k| k.failures.get("rate_limited_minute").copied().unwrap_or(0))
        .sum();
    assert_eq!(
        Some(limited),
        state["totals"]["rate_limited"].as_u64(),
        "{name}: 429s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_through_one_rotor_account_for_every_request() {
    for policy in [
        "round-robin",
        "cooldown",
        "error-threshold",
        "adaptive:max_wait=0s",
        "daily-exhaust:max_backoff_retries=0",
        "sticky-failover:sdk_retries=0",
    ] {
        hammer(policy).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_learns_the_shared_org_and_spends_no_429_on_it() {
    // Keys b1 and b2 share org_b; the adaptive rotor is told RPM in advance and must pace.
    let config = Config::from_toml(MOCK).unwrap_or_else(|e| panic!("{e}"));
    let router = mock_groq::router(config).unwrap_or_else(|e| panic!("{e}"));
    let transport = InProcessTransport::new(router.clone(), Duration::from_secs(5));
    let policy: PolicyConfig = "adaptive:rpm_hint=30,max_wait=0s"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let rotor = Rotor::new(keys(), policy, transport, RotorOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut ok = 0;
    for _ in 0..150 {
        if rotor
            .send(&ChatRequest::synthetic(
                "openai/gpt-oss-120b",
                50,
                20,
                false,
            ))
            .await
            .outcome
            .is_ok()
        {
            ok += 1;
        }
    }
    let status = rotor.status();
    assert_eq!(
        status.keys[1].group, status.keys[2].group,
        "b1 and b2 learned as one organisation"
    );
    assert_ne!(status.keys[0].group, status.keys[1].group);
    let state = admin_state(&router).await;
    // Paced: the org_b pair is not spent on 429s beyond what learning the grouping costs.
    let limited = state["totals"]["rate_limited"].as_u64().unwrap_or(u64::MAX);
    assert!(limited <= 2, "{limited} 429s");
    assert!(ok >= 90, "{ok}");
}

/// Gemini names no project in its 429s and sends no counters, so the engine learns which keys
/// share one from the per-minute 429s themselves, by elimination (`pool/minute.rs`): four keys
/// in two projects of 4 requests a minute, 30 a minute offered for 4 minutes, end in two
/// groups, as the projects are; and once learned, a 429 rests the project's two keys at once.
#[tokio::test(start_paused = true)]
async fn gemini_keys_are_learned_into_their_projects_from_per_minute_429s() {
    const GEMINI: &str = r#"
provider = "gemini"
models = ["gemini-2.5-flash"]
seed = 3
[latency]
enabled = false
[[orgs]]
id = "project_one"
keys = ["g1", "g2"]
limits = { rpm = 4 }
[[orgs]]
id = "project_two"
keys = ["g3", "g4"]
limits = { rpm = 4 }
"#;
    let config = Config::from_toml(GEMINI).unwrap_or_else(|e| panic!("{e}"));
    let router = mock_groq::router(config).unwrap_or_else(|e| panic!("{e}"));
    let gemini = keyrotor_engine::Gemini::default();
    let transport = InProcessTransport::new(router, Duration::from_secs(5))
        .with_path(keyrotor_engine::Provider::chat_path(&gemini));
    let keys = ["g1", "g2", "g3", "g4"].map(ApiKey::new).to_vec();
    let policy: PolicyConfig = "adaptive".parse().unwrap_or_else(|e| panic!("{e}"));
    let rotor = Rotor::for_provider(keys, policy, transport, RotorOptions::default(), gemini)
        .unwrap_or_else(|e| panic!("{e}"));
    let request = ChatRequest::synthetic("gemini-2.5-flash", 20, 10, false);
    // Bursts: 12 requests at once each minute, for 6 minutes.
    for _ in 0..6 {
        for _ in 0..12 {
            let _ = rotor.send(&request).await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let status = rotor.status();
    let groups: Vec<usize> = status.keys.iter().map(|k| k.group).collect();
    assert_eq!(
        groups[0], groups[1],
        "g1 and g2 share project one: {groups:?}"
    );
    assert_eq!(
        groups[2], groups[3],
        "g3 and g4 share project two: {groups:?}"
    );
    assert_ne!(groups[0], groups[2], "the projects are apart: {groups:?}");
}
