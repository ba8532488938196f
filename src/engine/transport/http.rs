//! HTTP transport over reqwest: one pooled client, connect and request timeouts.

use axum::body::Bytes;

use super::{CHAT_PATH, Reply, Timeouts, Transport, TransportError};
use crate::engine::keys::ApiKey;

/// Sends attempts over HTTP(S) to a base URL such as `https://api.groq.com` or the mock's.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    /// Parsed once: reqwest would parse a string URL on every request.
    url: reqwest::Url,
}

impl HttpTransport {
    /// A transport for `base_url` (without the `/openai/v1/...` path).
    pub fn new(base_url: &str, timeouts: Timeouts) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| TransportError::Connection(format!("cannot build HTTP client: {e}")))?;
        let url = format!("{}{CHAT_PATH}", base_url.trim_end_matches('/'));
        let url = reqwest::Url::parse(&url)
            .map_err(|e| TransportError::Connection(format!("bad base URL `{base_url}`: {e}")))?;
        Ok(Self { client, url })
    }
}

fn transport_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else {
        TransportError::Connection(e.without_url().to_string())
    }
}

impl Transport for HttpTransport {
    async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
        let response = self
            .client
            .post(self.url.clone())
            .bearer_auth(key.expose())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
