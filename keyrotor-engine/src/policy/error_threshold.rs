//! `error-threshold` — the "fallback setup" seed (003): the primary key first, always; on a
//! rate-limit, quota, invalid-key, timeout or unavailable error the key's error count goes up
//! and the request moves to the next available key; a key reaching `threshold` errors is
//! disabled; every `reset_interval` (the seed says "usually 1 hour") all counts reset and
//! disabled keys come back. A malformed request (400/404/422) is not retried.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{Answer, Attempts, GiveUp, Policy, Step, within};
use crate::failure::Failure;
use crate::pool::{Health, Pool};

/// Parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Errors that disable a key.
    pub threshold: u32,
    /// How often counts reset and disabled keys return.
    #[serde(with = "humantime_serde")]
    pub reset_interval: Duration,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            threshold: 3,
            reset_interval: Duration::from_secs(3600),
        }
    }
}

impl Params {
    /// Checks each parameter against its range.
    pub fn validate(&self) -> Result<(), super::OutOfRange> {
        within("threshold", self.threshold, 1, 1000)?;
        within(
            "reset_interval",
            self.reset_interval,
            Duration::from_secs(1),
            Duration::from_secs(7 * 86_400),
        )
    }
}

/// The policy.
#[derive(Debug)]
pub struct ErrorThreshold(pub Params);

impl Policy for ErrorThreshold {
    fn next(&self, pool: &mut Pool, request: &mut Attempts, now: Instant) -> Step {
        if now.duration_since(pool.last_reset) >= self.0.reset_interval {
            pool.last_reset = now;
            for key in &mut pool.keys {
                key.errors = 0;
                if matches!(key.health, Health::Disabled { .. }) {
                    key.health = Health::Ready;
                }
            }
        }
        pool.first_ready(|k| request.tried(k))
            .map_or_else(|| request.none_left(), Step::Try)
    }

    fn observe(
        &self,
        pool: &mut Pool,
        request: &mut Attempts,
        key: usize,
        answer: Answer<'_>,
        _now: Instant,
    ) {
        match answer.failure {
            None => {}
            Some(Failure::BadRequest { .. }) => request.stop = Some(GiveUp::NotRetryable),
            Some(_) => {
                let until = pool.last_reset.checked_add(self.0.reset_interval);
                let state = &mut pool.keys[key];
                state.errors = state.errors.saturating_add(1);
                if state.errors >= self.0.threshold {
                    state.health = Health::Disabled {
                        reason: format!("{} errors (threshold {})", state.errors, self.0.threshold),
                        until,
                    };
                }
            }
        }
    }

    fn counts_errors(&self) -> Option<Duration> {
        Some(self.0.reset_interval)
    }
}
