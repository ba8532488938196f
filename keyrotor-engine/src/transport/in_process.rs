//! In-process transport: calls the mock's `axum::Router` through `tower::ServiceExt::oneshot`.
//! No socket, so it runs under a paused tokio clock (simulation) and costs microseconds.

use std::time::Duration;

use ::http::Request;
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{BodyStream, CHAT_PATH, Reply, StreamReply, Transport, TransportError};
use crate::keys::ApiKey;

/// Sends attempts straight into a mock router.
#[derive(Debug, Clone)]
pub struct InProcessTransport {
    router: Router,
    timeout: Duration,
    path: &'static str,
}

impl InProcessTransport {
    /// A transport into `router` on Groq's chat path; an attempt that takes longer than
    /// `timeout` is a timeout.
    pub fn new(router: Router, timeout: Duration) -> Self {
        Self {
            router,
            timeout,
            path: CHAT_PATH,
        }
    }

    /// The same posting to `path` (another provider's [`crate::Provider::chat_path`]).
    pub fn with_path(self, path: &'static str) -> Self {
        Self { path, ..self }
    }

    /// The chat request with `key`.
    fn request(&self, key: &ApiKey, body: Bytes) -> Result<Request<Body>, TransportError> {
        Request::post(self.path)
            .header("authorization", format!("Bearer {}", key.expose()))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .map_err(|e| TransportError::Connection(format!("bad request: {e}")))
    }
}

impl Transport for InProcessTransport {
    async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
        let request = self.request(key, body)?;
        let router = self.router.clone();
        let attempt = async move {
            let response = router
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| TransportError::Connection(e.to_string()))?
                .to_bytes();
            Ok(Reply {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .unwrap_or(Err(TransportError::Timeout))
    }

    /// The answer's head, then its body chunk by chunk as the mock sends it (each chunk at
    /// its simulated time), the attempt's timeout bounding the whole exchange.
    async fn open(&self, key: &ApiKey, body: Bytes) -> Result<StreamReply, TransportError> {
        let request = self.request(key, body)?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = tokio::time::timeout_at(deadline, self.router.clone().oneshot(request))
            .await
            .map_err(|_| TransportError::Timeout)?
            .unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        let chunks =
            futures_util::stream::unfold(Some(body.into_data_stream()), move |chunks| async move {
                let mut chunks = chunks?;
                match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut chunks))
                    .await
                {
                    Ok(None) => None,
                    Ok(Some(chunk)) => Some((
                        chunk.map_err(|e| TransportError::Connection(e.to_string())),
                        Some(chunks),
                    )),
                    Err(_) => Some((Err(TransportError::Timeout), None)),
                }
            });
        Ok(StreamReply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: BodyStream::new(chunks),
        })
    }
}
