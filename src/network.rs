//! The client's network, modelled: every attempt pays a round trip (`[target] rtt`) on top of
//! what the target takes, half on the way out and half on the way back. Over loopback or
//! in-process an attempt costs nothing on the wire, while a real client pays tens of
//! milliseconds per attempt — and a failover pays it once per failed key. Applied the same
//! way in simulated and real time.

use std::time::Duration;

use axum::body::Bytes;

use crate::engine::ApiKey;
use crate::engine::transport::{Reply, Transport, TransportError};

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
}
