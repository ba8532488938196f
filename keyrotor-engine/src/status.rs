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
    /// The shared state store, when the rotor has one ([`crate::Rotor::with_store`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<crate::store::StoreStatus>,
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

/// What the pool as a whole has left, by the rate-limit headers its keys last returned
/// (refilled since at the windows' rates): one figure per learned organisation, since its
/// keys share one budget (the lowest its keys saw), summed over organisations. Disabled keys
/// count nothing. `None` where no key has said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PoolBudget {
    /// Sum of the organisations' request limits.
    pub limit_requests: Option<u64>,
    /// Requests left.
    pub remaining_requests: Option<u64>,
    /// Sum of the organisations' token limits.
    pub limit_tokens: Option<u64>,
    /// Tokens left.
    pub remaining_tokens: Option<u64>,
}

/// One budget of one organisation: (limit, left).
type Figure = Option<(u64, u64)>;

/// Merges what another key of the same organisation saw: the limit is the same, and the
/// lowest left is the safest.
fn merge(have: Figure, seen: Figure) -> Figure {
    match (have, seen) {
        (Some((l, r)), Some((limit, left))) => Some((l.max(limit), r.min(left))),
        (have, seen) => have.or(seen),
    }
}

/// Adds another organisation's budget.
fn add(sum: Figure, org: Figure) -> Figure {
    match (sum, org) {
        (Some((l, r)), Some((limit, left))) => {
            Some((l.saturating_add(limit), r.saturating_add(left)))
        }
        (sum, org) => sum.or(org),
    }
}

impl PoolBudget {
    /// Reads the budget off the pool at `now`.
    pub fn of(pool: &Pool, now: Instant) -> Self {
        // Per organisation (indexed by its root key): requests, tokens.
        let mut orgs: Vec<(Figure, Figure)> = vec![(None, None); pool.len()];
        for (k, state) in pool.keys.iter().enumerate() {
            let Some(seen) = state.observed else { continue };
            if matches!(state.health, Health::Disabled { .. }) {
                continue;
            }
            let left = |f: Option<f64>| f.map(|v| v.max(0.0) as u64);
            let requests = seen.limit_requests.zip(left(seen.requests_at(now)));
            let tokens = seen.limit_tokens.zip(left(seen.tokens_at(now)));
            let org = &mut orgs[pool.root(k)];
            *org = (merge(org.0, requests), merge(org.1, tokens));
        }
        let (requests, tokens) = orgs
            .into_iter()
            .fold((None, None), |(r, t), (or, ot)| (add(r, or), add(t, ot)));
        Self {
            limit_requests: requests.map(|r| r.0),
            remaining_requests: requests.map(|r| r.1),
            limit_tokens: tokens.map(|t| t.0),
            remaining_tokens: tokens.map(|t| t.1),
        }
    }
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
                    Health::Disabled { reason, until } => {
                        ("disabled", *until, Some(reason.clone()))
                    }
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
            store: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::pool::Observed;

    fn seen(at: Instant, left: u64) -> Observed {
        Observed {
            at,
            limit_requests: Some(1000),
            remaining_requests: Some(left),
            requests_window: Duration::from_secs(86_400),
            limit_tokens: None,
            remaining_tokens: None,
            tokens_window: Duration::from_secs(60),
            reset_tokens: None,
        }
    }

    #[test]
    fn the_pool_budget_sums_organisations_and_leaves_out_disabled_keys() {
        let now = Instant::now();
        let mut pool = Pool::new(3, 0, now);
        assert_eq!(
            PoolBudget::of(&pool, now),
            PoolBudget::default(),
            "no data, not 0"
        );
        pool.keys[0].observed = Some(seen(now, 100));
        pool.keys[1].observed = Some(seen(now, 40));
        pool.keys[2].observed = Some(seen(now, 7));
        pool.keys[2].health = Health::Disabled {
            reason: "401".into(),
            until: None,
        };
        let budget = PoolBudget::of(&pool, now);
        assert_eq!(budget.limit_requests, Some(2000));
        assert_eq!(budget.remaining_requests, Some(140));
        assert_eq!(budget.remaining_tokens, None);
    }

    #[test]
    fn keys_of_one_organisation_count_once_at_their_lowest() {
        assert_eq!(merge(Some((1000, 100)), Some((1000, 40))), Some((1000, 40)));
        assert_eq!(merge(None, Some((1000, 40))), Some((1000, 40)));
        assert_eq!(add(Some((1000, 100)), Some((1000, 40))), Some((2000, 140)));
        assert_eq!(add(Some((u64::MAX, 1)), Some((1, 1))), Some((u64::MAX, 2)));
        assert_eq!(add(None, None), None);
    }
}
