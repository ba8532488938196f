//! A run's live figures on a Prometheus endpoint (`keyrotor run --metrics-listen ADDR`), so a
//! Grafana board can follow a long test. The names are the report's (report.json's
//! `summary` and `per_key` fields, the thresholds' `latency_p50_ms`/`latency_p99_ms`):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `keyrotor_run_offered` | counter | requests finished so far (answered or failed) |
//! | `keyrotor_run_succeeded` | counter | |
//! | `keyrotor_run_upstream_429` | counter | |
//! | `keyrotor_run_latency_p50_ms`, `keyrotor_run_latency_p99_ms` | gauge | absent before the first answer |
//! | `keyrotor_run_elapsed_seconds` | gauge | |
//! | `keyrotor_run_key_attempts`, `keyrotor_run_key_rate_limited` | counter | `key` (the key's index, never the key) |

use crate::metrics::Metric;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::driver::Snapshot;

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
                    let text = latest.lock().map(|s| render(&s)).unwrap_or_default();
                    async move { ([("content-type", "text/plain; version=0.0.4")], text) }
                }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok(bound)
}

/// The Prometheus text of `s`.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let mut one = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        let _ = writeln!(out, "# HELP keyrotor_run_{name} {help}");
        let _ = writeln!(out, "# TYPE keyrotor_run_{name} {kind}");
        if let Some(v) = value {
            let _ = writeln!(out, "keyrotor_run_{name} {v}");
        }
    };
    one(
        Metric::Offered.name(),
        "counter",
        "Requests finished so far (answered or failed).",
        Some(s.finished as f64),
    );
    one(
        "succeeded",
        "counter",
        "Requests that succeeded.",
        Some(s.succeeded as f64),
    );
    one(
        Metric::Upstream429.name(),
        "counter",
        "Upstream 429 answers.",
        Some(s.upstream_429 as f64),
    );
    one(
        Metric::LatencyP50Ms.name(),
        "gauge",
        "Median end-to-end latency so far (ms).",
        s.p50_ms,
    );
    one(
        Metric::LatencyP99Ms.name(),
        "gauge",
        "99th percentile end-to-end latency so far (ms).",
        s.p99_ms,
    );
    one(
        "elapsed_seconds",
        "gauge",
        "Time into the run.",
        Some(s.elapsed.as_secs_f64()),
    );
    for (name, help, pick) in [
        ("key_attempts", "Attempts sent with the key.", 0),
        ("key_rate_limited", "Attempts answered 429.", 1),
    ] {
        let _ = writeln!(out, "# HELP keyrotor_run_{name} {help}");
        let _ = writeln!(out, "# TYPE keyrotor_run_{name} counter");
        for (k, (attempts, limited)) in s.per_key.iter().enumerate() {
            let v = if pick == 0 { attempts } else { limited };
            let _ = writeln!(out, "keyrotor_run_{name}{{key=\"{k}\"}} {v}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_renders_with_the_reports_names_and_no_latency_before_an_answer() {
        let empty = render(&Snapshot::default());
        assert!(empty.contains("keyrotor_run_offered 0\n"), "{empty}");
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
        let text = render(&s);
        for line in [
            "keyrotor_run_offered 7",
            "keyrotor_run_upstream_429 2",
            "keyrotor_run_latency_p99_ms 812.5",
            "keyrotor_run_key_attempts{key=\"1\"} 3",
            "keyrotor_run_key_rate_limited{key=\"0\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
