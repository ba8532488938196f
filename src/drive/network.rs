//! The client's network, modelled: every attempt pays a round trip (`[target] rtt`) on top of
//! what the target takes, half on the way out and half on the way back. Over loopback or
//! in-process an attempt costs nothing on the wire, while a real client pays tens of
//! milliseconds per attempt — and a failover pays it once per failed key. Applied the same
//! way in simulated and real time.

use std::time::Duration;

use axum::body::Bytes;

use crate::engine::ApiKey;
use crate::engine::transport::{BodyStream, Reply, StreamReply, Transport, TransportError};

/// A transport whose every attempt takes `rtt` longer.
pub struct WithRtt<T> {
    inner: T,
    half: Duration,
}

impl<T> WithRtt<T> {
    /// `inner`, with `rtt` added to every attempt.
    pub fn new(inner: T, rtt: Duration) -> Self {
        Self {
            inner,
            half: rtt / 2,
        }
    }
}

impl<T: Transport> Transport for WithRtt<T> {
    async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
        if self.half.is_zero() {
            return self.inner.send(key, body).await;
        }
        tokio::time::sleep(self.half).await;
        let reply = self.inner.send(key, body).await;
        tokio::time::sleep(self.half).await;
        reply
    }

    /// The head half a round trip after the target sent it, and each chunk of the body
    /// half a round trip after the target sent it: read from the target as it sends, on a
    /// task of its own, so the target's own pacing is not shifted.
    async fn open(&self, key: &ApiKey, body: Bytes) -> Result<StreamReply, TransportError> {
        if self.half.is_zero() {
            return self.inner.open(key, body).await;
        }
        tokio::time::sleep(self.half).await;
        let opened = self.inner.open(key, body).await;
        let delayed = opened.map(|mut reply| {
            let inner = std::mem::replace(&mut reply.body, BodyStream::whole(Bytes::new()));
            reply.body = delayed_by(inner, self.half);
            reply
        });
        tokio::time::sleep(self.half).await;
        delayed
    }
}

/// `body`, each chunk `delay` after it came.
fn delayed_by(mut body: BodyStream, delay: Duration) -> BodyStream {
    use futures_util::StreamExt;
    // A few chunks in flight at most: a slow reader holds the target back, memory does not grow.
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        while let Some(chunk) = body.next().await {
            let at = tokio::time::Instant::now() + delay;
            if tx.send((at, chunk)).await.is_err() {
                break;
            }
        }
    });
    BodyStream::new(futures_util::stream::unfold(rx, |mut rx| async move {
        let (at, chunk) = rx.recv().await?;
        tokio::time::sleep_until(at).await;
        Some((chunk, rx))
    }))
}
