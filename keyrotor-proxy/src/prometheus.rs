//! The proxy's Prometheus metrics, in the text exposition format (version 0.0.4) written by
//! prometheus-client. The per-key counters the pool already keeps (attempts, failures by
//! reason, state, learned organisation) are read from a [`Status`] at scrape time; the proxy
//! adds what only it sees: requests by outcome, failovers, and latency histograms per request
//! and per key's attempts.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `keyrotor_proxy_requests_total` | counter | `outcome` (answered, refused) |
//! | `keyrotor_proxy_failovers_total` | counter | |
//! | `keyrotor_proxy_request_duration_seconds` | histogram | |
//! | `keyrotor_key_attempt_duration_seconds` | histogram | `key` |
//! | `keyrotor_key_attempts_total` | counter | `key`, `org` |
//! | `keyrotor_key_failures_total` | counter | `key`, `org`, `reason` (429s by window: `rate_limited_minute`, `rate_limited_day`) |
//! | `keyrotor_key_ready` | gauge | `key`, `org`, `state` |
//! | `keyrotor_pool_remaining_requests`, `keyrotor_pool_remaining_tokens` | gauge | absent until a key has said |
//! | `keyrotor_proxy_client_requests_total`, `…_limited_total`, `…_tokens_reserved_total`, `…_tokens_out_total` | counter | `client` (its name) |
//!
//! `key` is the key's fingerprint, never the key; `org` the pool index of the first key of the
//! organisation the engine learned it shares.

use keyrotor_serve::exposition::{self, Ordered};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use std::sync::atomic::AtomicU64;

use keyrotor_engine::{ApiKey, PoolBudget, Status, Trace};

use crate::clients::{Clients, Usage};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The `outcome` label of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// The `key` label: a fingerprint.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Key {
    key: String,
}

/// A key and the organisation the engine learned it shares.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyOrg {
    key: String,
    org: usize,
}

/// A key's failures for one reason.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyReason {
    key: String,
    org: usize,
    reason: &'static str,
}

/// A key's state.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyState {
    key: String,
    org: usize,
    state: &'static str,
}

/// What the proxy counts; shared by every request.
#[derive(Debug)]
pub struct Metrics {
    /// What only the proxy sees, registered once; the handles below share its values.
    registry: Registry,
    answered: Counter,
    refused: Counter,
    failovers: Counter,
    requests: Histogram,
    /// Per key, in pool order: the series of `keyrotor_key_attempt_duration_seconds`.
    attempts: Vec<Histogram>,
}

impl Metrics {
    /// Counters at zero for these keys.
    pub fn new(keys: &[ApiKey]) -> Self {
        let mut registry = Registry::default();
        let (answered, refused) = (Counter::default(), Counter::default());
        let mut outcomes = Ordered::default();
        outcomes.push(
            Outcome {
                outcome: "answered",
            },
            answered.clone(),
        );
        outcomes.push(Outcome { outcome: "refused" }, refused.clone());
        registry.register(
            "keyrotor_proxy_requests",
            "Chat requests by outcome: answered (the upstream's success) or refused (an error answer)",
            outcomes,
        );
        let failovers = Counter::default();
        registry.register(
            "keyrotor_proxy_failovers",
            "Chat requests that tried a second key",
            failovers.clone(),
        );
        let requests = Histogram::new(BUCKETS);
        registry.register(
            "keyrotor_proxy_request_duration_seconds",
            "From a request's arrival to its answer's head (waits and failovers included)",
            requests.clone(),
        );
        let attempts: Vec<Histogram> = keys.iter().map(|_| Histogram::new(BUCKETS)).collect();
        let mut per_key = Ordered::default();
        for (key, histogram) in keys.iter().zip(&attempts) {
            per_key.push(
                Key {
                    key: key.fingerprint(),
                },
                histogram.clone(),
            );
        }
        registry.register(
            "keyrotor_key_attempt_duration_seconds",
            "One attempt with a key, to its answer's head",
            per_key,
        );
        Self {
            registry,
            answered,
            refused,
            failovers,
            requests,
            attempts,
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
        outcome.inc();
        if trace.failed_over() {
            self.failovers.inc();
        }
        self.requests.observe(trace.total.as_secs_f64());
        for attempt in &trace.attempts {
            if let Some(histogram) = self.attempts.get(attempt.key) {
                let took = attempt.end.saturating_sub(attempt.start);
                histogram.observe(took.as_secs_f64());
            }
        }
    }

    /// The exposition text, with the pool's own counters from `status` and `budget`, and
    /// what each client used.
    pub fn render(
        &self,
        status: &Status,
        budget: PoolBudget,
        clients: &Clients,
    ) -> Result<String, std::fmt::Error> {
        exposition::text(&[&self.registry, &pool(status, budget), &usage(clients)])
    }
}

/// The `client` label: a client's name, never its token.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClientName {
    client: String,
}

