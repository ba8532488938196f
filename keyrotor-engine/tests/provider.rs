//! The provider seam end to end: the same rotor and policy read another provider's answers
//! through its `Provider`, with no change to either.

use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use keyrotor_engine::transport::{Reply, Transport, TransportError};
use keyrotor_engine::{ApiKey, ChatRequest, OpenAi, Rotor, RotorOptions};

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
    let keys = vec![ApiKey::new("sk-first"), ApiKey::new("sk-second")];
    let policy = "adaptive".parse().unwrap_or_else(|e| panic!("{e}"));
    Rotor::for_provider(
        keys,
        policy,
        Script(Mutex::new(script)),
        RotorOptions::default(),
        OpenAi,
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
