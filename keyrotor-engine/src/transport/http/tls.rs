//! `https://` targets over reqwest: one pooled client, connect and request timeouts.

use bytes::Bytes;

use super::{Reply, Timeouts, TransportError};
use crate::keys::ApiKey;

/// A reqwest client and the chat endpoint's URL.
#[derive(Debug)]
pub(super) struct Tls {
    client: reqwest::Client,
    /// Parsed once: reqwest would parse a string URL on every request.
    url: reqwest::Url,
}

impl Tls {
    pub(super) fn new(url: reqwest::Url, timeouts: Timeouts) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| TransportError::Connection(format!("cannot build HTTP client: {e}")))?;
        Ok(Self { client, url })
    }

    pub(super) async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
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

fn transport_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else {
        TransportError::Connection(e.without_url().to_string())
    }
}
