//! One line per chat request, for the operator: its request id (the client's `x-request-id`
//! when it sends a sane one, else the proxy's own), the status the app got, and each attempt
//! by key fingerprint, with what it met and how long it took. Logged at INFO (`RUST_LOG=info`;
//! `--log-format json` makes each line a JSON object), never with a key or a body.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use keyrotor_engine::{ApiKey, Trace};

use crate::pools::Pool;

/// The header a request id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Ids handed out by this process.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// A request's id: the client's `x-request-id` when it is 1 to 64 letters, digits, `-`,
/// `_` or `.`; otherwise `kr-` and a number unique in this process.
pub fn request_id(headers: &HeaderMap) -> String {
    let sane = |id: &&str| {
        (1..=64).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(sane)
    {
        Some(id) => id.to_owned(),
        None => format!("kr-{:x}", NEXT.fetch_add(1, Ordering::Relaxed)),
    }
}

/// Sets the id on the answer and logs the request's line.
/// `pool` is the pool that served it (`None` when it was refused before one was chosen).
pub fn record(headers: &mut HeaderMap, id: &str, status: u16, trace: &Trace, pool: Option<&Pool>) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(REQUEST_ID, value);
    }
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let (name, keys) = pool.map_or(("", &[][..]), |p| (p.name.as_str(), p.rotor.keys()));
    tracing::info!(
        request_id = id,
        status,
        pool = name,
        attempts = %attempts(trace, keys),
        failed_over = trace.failed_over(),
        total_ms = trace.total.as_millis() as u64,
        "chat request"
    );
}

/// `key:3f9a1c2e rate_limited 12ms, key:77aa01b2 ok 80ms`.
fn attempts(trace: &Trace, keys: &[ApiKey]) -> String {
    trace
        .attempts
        .iter()
        .map(|a| {
            let key = keys
                .get(a.key)
                .map_or_else(|| "key:?".to_owned(), ApiKey::fingerprint);
            let met = a.failure.as_ref().map_or("ok", |f| f.reason());
            let took = a.end.saturating_sub(a.start).as_millis();
            format!("{key} {met} {took}ms")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_sane_id_is_kept_and_any_other_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("req_01hx-abc.9"));
        assert_eq!(request_id(&headers), "req_01hx-abc.9");
        for bad in ["", "has space", "quote\"", &"x".repeat(65)] {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(bad) {
                headers.insert(REQUEST_ID, v);
            }
            let id = request_id(&headers);
            assert!(id.starts_with("kr-"), "{bad:?} gave {id}");
        }
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }
}
