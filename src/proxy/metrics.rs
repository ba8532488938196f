//! The proxy's Prometheus metrics, in the text exposition format. The per-key counters the
//! pool already keeps (attempts, failures by reason, state, learned organisation) are read
//! from a [`Status`] at scrape time; the proxy adds what only it sees: requests by outcome,
//! failovers, and latency histograms per request and per key's attempts.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `keyrotor_proxy_requests_total` | counter | `outcome` (answered, refused) |
//! | `keyrotor_proxy_failovers_total` | counter | |
//! | `keyrotor_proxy_request_duration_seconds` | histogram | |
//! | `keyrotor_key_attempts_total` | counter | `key`, `org` |
//! | `keyrotor_key_failures_total` | counter | `key`, `org`, `reason` (429s by window: `rate_limited_minute`, `rate_limited_day`) |
//! | `keyrotor_key_ready` | gauge | `key`, `org`, `state` |
//! | `keyrotor_key_attempt_duration_seconds` | histogram | `key` |
//! | `keyrotor_pool_remaining_requests`, `keyrotor_pool_remaining_tokens` | gauge | |
//!
//! `key` is the key's fingerprint, never the key; `org` the pool index of the first key of the
//! organisation the engine learned it shares.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::engine::{ApiKey, PoolBudget, Status, Trace};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// A latency histogram with fixed buckets, updated without a lock.
#[derive(Debug, Default)]
struct Histogram {
    /// Observations at or under each bound (not cumulative; summed when rendered).
    counts: [AtomicU64; BUCKETS.len()],
    /// Every observation.
    count: AtomicU64,
    /// Their sum in microseconds.
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&bound| secs <= bound) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// What the proxy counts; shared by every request.
#[derive(Debug)]
pub struct Metrics {
    answered: AtomicU64,
    refused: AtomicU64,
    failovers: AtomicU64,
    requests: Histogram,
    /// Per key, in pool order.
    attempts: Vec<Histogram>,
}

impl Metrics {
    /// Counters at zero for these keys.
    pub fn new(keys: &[ApiKey]) -> Self {
        Self {
            answered: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            failovers: AtomicU64::new(0),
            requests: Histogram::default(),
            attempts: keys.iter().map(|_| Histogram::default()).collect(),
        }
    }

    /// Counts one request from its trace; `answered` when the client got the upstream's
    /// success.
    pub fn record(&self, trace: &Trace, answered: bool) {
        let outcome = if answered {
            &self.answered
        } else {
            &self.refused
        };
        outcome.fetch_add(1, Ordering::Relaxed);
        if trace.attempts.len() > 1 {
            self.failovers.fetch_add(1, Ordering::Relaxed);
        }
        self.requests.observe(trace.total);
        for attempt in &trace.attempts {
            if let Some(histogram) = self.attempts.get(attempt.key) {
                histogram.observe(attempt.end.saturating_sub(attempt.start));
            }
        }
    }

    /// The exposition text, with the pool's own counters from `status` and `budget`.
    pub fn render(&self, status: &Status, budget: PoolBudget) -> String {
        let mut out = String::with_capacity(4096);
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut out,
            "keyrotor_proxy_requests_total",
            "counter",
            "Chat requests by outcome: answered (the upstream's success) or refused (an error answer).",
        );
        for (outcome, n) in [("answered", &self.answered), ("refused", &self.refused)] {
            let _ = writeln!(
                out,
                "keyrotor_proxy_requests_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        head(
            &mut out,
            "keyrotor_proxy_failovers_total",
            "counter",
            "Chat requests that took more than one attempt.",
        );
        let _ = writeln!(
            out,
            "keyrotor_proxy_failovers_total {}",
            self.failovers.load(Ordering::Relaxed)
        );
        head(
            &mut out,
            "keyrotor_proxy_request_duration_seconds",
            "histogram",
            "From a request's arrival to its answer's head (waits and failovers included).",
        );
        self.requests
            .render(&mut out, "keyrotor_proxy_request_duration_seconds", "");
        self.render_keys(&mut out, status);
        for (name, value) in [
            (
                "keyrotor_pool_remaining_requests",
                budget.remaining_requests,
            ),
            ("keyrotor_pool_remaining_tokens", budget.remaining_tokens),
        ] {
            if let Some(value) = value {
                head(
                    &mut out,
                    name,
                    "gauge",
                    "What the pool has left by its keys' last rate-limit headers, summed over organisations.",
                );
                let _ = writeln!(out, "{name} {value}");
            }
        }
        out
    }

    fn render_keys(&self, out: &mut String, status: &Status) {
        let _ = writeln!(
            out,
            "# HELP keyrotor_key_attempts_total Attempts sent with a key.\n# TYPE keyrotor_key_attempts_total counter"
        );
        for k in &status.keys {
            let _ = writeln!(
                out,
                "keyrotor_key_attempts_total{{key=\"{}\",org=\"{}\"}} {}",
                k.fingerprint, k.group, k.requests
            );
        }
        let _ = writeln!(
            out,
            "# HELP keyrotor_key_failures_total Failed attempts by reason.\n# TYPE keyrotor_key_failures_total counter"
        );
        for k in &status.keys {
            for (reason, n) in &k.failures {
                let _ = writeln!(
                    out,
                    "keyrotor_key_failures_total{{key=\"{}\",org=\"{}\",reason=\"{reason}\"}} {n}",
                    k.fingerprint, k.group
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP keyrotor_key_ready 1 when the key is ready; its state names why not.\n# TYPE keyrotor_key_ready gauge"
        );
        for k in &status.keys {
            let ready = u8::from(k.state == "ready");
            let _ = writeln!(
                out,
                "keyrotor_key_ready{{key=\"{}\",org=\"{}\",state=\"{}\"}} {ready}",
                k.fingerprint, k.group, k.state
            );
        }
        let name = "keyrotor_key_attempt_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} One attempt with a key, to its answer's head.\n# TYPE {name} histogram"
        );
        for (k, histogram) in status.keys.iter().zip(&self.attempts) {
            histogram.render(out, name, &format!("key=\"{}\"", k.fingerprint));
        }
    }
}
