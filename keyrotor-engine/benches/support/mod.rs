//! What the engine's benches share: a transport that answers at once with a prebuilt 200
//! carrying Groq's rate-limit headers.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use keyrotor_engine::ApiKey;
use keyrotor_engine::transport::{Reply, Transport, TransportError};

/// Answers every attempt at once with the same reply.
#[derive(Clone)]
pub struct Instant200(pub Reply);

impl Transport for Instant200 {
    async fn send(&self, _key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
        Ok(self.0.clone())
    }
}

/// A 200 with plenty of budget left in its headers.
pub fn reply() -> Reply {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-ratelimit-limit-requests", "14400"),
        ("x-ratelimit-remaining-requests", "14000"),
        ("x-ratelimit-limit-tokens", "1000000000"),
        ("x-ratelimit-remaining-tokens", "999000000"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    Reply {
        status: 200,
        headers,
        body: Bytes::from_static(br#"{"choices":[{"message":{"content":"hi"}}]}"#),
    }
}
