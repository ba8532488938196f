//! A scripted transport for engine tests: a function of (key, call number) decides each
//! answer, and every call is logged with its (virtual) time.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use keyrotor_engine::ApiKey;
use keyrotor_engine::transport::{Reply, Transport, TransportError};
use tokio::time::Instant;

pub type Script = dyn Fn(usize, usize) -> Result<Reply, TransportError> + Send + Sync;

#[derive(Clone)]
pub struct Scripted {
    keys: Vec<ApiKey>,
    script: Arc<Script>,
    pub log: Arc<Mutex<Vec<(usize, Instant)>>>,
}

impl Scripted {
    pub fn new(
        keys: &[ApiKey],
        script: impl Fn(usize, usize) -> Result<Reply, TransportError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            keys: keys.to_vec(),
            script: Arc::new(script),
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn calls(&self) -> Vec<usize> {
        self.log
            .lock()
            .map(|l| l.iter().map(|(k, _)| *k).collect())
            .unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }
}

impl Transport for Scripted {
    async fn send(&self, key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
        let k = self
            .keys
            .iter()
            .position(|x| x == key)
            .unwrap_or(usize::MAX);
        let n = {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            log.push((k, Instant::now()));
            log.len()
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        (self.script)(k, n)
    }
}

pub fn keys(n: usize) -> Vec<ApiKey> {
    (0..n)
        .map(|i| ApiKey::new(format!("gsk_scripted_{i}")))
        .collect()
}

pub fn reply(
    status: u16,
    headers: &[(&'static str, String)],
    body: &str,
) -> Result<Reply, TransportError> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            map.insert(*k, v);
        }
    }
    Ok(Reply {
        status,
        headers: map,
        body: Bytes::from(body.to_owned()),
    })
}

pub fn ok() -> Result<Reply, TransportError> {
    reply(200, &[], r#"{"choices":[{"message":{"content":"hi"}}]}"#)
}

pub fn ok_with_budget(
    remaining_requests: u64,
    limit_requests: u64,
) -> Result<Reply, TransportError> {
    reply(
        200,
        &[
            ("x-ratelimit-limit-requests", limit_requests.to_string()),
            (
                "x-ratelimit-remaining-requests",
                remaining_requests.to_string(),
            ),
        ],
        r#"{"choices":[{"message":{"content":"hi"}}]}"#,
    )
}

pub fn minute_429(org: &str, wait_s: u64) -> Result<Reply, TransportError> {
    let body = format!(
        r#"{{"error":{{"message":"Rate limit reached for model `m` in organization `{org}` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 12000, Requested 500. Please try again in {wait_s}s.","type":"tokens","code":"rate_limit_exceeded"}}}}"#
    );
    reply(429, &[("retry-after", wait_s.to_string())], &body)
}

pub fn day_429(org: &str, wait_s: u64) -> Result<Reply, TransportError> {
    let body = format!(
        r#"{{"error":{{"message":"Rate limit reached for model `m` in organization `{org}` service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 100000, Requested 500. Please try again in {wait_s}s.","type":"tokens","code":"rate_limit_exceeded"}}}}"#
    );
    reply(429, &[("retry-after", wait_s.to_string())], &body)
}

pub fn status(code: u16) -> Result<Reply, TransportError> {
    let body = match code {
        401 => {
            r#"{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}"#
        }
        413 => {
            r#"{"error":{"message":"Request too large for model `m` in organization `o` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 9000, please reduce your message size and try again.","type":"tokens","code":"rate_limit_exceeded"}}"#
        }
        503 => {
            r#"{"error":{"message":"m is currently over capacity. Please try again and back off exponentially.","type":"internal_server_error"}}"#
        }
        _ => r#"{"error":{"message":"Internal Server Error","type":"internal_server_error"}}"#,
    };
    reply(code, &[], body)
}
