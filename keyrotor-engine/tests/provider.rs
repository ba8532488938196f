//! The provider seam end to end: the same rotor and policy read another provider's answers
//! through its `Provider`, with no change to either.

use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use keyrotor_engine::transport::{Reply, Transport, TransportError};
use keyrotor_engine::{ApiKey, ChatRequest, Gemini, OpenAi, Provider, Rotor, RotorOptions};

/// One scripted answer: status, body, headers.
type Line = (u16, &'static str, &'static [(&'static str, &'static str)]);

/// Answers from a script, in order; then 200s.
#[derive(Debug)]
struct Script(Mutex<Vec<Line>>);

impl Transport for Script {
    async fn send(&self, _key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
        let next = self
            .0
            .lock()
            .ok()
            .and_then(|mut s| (!s.is_empty()).then(|| s.remove(0)));
        let (status, body, pairs) = next.unwrap_or((200, OK, &[]));
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(*k, HeaderValue::from_static(v));
        }
        Ok(Reply {
            status,
            headers,
            body: Bytes::from_static(body.as_bytes()),
        })
    }
}

const OK: &str = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"total_tokens":9}}"#;
const RPM: &str = r#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
const TOO_LARGE: &str = r#"{"error":{"message":"Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 10000, Requested 20000.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;

fn rotor(script: Vec<Line>) -> Rotor<Script> {
    rotor_of(script, OpenAi)
}

fn rotor_of(script: Vec<Line>, provider: impl Provider) -> Rotor<Script> {
    let keys = vec![ApiKey::new("sk-first"), ApiKey::new("sk-second")];
    let policy = "adaptive".parse().unwrap_or_else(|e| panic!("{e}"));
    Rotor::for_provider(
        keys,
        policy,
        Script(Mutex::new(script)),
        RotorOptions::default(),
        provider,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(start_paused = true)]
async fn an_openai_rate_limit_fails_over_and_an_oversized_request_stops() {
    let request = ChatRequest::synthetic("gpt-4o", 20, 10, false);
    // A per-minute 429 rests that key for the 20 s it names; the other key answers.
    let r = rotor(vec![(429, RPM, &[("x-ratelimit-remaining-requests", "0")])]);
    let sent = r.send(&request).await;
    assert!(sent.outcome.is_ok(), "{:?}", sent.trace);
    let tried: Vec<usize> = sent.trace.attempts.iter().map(|a| a.key).collect();
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert_ne!(tried[0], tried[1]);
    // OpenAI answers a request over the whole limit with a 429: no key can serve it.
    let r = rotor(vec![(429, TOO_LARGE, &[])]);
    let sent = r.send(&request).await;
    let failed = sent
        .outcome
        .err()
        .unwrap_or_else(|| panic!("a too-large request succeeded"));
    assert_eq!(failed.reason(), "too_large");
    assert_eq!(sent.trace.attempts.len(), 1);
    assert!(format!("{r:?}").contains("openai"));
}

/// Gemini's per-day quota (its project's, for the model) comes back whole at midnight Pacific
/// time: the key that met it rests until then — not for the seconds `retryDelay` says — and
/// the other key answers; a per-minute 429 rests its key for its `retryDelay` only.
#[tokio::test(start_paused = true)]
async fn a_gemini_daily_quota_rests_its_key_until_midnight_pacific() {
    const DAY: &str = r#"[{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier","quotaValue":"250"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12s"}]}}]"#;
    const MINUTE: &str = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaValue":"10"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}"#;
    let request = ChatRequest::synthetic("gemini-2.5-flash", 20, 10, false);
    let until_midnight = || {
        let now = jiff::Timestamp::now();
        let next = Gemini::default().daily_reset(now);
        next.map(|at| at.duration_since(now).as_secs_f64())
            .unwrap_or_else(|| panic!("no daily reset"))
    };
    let r = rotor_of(vec![(429, DAY, &[])], Gemini::default());
    let sent = r.send(&request).await;
    assert!(sent.outcome.is_ok(), "{:?}", sent.trace);
    let tried: Vec<usize> = sent.trace.attempts.iter().map(|a| a.key).collect();
    assert_eq!(tried, [0, 1]);
    let first = &r.status().keys[0];
    assert_eq!(first.state, "exhausted", "{first:?}");
    let rests = first.ready_in_ms.map(|ms| ms as f64 / 1000.0);
    let expected = until_midnight();
    assert!(
        rests.is_some_and(|s| (s - expected).abs() < 5.0),
        "rests {rests:?} s, midnight Pacific is {expected} s away"
    );
    let r = rotor_of(vec![(429, MINUTE, &[])], Gemini::default());
    assert!(r.send(&request).await.outcome.is_ok());
    let first = &r.status().keys[0];
    let rests = first.ready_in_ms.map(|ms| ms as f64 / 1000.0);
    assert!(
        rests.is_some_and(|s| s > 30.0 && s <= 37.5),
        "a per-minute 429 rests {rests:?} s"
    );
}

/// OpenRouter's limits are the account's: one key's per-minute 429 rests every key, so the
/// rotor waits the `retry-after` and tries again rather than spending a 429 on each other key
/// of the account; Gemini keys (limits per project, none learned yet) fail over at once.
#[tokio::test(start_paused = true)]
async fn openrouter_keys_rest_together_and_gemini_keys_fail_over() {
    use keyrotor_engine::OpenRouter;
    const MINUTE: &str =
        r#"{"error":{"message":"Rate limit exceeded: free-models-per-min. ","code":429}}"#;
    let request = ChatRequest::synthetic("meta-llama/llama-3.3-70b-instruct:free", 20, 10, false);
    let r = rotor_of(
        vec![(429, MINUTE, &[("retry-after", "7")])],
        OpenRouter::default(),
    );
    let start = tokio::time::Instant::now();
    let sent = r.send(&request).await;
    assert!(sent.outcome.is_ok(), "{:?}", sent.trace);
    let waited = start.elapsed().as_secs_f64();
    assert_eq!(sent.trace.attempts.len(), 2, "{:?}", sent.trace);
    assert!((7.0..8.0).contains(&waited), "waited {waited} s");

    const GEMINI: &str = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaValue":"10"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#;
    let r = rotor_of(vec![(429, GEMINI, &[])], Gemini::default());
    let start = tokio::time::Instant::now();
    let sent = r.send(&request).await;
    assert!(sent.outcome.is_ok(), "{:?}", sent.trace);
    let tried: Vec<usize> = sent.trace.attempts.iter().map(|a| a.key).collect();
    assert_eq!(tried, [0, 1]);
    assert!(start.elapsed().as_secs_f64() < 1.0);
}

/// A provider chosen at run time (boxed, as the proxy and the harness pick it from a config)
/// says everything its type says, its one scope included.
#[test]
fn a_boxed_provider_keeps_its_one_scope() {
    use keyrotor_engine::provider::ProviderName;
    for name in ProviderName::ALL {
        let boxed = name.provider();
        let one = boxed.keys_share_one_scope();
        assert_eq!(Box::new(boxed).keys_share_one_scope(), one, "{name}");
        assert_eq!(one, name == ProviderName::Openrouter, "{name}");
    }
}
