//! Targets over reqwest (every `https://` one, and `http://` ones when streaming): one pooled
//! client, connect and request timeouts.

use bytes::Bytes;
use futures_util::TryStreamExt;

use super::{Reply, StreamReply, Timeouts, TransportError};
use crate::keys::ApiKey;
use crate::transport::BodyStream;

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
        let response = self.post(key, body).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// The answer's head, and its body as reqwest receives it (the request timeout still
    /// bounds the whole exchange).
    pub(super) async fn open(
        &self,
        key: &ApiKey,
        body: Bytes,
    ) -> Result<StreamReply, TransportError> {
        let mut response = self.post(key, body).await?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        Ok(StreamReply {
            status,
            headers,
            body: BodyStream::new(response.bytes_stream().map_err(transport_error)),
        })
    }

    async fn post(&self, key: &ApiKey, body: Bytes) -> Result<reqwest::Response, TransportError> {
        self.client
            .post(self.url.clone())
            .bearer_auth(key.expose())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport_error)
    }
}

fn transport_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else {
        TransportError::Connection(e.without_url().to_string())
    }
}
