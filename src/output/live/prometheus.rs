//! A run's live figures on a Prometheus endpoint (`keyrotor run --metrics-listen ADDR`), so a
//! Grafana board can follow a long test. The names are the report's (report.json's
//! `summary` and `per_key` fields, the thresholds' `latency_p50_ms`/`latency_p99_ms`), with
//! Prometheus's `_total` on counters, written by prometheus-client:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `keyrotor_run_offered_total` | counter | (requests offered and finished so far: answered, failed or dropped) |
//! | `keyrotor_run_succeeded_total` | counter | |
//! | `keyrotor_run_goodput_total` | counter | (answered within the latency budget) |
//! | `keyrotor_run_failed_total` | counter | (failed or dropped) |
//! | `keyrotor_run_upstream_429_total` | counter | |
//! | `keyrotor_run_latency_p50_ms`, `keyrotor_run_latency_p99_ms` | gauge | absent before the first answer |
//! | `keyrotor_run_elapsed_seconds` | gauge | |
//! | `keyrotor_run_key_attempts_total`, `keyrotor_run_key_rate_limited_total` | counter | `key` (the key's index, never the key) |

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use keyrotor_serve::exposition::{self, Ordered};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::drive::driver::Snapshot;
use crate::spec::metrics::Metric;

/// The latest snapshot of the run, shared between the live view and the endpoint.
pub type Latest = Arc<Mutex<Snapshot>>;

/// Binds `addr` and serves `GET /metrics` from `latest` on a thread of its own until the
/// process ends; returns the address bound (port 0 picks one).
pub fn serve(addr: SocketAddr, latest: Latest) -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("--metrics-listen {addr}: {e}"))?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let app = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || {
                    // A poisoned snapshot is as unwritable as a failed encoding: a 500.
                    let text = latest.lock().map_or(Err(std::fmt::Error), |s| render(&s));
                    async move { exposition::response(text) }
                }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok(bound)
}

/// A key's index in the run, never the key.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyIndex {
    key: usize,
}

/// The Prometheus text (version 0.0.4) of `s`.
pub fn render(s: &Snapshot) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix("keyrotor_run");
    for (metric, help, value) in [
        (
            Metric::Offered.name(),
            "Requests offered and finished so far (answered, failed or dropped)",
            s.finished,
        ),
        ("succeeded", "Requests that succeeded", s.succeeded),
        (
            "goodput",
            "Requests answered within the latency budget",
            s.goodput,
        ),
        ("failed", "Requests that failed or were dropped", s.failed),
        (
            Metric::Upstream429.name(),
            "Upstream 429 answers",
            s.upstream_429,
        ),
    ] {
        registry.register(metric, help, ConstCounter::new(value));
    }
    let gauges = [
        (
            Metric::LatencyP50Ms.name(),
            "Median end-to-end latency so far (ms)",
            s.p50_ms,
        ),
        (
            Metric::LatencyP99Ms.name(),
            "99th percentile end-to-end latency so far (ms)",
            s.p99_ms,
        ),
        (
            "elapsed_seconds",
            "Time into the run",
            Some(s.elapsed.as_secs_f64()),
        ),
    ];
    // A latency with no sample is absent, never 0.
    for (metric, help, value) in gauges {
        if let Some(value) = value {
            registry.register(metric, help, ConstGauge::new(value));
        }
    }
    let (mut attempts, mut limited) = (Ordered::default(), Ordered::default());
    for (key, &(a, l)) in s.per_key.iter().enumerate() {
        attempts.push(KeyIndex { key }, ConstCounter::new(a));
        limited.push(KeyIndex { key }, ConstCounter::new(l));
    }
    registry.register("key_attempts", "Attempts sent with the key", attempts);
    registry.register("key_rate_limited", "Attempts answered 429", limited);
    exposition::text(&[&registry])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_renders_with_the_reports_names_and_no_latency_before_an_answer() {
        let empty = render(&Snapshot::default()).unwrap_or_default();
        assert!(empty.contains("keyrotor_run_offered_total 0\n"), "{empty}");
        assert!(
            !empty
                .lines()
                .any(|l| l.starts_with("keyrotor_run_latency_p99_ms")),
            "no sample, no value: {empty}"
        );
        let s = Snapshot {
            finished: 7,
            upstream_429: 2,
            p99_ms: Some(812.5),
            per_key: vec![(4, 1), (3, 1)],
            ..Snapshot::default()
        };
        let text = render(&s).unwrap_or_default();
        for line in [
            "keyrotor_run_offered_total 7",
            "keyrotor_run_upstream_429_total 2",
            "keyrotor_run_latency_p99_ms 812.5",
            "keyrotor_run_key_attempts_total{key=\"1\"} 3",
            "keyrotor_run_key_rate_limited_total{key=\"0\"} 1",
            "# TYPE keyrotor_run_latency_p99_ms gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
