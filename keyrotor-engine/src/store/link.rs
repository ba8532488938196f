//! A rotor's link to its [`StateStore`]: the keys' names in the store, what the store's
//! answers change in the rotor's pool, which of the pool's changes to publish, and the
//! store's health (for `status()`, the logs, and resynchronising after an outage).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::{MAX_REST, OnStoreError, RestKind, Shared, StateStore, StoreError};
use crate::keys::ApiKey;
use crate::pool::{Health, Pool};

/// Reason shown for a key another replica disabled.
pub const DISABLED_ELSEWHERE: &str = "disabled by another replica (shared state)";

/// What the status says of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// `memory` or `redis`.
    pub store: &'static str,
    /// `fail-open` or `fail-closed`.
    pub on_error: OnStoreError,
    /// Whether the last call succeeded.
    pub reachable: bool,
    /// Since when calls fail (ms ago), while they do.
    pub unreachable_for_ms: Option<u64>,
    /// The last failure, while calls fail.
    pub last_error: Option<String>,
    /// Calls made.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Attempts sent on the rotor's own state because the store failed (fail-open).
    pub served_locally: u64,
    /// Requests refused because the store failed (fail-closed).
    pub refused: u64,
    /// Rests this rotor learned from other replicas.
    pub rests_learned: u64,
    /// Rests this rotor published.
    pub rests_published: u64,
    /// Attempts the store held back: the key rested elsewhere or its organisation's minute
    /// was full across replicas.
    pub held_back: u64,
}

#[derive(Debug, Default)]
struct LinkState {
    pulled: bool,
    down_since: Option<Instant>,
    status: StoreStatus,
}

/// A rotor's link to its store.
#[derive(Debug)]
pub(crate) struct Link {
    pub store: Arc<dyn StateStore>,
    pub on_error: OnStoreError,
    /// Each key's name in the store: its fingerprint.
    pub names: Vec<String>,
    /// This rotor's number in the store ([`super::Admit::replica`]), drawn at random.
    pub replica: u64,
    health: Mutex<LinkState>,
}

/// What the pool looked like before an answer was observed, to tell what it changed.
pub(crate) struct Before {
    health: Vec<Health>,
    errors: Vec<u32>,
    cursor: u64,
}

/// What an answer changed that the other replicas should know.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Rests set or lengthened: (key, why, how long from now).
    pub rests: Vec<(usize, RestKind, Duration)>,
    /// Errors counted: (key, the window the policy counts them over).
    pub errors: Vec<(usize, Duration)>,
}

/// A number no other rotor draws, in all likelihood: std's per-process random hash keys
/// (seeded by the OS, advanced for every new state).
fn replica_number() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

