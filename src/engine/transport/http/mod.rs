//! HTTP transport. `http://` targets (the mock, local gateways) go through a lean HTTP/1.1
//! keep-alive pool on hyper, because there the load generator's own cost per request sets
//! the throughput it can measure. `https://` targets (api.groq.com) go through reqwest,
//! which brings TLS, HTTP/2 and proxy support; their rate limits, not the client, bound them.

mod plain;
mod tls;
pub mod wire;

use axum::body::Bytes;

use super::{CHAT_PATH, Reply, Timeouts, Transport, TransportError};
use crate::engine::keys::ApiKey;

/// Sends attempts over HTTP(S) to a base URL such as `https://api.groq.com` or the mock's.
#[derive(Debug)]
pub struct HttpTransport {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Plain(plain::Plain),
    Tls(tls::Tls),
}

impl HttpTransport {
    /// A transport for `base_url` (without the `/openai/v1/...` path).
    pub fn new(base_url: &str, timeouts: Timeouts) -> Result<Self, TransportError> {
        let bad =
            |why: String| TransportError::Connection(format!("bad base URL `{base_url}`: {why}"));
        let base = reqwest::Url::parse(base_url).map_err(|e| bad(e.to_string()))?;
        if base.host_str().is_none_or(str::is_empty) {
            return Err(bad("no host".to_owned()));
        }
        let url = format!("{}{CHAT_PATH}", base.as_str().trim_end_matches('/'));
        let url = reqwest::Url::parse(&url).map_err(|e| bad(e.to_string()))?;
        let inner = match url.scheme() {
            "http" => Inner::Plain(plain::Plain::new(&url, timeouts)?),
            "https" => Inner::Tls(tls::Tls::new(url, timeouts)?),
            other => {
                return Err(bad(format!("scheme `{other}`, expected http or https")));
            }
        };
        Ok(Self { inner })
    }
}

impl Transport for HttpTransport {
    async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
        match &self.inner {
            Inner::Plain(plain) => plain.send(key, body).await,
            Inner::Tls(tls) => tls.send(key, body).await,
        }
    }
}
