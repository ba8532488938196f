//! The headers every answer carries: `x-request-id`, and `retry-after` on Groq's 429. The
//! rate-limit headers are the provider's ([`crate::provider::Provider::insert_rate_limits`]:
//! Groq's `x-ratelimit-*`, RPD for requests and TPM for tokens, resets as Go durations).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Adds `x-request-id`.
pub fn insert_request_id(headers: &mut HeaderMap, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static(groq_wire::header::REQUEST_ID), v);
    }
}

/// Adds `retry-after` in whole seconds, rounded up, at least 1.
pub fn insert_retry_after(headers: &mut HeaderMap, wait_real: Duration) {
    let secs = wait_real.as_secs_f64().ceil().max(1.0) as u64;
    headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
}