impl Link {
    pub fn new(store: Arc<dyn StateStore>, on_error: OnStoreError, keys: &[ApiKey]) -> Self {
        let status = StoreStatus {
            store: store.name(),
            on_error,
            reachable: true,
            ..StoreStatus::default()
        };
        Self {
            store,
            on_error,
            names: keys.iter().map(ApiKey::fingerprint).collect(),
            replica: replica_number(),
            health: Mutex::new(LinkState {
                status,
                ..LinkState::default()
            }),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the rotor has read the store since it started (a cold start reads it first).
    pub fn pulled(&self) -> bool {
        self.health().pulled
    }

    /// Counts a successful call; `true` when it ends an outage (the caller then publishes
    /// its local rests: the store missed them).
    pub fn succeeded(&self) -> bool {
        let mut h = self.health();
        h.pulled = true;
        h.status.calls += 1;
        h.status.reachable = true;
        h.status.last_error = None;
        let recovered = h.down_since.take().is_some();
        if recovered {
            tracing::warn!(
                store = h.status.store,
                "state store reachable again: resynchronising"
            );
        }
        recovered
    }

    /// Counts a failed call, and what the rotor did about the attempt it was for:
    /// `Some(true)` sent it on local state, `Some(false)` refused it, `None` (a publish)
    /// nothing.
    pub fn failed(&self, error: &StoreError, now: Instant, attempt: Option<bool>) {
        let mut h = self.health();
        h.status.calls += 1;
        h.status.errors += 1;
        match attempt {
            Some(true) => h.status.served_locally += 1,
            Some(false) => h.status.refused += 1,
            None => {}
        }
        if h.down_since.is_none() {
            h.down_since = Some(now);
            tracing::warn!(
                store = h.status.store,
                on_error = ?self.on_error,
                %error,
                "state store unreachable: {}",
                match self.on_error {
                    OnStoreError::FailOpen => "serving from local state",
                    OnStoreError::FailClosed => "refusing requests",
                }
            );
        }
        h.status.reachable = false;
        h.status.last_error = Some(error.to_string());
    }

    /// Counts an attempt the store held back.
    pub fn held_back(&self) {
        self.health().status.held_back += 1;
    }

    /// Counts published rests.
    pub fn published(&self, rests: usize) {
        self.health().status.rests_published += rests as u64;
    }

    /// The store's part of the status at `now`.
    pub fn status(&self, now: Instant) -> StoreStatus {
        let h = self.health();
        let mut status = h.status.clone();
        status.unreachable_for_ms = h
            .down_since
            .map(|since| now.saturating_duration_since(since).as_millis() as u64);
        status
    }

    /// Applies what the store says: the larger rotation position, every rest longer than
    /// the pool's own (a rest never shortens one the pool has), and, for an admission of key
    /// `asked`, its error count across replicas and the per-minute limit another replica
    /// learned for its organisation when this one has none.
    pub fn apply(&self, pool: &mut Pool, shared: &Shared, asked: Option<usize>) {
        pool.cursor = pool.cursor.max(shared.cursor);
        if let Some(k) = asked {
            pool.keys[k].errors = pool.keys[k].errors.max(shared.errors);
        }
        if let (Some(rpm), Some(k)) = (shared.rpm, asked) {
            let root = pool.root(k);
            for i in [root, k] {
                pool.keys[i].rpm_limit.get_or_insert(rpm);
            }
        }
        let mut learned = 0;
        for (key, rest) in pool.keys.iter_mut().zip(&shared.rests) {
            let Some(rest) = rest else { continue };
            let longer = match key.health {
                Health::Ready => true,
                Health::Cooling { until } | Health::Exhausted { until } => until < rest.until,
                Health::Disabled { .. } => false,
            };
            if longer {
                // A key another replica saw limited is probed one request at a time when it
                // is back (adaptive's half-open), as if this replica had seen it.
                key.limited |= rest.kind != RestKind::Disabled;
                key.health = match rest.kind {
                    RestKind::Cooling => Health::Cooling { until: rest.until },
                    RestKind::Exhausted => Health::Exhausted { until: rest.until },
                    RestKind::Disabled => Health::Disabled {
                        reason: DISABLED_ELSEWHERE.to_owned(),
                        until: Some(rest.until),
                    },
                };
                learned += 1;
            }
        }
        if learned > 0 {
            self.health().status.rests_learned += learned;
        }
    }

    /// The pool as it is, to compare with after an answer.
    pub fn before(pool: &Pool) -> Before {
        Before {
            health: pool.keys.iter().map(|k| k.health.clone()).collect(),
            errors: pool.keys.iter().map(|k| k.errors).collect(),
            cursor: pool.cursor,
        }
    }

    /// The rests an answer set or lengthened and, for a policy counting errors over
    /// `window`, the errors it counted (`None` when nothing is worth publishing).
    pub fn changes(
        pool: &Pool,
        before: &Before,
        now: Instant,
        window: Option<Duration>,
    ) -> Option<Changes> {
        let rests: Vec<_> = pool
            .keys
            .iter()
            .zip(&before.health)
            .enumerate()
            .filter(|(_, (key, was))| key.health != **was)
            .filter_map(|(k, (key, _))| rest_of(&key.health, now).map(|(kind, d)| (k, kind, d)))
            .collect();
        let errors: Vec<_> = window.map_or_else(Vec::new, |window| {
            (0..pool.len())
                .filter(|&k| pool.keys[k].errors > before.errors[k])
                .map(|k| (k, window))
                .collect()
        });
        let changed = !rests.is_empty() || !errors.is_empty() || pool.cursor != before.cursor;
        changed.then_some(Changes { rests, errors })
    }

    /// Every rest the pool has (to publish after an outage).
    pub fn all_rests(pool: &Pool, now: Instant) -> Changes {
        let rests = pool
            .keys
            .iter()
            .enumerate()
            .filter(|(_, key)| {
                !matches!(&key.health, Health::Disabled { reason, .. } if reason == DISABLED_ELSEWHERE)
            })
            .filter_map(|(k, key)| rest_of(&key.health, now).map(|(kind, d)| (k, kind, d)))
            .collect();
        Changes {
            rests,
            errors: Vec::new(),
        }
    }
}

/// A health as a rest to publish: its kind and how long from `now`.
fn rest_of(health: &Health, now: Instant) -> Option<(RestKind, Duration)> {
    let kind = match health {
        Health::Ready => return None,
        Health::Cooling { .. } => RestKind::Cooling,
        Health::Exhausted { .. } => RestKind::Exhausted,
        Health::Disabled { .. } => RestKind::Disabled,
    };
    // A disable with no end (a revoked key) rests as long as a rest may.
    let left = health
        .until()
        .map_or(MAX_REST, |until| until.saturating_duration_since(now));
    (!left.is_zero()).then_some((kind, left))
}
