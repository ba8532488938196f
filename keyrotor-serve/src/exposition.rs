//! Prometheus text exposition through prometheus-client, its series in the order they were
//! added. prometheus-client's `Family` writes its series in hash order, which shuffles a page
//! a person reads (keys out of pool order, outcomes out of their list's order); [`Ordered`]
//! writes them as given. The mock's `/metrics`, the proxy's and a run's live endpoint all
//! use it, and answer a scrape with [`response`].
//!
//! ```
//! use keyrotor_serve::exposition::{Ordered, text};
//! use prometheus_client::metrics::counter::ConstCounter;
//! use prometheus_client::registry::Registry;
//!
//! #[derive(Debug, Clone, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
//! struct Key {
//!     key: String,
//! }
//!
//! let mut attempts = Ordered::default();
//! for (key, n) in [("b", 2), ("a", 1)] {
//!     attempts.push(Key { key: key.into() }, ConstCounter::new(n as u64));
//! }
//! let mut registry = Registry::default();
//! registry.register("attempts", "Attempts by key", attempts);
//! let page = text(&[&registry])?;
//! assert!(page.contains("attempts_total{key=\"b\"} 2\nattempts_total{key=\"a\"} 1\n"));
//! # Ok::<(), std::fmt::Error>(())
//! ```

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, prometheus_text};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// One metric's series, each a label set and its value, written in the order pushed.
#[derive(Debug)]
pub struct Ordered<L, M> {
    series: Vec<(L, M)>,
}

impl<L, M> Default for Ordered<L, M> {
    fn default() -> Self {
        Self { series: Vec::new() }
    }
}

impl<L, M> Ordered<L, M> {
    /// Adds a series after those already there.
    pub fn push(&mut self, labels: L, metric: M) {
        self.series.push((labels, metric));
    }
}

impl<L: EncodeLabelSet, M: EncodeMetric + TypedMetric> EncodeMetric for Ordered<L, M> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, metric) in &self.series {
            metric.encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

/// The answer to a scrape: the text [`text`] wrote, with its `Content-Type`; a 500 when it
/// could not be written.
pub fn response(text: Result<String, std::fmt::Error>) -> Response {
    match text {
        Ok(text) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics",
        )
            .into_response(),
    }
}

/// The registries' metrics, one after the other, in Prometheus text format 0.0.4.
pub fn text(registries: &[&Registry]) -> Result<String, std::fmt::Error> {
    let mut out = String::with_capacity(4096);
    for registry in registries {
        prometheus_text::encode(&mut out, registry)?;
    }
    Ok(out)
}
