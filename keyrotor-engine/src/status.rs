//! [`Status`]: a serialisable snapshot of the pool, like the seeds' `getStatus()` and
//! `/health` — per key its state, counters, last error and known budgets, plus totals.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio::time::Instant;

use super::failure::Failure;
use super::keys::ApiKey;
use super::pool::{Health, Pool};

/// The whole snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The policy preset.
    pub policy: &'static str,
    /// One entry per key.
    pub keys: Vec<KeyStatus>,
    /// Sums and counts by state.
    pub totals: Totals,
}

/// One key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyStatus {
    /// Position in the pool.
    pub index: usize,
    /// Fingerprint, never the key.
    pub fingerprint: String,
    /// ready, cooling, exhausted or disabled.
    pub state: &'static str,
    /// For cooling and exhausted keys: milliseconds until ready.
    pub ready_in_ms: Option<u64>,
    /// For disabled keys: why.
    pub reason: Option<String>,
    /// Attempts sent.
    pub requests: u64,
    /// Attempts that succeeded.
    pub successes: u64,
    /// Failed attempts by reason.
    pub failures: BTreeMap<&'static str, u64>,
    /// The last failure's reason.
    pub last_error: Option<&'static str>,
    /// Known daily requests left (from headers), when observed.
    pub remaining_requests: Option<u64>,
    /// Known minute tokens left (from headers), when observed.
    pub remaining_tokens: Option<u64>,
    /// Index of the first key of the organisation this key was learned to share.
    pub group: usize,
}

/// Totals over the pool.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Keys.
    pub keys: usize,
    /// Keys ready now.
    pub ready: usize,
    /// Keys cooling.
    pub cooling: usize,
    /// Keys exhausted for the day.
    pub exhausted: usize,
    /// Keys disabled.
    pub disabled: usize,
    /// Attempts sent.
    pub requests: u64,
    /// Attempts that succeeded.
    pub successes: u64,
    /// Attempts that failed.
    pub failures: u64,
}

impl Status {
    /// Builds the snapshot at `now`.
    pub fn of(pool: &Pool, keys: &[ApiKey], policy: &'static str, now: Instant) -> Self {
        let mut totals = Totals {
            keys: keys.len(),
            ..Totals::default()
        };
        let keys = pool
            .keys
            .iter()
            .zip(keys)
            .enumerate()
            .map(|(index, (state, key))| {
                let (name, until, reason) = match &state.health {
                    Health::Ready => ("ready", None, None),
                    Health::Cooling { until } => ("cooling", Some(*until), None),
                    Health::Exhausted { until } => ("exhausted", Some(*until), None),
                    Health::Disabled { reason } => ("disabled", None, Some(reason.clone())),
                };
                match name {
                    "ready" => totals.ready += 1,
                    "cooling" => totals.cooling += 1,
                    "exhausted" => totals.exhausted += 1,
                    _ => totals.disabled += 1,
                }
                let failed: u64 = state.failures.iter().sum();
                totals.requests += state.requests;
                totals.successes += state.successes;
                totals.failures += failed;
                KeyStatus {
                    index,
                    fingerprint: key.fingerprint(),
                    state: name,
                    ready_in_ms: until.map(|u| u.saturating_duration_since(now).as_millis() as u64),
                    reason,
                    requests: state.requests,
                    successes: state.successes,
                    failures: Failure::REASONS
                        .iter()
                        .zip(state.failures)
                        .filter(|(_, n)| *n > 0)
                        .map(|(r, n)| (*r, n))
                        .collect(),
                    last_error: state.last_error.as_ref().map(Failure::reason),
                    remaining_requests: state
                        .observed
                        .and_then(|o| o.requests_at(now))
                        .map(|r| r.max(0.0) as u64),
                    remaining_tokens: state
                        .observed
                        .and_then(|o| o.tokens_at(now))
                        .map(|t| t.max(0.0) as u64),
                    group: pool.root(index),
                }
            })
            .collect();
        Self {
            policy,
            keys,
            totals,
        }
    }
}
