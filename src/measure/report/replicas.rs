//! [`ReplicasSeen`]: what a run with replicas measured, as report.json holds it and as the
//! report's sentences and table say it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most 429 events booked for the reach figures (beyond it they are counted, not timed).
pub const MAX_EVENTS: usize = 1_000_000;

use crate::engine::store::StoreStatus;
use crate::measure::document::Table;

/// What a run with replicas measured, beside the usual report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct ReplicasSeen {
    /// Engine instances.
    pub replicas: u32,
    /// `local`, `memory` or `redis`.
    pub state: String,
    /// The store in words (e.g. "redis-server started on loopback"), when shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// `round-robin` or `random`.
    pub spread: String,
    /// When a replica lost its state, as written; `None`: never.
    pub cold_start: Option<String>,
    /// Replicas that lost their state during the run.
    pub cold_starts: u64,
    /// Per replica slot: requests sent through it, attempts, upstream 429s.
    pub per_replica: Vec<ReplicaFigures>,
    /// 429s a replica met on a key another replica (or an earlier instance of it, before a
    /// cold start) had met within the wait that 429 announced: calls wasted for want of
    /// shared state.
    pub repeat_429: u64,
    /// How long after the first replica met a key's limit the others still met it
    /// (over the repeated 429s), ms; `None`: no repeated 429, no data.
    pub reach_ms: Option<Reach>,
    /// Requests over a limit by the embedded mock's own ledger (its 429 count): how far the
    /// replicas together went over the limits; `None` for a real endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_limit_by_mock: Option<u64>,
    /// The same by the limit that refused them (`rpm`, `rpd`, `tpm`, `tpd`: the window that
    /// ran out), from the mock's ledger; empty for a real endpoint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub over_limit_by_window: BTreeMap<String, u64>,
    /// 429 events beyond the booking bound (counted in `repeat_429` only if before it).
    pub unbooked_429: u64,
    /// The shared store's figures summed over replicas (incl. retired by cold starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_figures: Option<StoreFigures>,
}

/// One replica slot's figures.
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
pub struct ReplicaFigures {
    /// Requests the load balancer sent it.
    pub requests: u64,
    /// Attempts it made upstream.
    pub attempts: u64,
    /// Of them, answered 429.
    pub upstream_429: u64,
}

/// Percentiles of the reach.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Reach {
    /// Median, ms.
    pub p50: f64,
    /// Largest, ms.
    pub max: f64,
    /// Samples (repeated 429s timed).
    pub samples: u64,
}

/// A shared store's figures, summed over replicas.
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
pub struct StoreFigures {
    /// Calls made to the store.
    pub calls: u64,
    /// Of them, failed.
    pub errors: u64,
    /// Attempts sent on local state because the store failed.
    pub served_locally: u64,
    /// Requests refused because the store failed (fail-closed).
    pub refused: u64,
    /// Attempts the store held back (key resting elsewhere, or the minute full).
    pub held_back: u64,
    /// Rests replicas learned from each other.
    pub rests_learned: u64,
}

impl StoreFigures {
    /// Adds one replica's store status.
    pub fn add(&mut self, s: &StoreStatus) {
        self.calls += s.calls;
        self.errors += s.errors;
        self.served_locally += s.served_locally;
        self.refused += s.refused;
        self.held_back += s.held_back;
        self.rests_learned += s.rests_learned;
    }
}

impl ReplicasSeen {
    /// The setup of `engine`'s replicas, its store in words, before any figure is booked.
    pub fn setup(engine: &crate::spec::scenario::Engine, store: Option<String>) -> Self {
        Self {
            replicas: engine.replicas,
            state: engine.state.name().to_owned(),
            store,
            spread: engine.spread.name().to_owned(),
            cold_start: engine.cold_start.map(|c| c.to_string()),
            cold_starts: 0,
            per_replica: Vec::new(),
            repeat_429: 0,
            reach_ms: None,
            unbooked_429: 0,
            over_limit_by_mock: None,
            over_limit_by_window: BTreeMap::new(),
            store_figures: None,
        }
    }

    /// What the report says of the replicas, one sentence each.
    pub fn facts(&self) -> Vec<String> {
        let state = match self.state.as_str() {
            "local" => "local (each replica its own, in memory)".to_owned(),
            other => format!("shared ({other}: {})", self.store.as_deref().unwrap_or("?")),
        };
        let cold = match &self.cold_start {
            Some(when) => format!(
                "; a replica loses its state after {when} ({} cold starts)",
                self.cold_starts
            ),
            None => String::new(),
        };
        let mut facts = vec![format!(
            "replicas: {}, key state {state}, requests spread {}{cold}",
            self.replicas, self.spread
        )];
        facts.push(match &self.reach_ms {
            Some(r) => format!(
                "repeated 429s: {} — a replica met a key's limit another replica (or instance, before a cold start) had already met within the wait that 429 announced; they came up to {:.0} ms after the first (median {:.0} ms, {} samples)",
                self.repeat_429, r.max, r.p50, r.samples
            ),
            None => "repeated 429s: none — no replica met a limit another had already met within its wait (no data for how long the news took to spread)".to_owned(),
        });
        if let Some(over) = self.over_limit_by_mock {
            let by: Vec<String> = self
                .over_limit_by_window
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(window, n)| format!("{n} over {}", window.to_uppercase()))
                .collect();
            let by = if by.is_empty() {
                String::new()
            } else {
                format!(": {}", by.join(", "))
            };
            facts.push(format!(
                "over the limits: the mock's ledger refused {over} requests of the replicas together (its own count of 429s){by}"
            ));
        }
        if self.unbooked_429 > 0 {
            facts.push(format!(
                "{} 429s came after the first {MAX_EVENTS} and were not timed",
                self.unbooked_429
            ));
        }
        if let Some(f) = &self.store_figures {
            facts.push(format!(
                "shared store: {} calls, {} failed ({} attempts sent on local state, {} requests refused); {} attempts held back (key resting elsewhere or its minute full); {} rests learned from other replicas",
                f.calls, f.errors, f.served_locally, f.refused, f.held_back, f.rests_learned
            ));
        }
        facts
    }

    /// Per replica: requests, attempts, 429s.
    pub fn table(&self) -> Table {
        Table {
            head: Table::heads(&["replica", "requests", "attempts", "upstream 429s"]),
            rows: self
                .per_replica
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    vec![
                        i.to_string(),
                        r.requests.to_string(),
                        r.attempts.to_string(),
                        r.upstream_429.to_string(),
                    ]
                })
                .collect(),
        }
    }
}
