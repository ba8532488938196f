//! The headers Groq puts on every response: `x-ratelimit-*` (RPD for requests, TPM for
//! tokens, resets as Go durations), `x-request-id`, and `retry-after` on 429.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::clock::Clock;
use crate::goduration;
use crate::ledger::Snapshot;

/// Adds the rate-limit headers for a ledger snapshot; reset times are converted from the
/// ledger's scaled clock to real time.
pub fn insert_rate_limits(headers: &mut HeaderMap, snap: &Snapshot, clock: &Clock) {
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    if let Some(limit) = snap.limit_requests {
        put("x-ratelimit-limit-requests", limit.to_string());
        put(
            "x-ratelimit-remaining-requests",
            snap.remaining_requests.to_string(),
        );
        put(
            "x-ratelimit-reset-requests",
            goduration::format_millis(clock.to_real(snap.reset_requests)),
        );
    }
    if let Some(limit) = snap.limit_tokens {
        put("x-ratelimit-limit-tokens", limit.to_string());
        put(
            "x-ratelimit-remaining-tokens",
            snap.remaining_tokens.to_string(),
        );
        put(
            "x-ratelimit-reset-tokens",
            goduration::format_millis(clock.to_real(snap.reset_tokens)),
        );
    }
}

/// Adds `x-request-id`.
pub fn insert_request_id(headers: &mut HeaderMap, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static("x-request-id"), v);
    }
}

/// Adds `retry-after` in whole seconds, rounded up, at least 1.
pub fn insert_retry_after(headers: &mut HeaderMap, wait_real: Duration) {
    let secs = wait_real.as_secs_f64().ceil().max(1.0) as u64;
    headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
}