/// What each client used, as counters by client name.
fn usage(clients: &Clients) -> Registry {
    let mut registry = Registry::default();
    type Field = fn(&Usage) -> &AtomicU64;
    let series: [(&str, &str, Field); 4] = [
        (
            "keyrotor_proxy_client_requests",
            "Chat requests a client sent",
            |u| &u.requests,
        ),
        (
            "keyrotor_proxy_client_limited",
            "Chat requests refused by the client's own RPM or TPM limit",
            |u| &u.limited,
        ),
        (
            "keyrotor_proxy_client_tokens_reserved",
            "Tokens a client's admitted requests reserved (prompt estimate + max_tokens)",
            |u| &u.tokens_reserved,
        ),
        (
            "keyrotor_proxy_client_tokens_out",
            "Completion tokens a client's whole answers reported",
            |u| &u.tokens_out,
        ),
    ];
    for (name, help, field) in series {
        let mut per_client = Ordered::default();
        for client in clients.iter() {
            let value = field(&client.usage).load(std::sync::atomic::Ordering::Relaxed);
            per_client.push(
                ClientName {
                    client: client.name.clone(),
                },
                ConstCounter::new(value),
            );
        }
        registry.register(name, help, per_client);
    }
    registry
}

/// The pool's counters and gauges as they are now, keys in pool order.
fn pool(status: &Status, budget: PoolBudget) -> Registry {
    let mut attempts = Ordered::default();
    let mut failures = Ordered::default();
    let mut ready = Ordered::default();
    for k in &status.keys {
        let (key, org) = (k.fingerprint.clone(), k.group);
        let labels = KeyOrg {
            key: key.clone(),
            org,
        };
        attempts.push(labels, ConstCounter::new(k.requests));
        for (&reason, &n) in &k.failures {
            let labels = KeyReason {
                key: key.clone(),
                org,
                reason,
            };
            failures.push(labels, ConstCounter::new(n));
        }
        let state = KeyState {
            key,
            org,
            state: k.state,
        };
        ready.push(state, ConstGauge::new(i64::from(k.state == "ready")));
    }
    let mut registry = Registry::default();
    registry.register(
        "keyrotor_key_attempts",
        "Attempts sent with a key",
        attempts,
    );
    registry.register(
        "keyrotor_key_failures",
        "Failed attempts by reason",
        failures,
    );
    registry.register(
        "keyrotor_key_ready",
        "1 when the key is ready; its state names why not",
        ready,
    );
    for (name, value) in [
        (
            "keyrotor_pool_remaining_requests",
            budget.remaining_requests,
        ),
        ("keyrotor_pool_remaining_tokens", budget.remaining_tokens),
    ] {
        if let Some(value) = value {
            registry.register(
                name,
                "What the pool has left by its keys' last rate-limit headers, summed over organisations",
                ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)),
            );
        }
    }
    registry
}
