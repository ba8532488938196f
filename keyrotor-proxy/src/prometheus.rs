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
//! | `keyrotor_key_attempt_duration_seconds` | histogram | `pool`, `key` |
//! | `keyrotor_key_attempts_total` | counter | `pool`, `key`, `org` |
//! | `keyrotor_key_failures_total` | counter | `pool`, `key`, `org`, `reason` (429s by window: `rate_limited_minute`, `rate_limited_day`) |
//! | `keyrotor_key_ready` | gauge | `pool`, `key`, `org`, `state` |
//! | `keyrotor_pool_remaining_requests`, `keyrotor_pool_remaining_tokens` | gauge | `pool`; absent until a key has said |
//! | `keyrotor_proxy_client_requests_total`, `…_limited_total`, `…_tokens_reserved_total`, `…_tokens_out_total` | counter | `client` (its name) |
//! | `keyrotor_proxy_reloads_total` | counter | `outcome` (ok, failed) |
//! | `keyrotor_proxy_config_generation` | gauge | |
//! | `keyrotor_proxy_config_last_reload_successful` | gauge | 0 while the last reload failed |
//!
//! `pool` is the pool's name; `key` the key's fingerprint, never the key; `org` the pool
//! index of the first key of the organisation the engine learned it shares. A key's series
//! carry over a reload while the key stays in its pool.

use keyrotor_serve::exposition::{self, Ordered};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use std::sync::atomic::AtomicU64;

use keyrotor_engine::Trace;

use crate::clients::{Clients, Usage};
use crate::pools::BUCKETS;
use crate::reload::{self, Live, Served};

/// The `outcome` label of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// The `pool` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolName {
    pool: String,
}

/// A key of a pool: its fingerprint.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Key {
    pool: String,
    key: String,
}

/// A key and the organisation the engine learned it shares.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyOrg {
    pool: String,
    key: String,
    org: usize,
}

/// A key's failures for one reason.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyReason {
    pool: String,
    key: String,
    org: usize,
    reason: &'static str,
}

/// A key's state.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyState {
    pool: String,
    key: String,
    org: usize,
    state: &'static str,
}

/// What the proxy counts; shared by every request and every generation.
#[derive(Debug)]
pub struct Metrics {
    /// What only the proxy sees, registered once; the handles below share its values.
    registry: Registry,
    answered: Counter,
    refused: Counter,
    failovers: Counter,
    requests: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Counters at zero.
    pub fn new() -> Self {
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
        Self {
            registry,
            answered,
            refused,
            failovers,
            requests,
        }
    }

    /// Counts one request from its trace; `answered` when the client got the upstream's
    /// success. (Each attempt's time is counted with its key: [`crate::pools::Pool::record`].)
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
    }

    /// The exposition text: the proxy's own counters, each pool's keys and budget, what each
    /// client used, and the reloads.
    /// `last` is the last reload, read before `served`.
    pub fn render(
        &self,
        served: &Served,
        live: &Live,
        last: Option<&reload::Outcome>,
    ) -> Result<String, std::fmt::Error> {
        exposition::text(&[
            &self.registry,
            &pools(served),
            &usage(&served.clients),
            &reloads(served, live, last),
        ])
    }
}

/// Reloads by outcome, the generation serving, and whether the last reload worked.
fn reloads(served: &Served, live: &Live, last: Option<&reload::Outcome>) -> Registry {
    let mut registry = Registry::default();
    let mut by_outcome = Ordered::default();
    let count = |n: &AtomicU64| ConstCounter::new(n.load(std::sync::atomic::Ordering::Relaxed));
    by_outcome.push(Outcome { outcome: "ok" }, count(&live.reloaded));
    by_outcome.push(Outcome { outcome: "failed" }, count(&live.failed));
    registry.register(
        "keyrotor_proxy_reloads",
        "Reloads of the config and key files (SIGHUP, POST /admin/reload) by outcome",
        by_outcome,
    );
    registry.register(
        "keyrotor_proxy_config_generation",
        "The configuration serving: 1 at start, one more per successful reload",
        ConstGauge::new(i64::try_from(served.generation).unwrap_or(i64::MAX)),
    );
    let ok = last.is_none_or(|last| last.ok);
    registry.register(
        "keyrotor_proxy_config_last_reload_successful",
        "0 while the last reload failed (the previous configuration still serves)",
        ConstGauge::new(i64::from(ok)),
    );
    registry
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

/// Every pool's counters, gauges and attempt timings as they are now, keys in pool order.
fn pools(served: &Served) -> Registry {
    let mut timings = Ordered::default();
    let mut attempts = Ordered::default();
    let mut failures = Ordered::default();
    let mut ready = Ordered::default();
    let mut remaining = [Ordered::default(), Ordered::default()];
    for p in served.pools.iter() {
        let status = p.rotor.status();
        for (key, histogram) in p.rotor.keys().iter().zip(&p.attempts) {
            let labels = Key {
                pool: p.name.clone(),
                key: key.fingerprint(),
            };
            timings.push(labels, histogram.clone());
        }
        for k in &status.keys {
            let (pool, key, org) = (p.name.clone(), k.fingerprint.clone(), k.group);
            let labels = KeyOrg {
                pool: pool.clone(),
                key: key.clone(),
                org,
            };
            attempts.push(labels, ConstCounter::new(k.requests));
            for (&reason, &n) in &k.failures {
                let labels = KeyReason {
                    pool: pool.clone(),
                    key: key.clone(),
                    org,
                    reason,
                };
                failures.push(labels, ConstCounter::new(n));
            }
            let state = KeyState {
                pool,
                key,
                org,
                state: k.state,
            };
            ready.push(state, ConstGauge::new(i64::from(k.state == "ready")));
        }
        let budget = p.rotor.budget();
        let left = [budget.remaining_requests, budget.remaining_tokens];
        for (series, value) in remaining.iter_mut().zip(left) {
            if let Some(value) = value {
                let labels = PoolName {
                    pool: p.name.clone(),
                };
                series.push(
                    labels,
                    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)),
                );
            }
        }
    }
    let mut registry = Registry::default();
    registry.register(
        "keyrotor_key_attempt_duration_seconds",
        "One attempt with a key, to its answer's head",
        timings,
    );
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
    let [requests, tokens] = remaining;
    let help =
        "What the pool has left by its keys' last rate-limit headers, summed over organisations";
    registry.register("keyrotor_pool_remaining_requests", help, requests);
    registry.register("keyrotor_pool_remaining_tokens", help, tokens);
    registry
}
