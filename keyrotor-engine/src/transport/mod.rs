//! How an attempt reaches the API: one small trait, with an HTTP implementation (its own
//! HTTP/1.1 keep-alive client for `http://`, reqwest for `https://`) and an in-process one
//! (the mock's router called through tower, no socket). The engine only sees [`Reply`] (or,
//! for answers passed on as they arrive, [`StreamReply`]) or [`TransportError`].

pub mod http;
#[cfg(feature = "in-process")]
mod in_process;
mod stream;

use std::future::Future;
use std::time::Duration;

use ::http::HeaderMap;
use bytes::Bytes;

pub use http::HttpTransport;
#[cfg(feature = "in-process")]
pub use in_process::InProcessTransport;
pub(crate) use stream::Peeked;
pub use stream::{BodyStream, MAX_DECIDED_BODY, StreamReply};

use super::keys::ApiKey;

/// The path of Groq's chat completions endpoint under a base URL.
pub const CHAT_PATH: &str = "/openai/v1/chat/completions";

/// A complete HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body (for a stream, every event).
    pub body: Bytes,
}

/// An attempt that got no complete answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No complete answer within the request timeout.
    #[error("timed out")]
    Timeout,
    /// Connecting failed, or the connection closed before the answer was complete.
    #[error("connection failed: {0}")]
    Connection(String),
}

/// Sends one chat request body with one key.
pub trait Transport: Send + Sync + 'static {
    /// Posts `body` to the chat endpoint with `Authorization: Bearer <key>`.
    fn send(
        &self,
        key: &ApiKey,
        body: Bytes,
    ) -> impl Future<Output = Result<Reply, TransportError>> + Send;

    /// Posts `body` like [`Transport::send`] but returns once the answer's head has arrived,
    /// with the body still streaming. The default waits for the whole answer; transports
    /// that can stream (reqwest's) override it.
    fn open(
        &self,
        key: &ApiKey,
        body: Bytes,
    ) -> impl Future<Output = Result<StreamReply, TransportError>> + Send {
        async move { self.send(key, body).await.map(StreamReply::from) }
    }
}

/// Connect and whole-request timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeouts {
    /// Establishing a connection.
    #[serde(with = "humantime_serde")]
    pub connect: Duration,
    /// The whole attempt, from sending to the last byte of the answer.
    #[serde(with = "humantime_serde")]
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
        }
    }
}
