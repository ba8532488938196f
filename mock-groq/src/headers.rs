//! The headers Groq puts on every response: `x-ratelimit-*` (RPD for requests, TPM for
//! tokens, resets as Go durations), `x-request-id`, and `retry-after` on 429.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::clock::Clock;
use crate::goduration;
use crate::ledger::Snapshot;

const LIMIT_REQUESTS: HeaderName = HeaderName::from_static(groq_wire::header::LIMIT_REQUESTS);
const REMAINING_REQUESTS: HeaderName =
    HeaderName::from_static(groq_wire::header::REMAINING_REQUESTS);
const RESET_REQUESTS: HeaderName = HeaderName::from_static(groq_wire::header::RESET_REQUESTS);
const LIMIT_TOKENS: HeaderName = HeaderName::from_static(groq_wire::header::LIMIT_TOKENS);
const REMAINING_TOKENS: HeaderName = HeaderName::from_static(groq_wire::header::REMAINING_TOKENS);
const RESET_TOKENS: HeaderName = HeaderName::from_static(groq_wire::header::RESET_TOKENS);

/// Adds the rate-limit headers for a ledger snapshot; reset times are converted from the
/// ledger's scaled clock to real time.
pub fn insert_rate_limits(headers: &mut HeaderMap, snap: &Snapshot, clock: &Clock) {
    let duration = |d| HeaderValue::from_str(&goduration::format_millis(clock.to_real(d)));
    if let Some(limit) = snap.limit_requests {
        headers.insert(LIMIT_REQUESTS, HeaderValue::from(limit));
        headers.insert(
            REMAINING_REQUESTS,
            HeaderValue::from(snap.remaining_requests),
        );
        if let Ok(v) = duration(snap.reset_requests) {
            headers.insert(RESET_REQUESTS, v);
        }
    }
    if let Some(limit) = snap.limit_tokens {
        headers.insert(LIMIT_TOKENS, HeaderValue::from(limit));
        headers.insert(REMAINING_TOKENS, HeaderValue::from(snap.remaining_tokens));
        if let Ok(v) = duration(snap.reset_tokens) {
            headers.insert(RESET_TOKENS, v);
        }
    }
}

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
