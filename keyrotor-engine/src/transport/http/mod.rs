//! HTTP transport. `https://` targets (api.groq.com) go through reqwest, which brings TLS,
//! HTTP/2 and proxy support; their rate limits, not the client, bound them. With the
//! `load-client` feature, `http://` targets (the mock, local gateways) go through a lean
//! HTTP/1.1 keep-alive client of its own, because there the load generator's own cost per
//! request sets the throughput it can measure; without it reqwest serves them too. Only
//! reqwest streams answers ([`Transport::open`]): [`HttpTransport::streaming`] adds it for
//! `http://` targets, so whole answers take the lean client and streams reqwest.

#[cfg(feature = "load-client")]
mod plain;
#[cfg(feature = "load-client")]
pub use plain::IDLE_LIMIT;
mod tls;
#[cfg(feature = "load-client")]
pub mod wire;

use bytes::Bytes;

use super::{CHAT_PATH, Reply, StreamReply, Timeouts, Transport, TransportError};
use crate::keys::ApiKey;

/// Sends attempts over HTTP(S) to a base URL such as `https://api.groq.com` or the mock's.
#[derive(Debug)]
pub struct HttpTransport {
    inner: Inner,
    /// For [`Transport::open`] when `inner` cannot stream.
    streams: Option<tls::Tls>,
}

#[derive(Debug)]
enum Inner {
    #[cfg(feature = "load-client")]
    Plain(plain::Plain),
    Tls(tls::Tls),
}

impl HttpTransport {
    /// A transport for Groq at `base_url` (without the `/openai/v1/...` path).
    pub fn new(base_url: &str, timeouts: Timeouts) -> Result<Self, TransportError> {
        Self::with_path(base_url, CHAT_PATH, timeouts)
    }

    /// A transport posting to `path` under `base_url`, e.g. another provider's
    /// [`crate::provider::Provider::chat_path`].
    pub fn with_path(
        base_url: &str,
        path: &str,
        timeouts: Timeouts,
    ) -> Result<Self, TransportError> {
        let url = endpoint(base_url, path)?;
        let inner = match url.scheme() {
            #[cfg(feature = "load-client")]
            "http" => Inner::Plain(plain::Plain::new(&url, timeouts)?),
            _ => Inner::Tls(tls::Tls::new(url, timeouts)?),
        };
        Ok(Self {
            inner,
            streams: None,
        })
    }

    /// Like [`HttpTransport::with_path`], and [`Transport::open`] passes answers on as they
    /// arrive whatever the scheme (what a proxy wants): through reqwest, which streams, where
    /// the lean client serves [`Transport::send`].
    pub fn streaming(
        base_url: &str,
        path: &str,
        timeouts: Timeouts,
    ) -> Result<Self, TransportError> {
        let mut transport = Self::with_path(base_url, path, timeouts)?;
        if !matches!(transport.inner, Inner::Tls(_)) {
            let url = endpoint(base_url, path)?;
            transport.streams = Some(tls::Tls::new(url, timeouts)?);
        }
        Ok(transport)
    }
}

/// `path` under `base_url`, checked: a host, and http or https.
fn endpoint(base_url: &str, path: &str) -> Result<reqwest::Url, TransportError> {
    let bad = |why: String| TransportError::Connection(format!("bad base URL `{base_url}`: {why}"));
    let base = reqwest::Url::parse(base_url).map_err(|e| bad(e.to_string()))?;
    if base.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_owned()));
    }
    let url = format!("{}{path}", base.as_str().trim_end_matches('/'));
    let url = reqwest::Url::parse(&url).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(bad(format!("scheme `{other}`, expected http or https"))),
    }
}

impl Transport for HttpTransport {
    async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
        match &self.inner {
            #[cfg(feature = "load-client")]
            Inner::Plain(plain) => plain.send(key, body).await,
            Inner::Tls(tls) => tls.send(key, body).await,
        }
    }

    async fn open(&self, key: &ApiKey, body: Bytes) -> Result<StreamReply, TransportError> {
        if let Some(streams) = &self.streams {
            return streams.open(key, body).await;
        }
        match &self.inner {
            #[cfg(feature = "load-client")]
            Inner::Plain(plain) => plain.send(key, body).await.map(StreamReply::from),
            Inner::Tls(tls) => tls.open(key, body).await,
        }
    }
}
