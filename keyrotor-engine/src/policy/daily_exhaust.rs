//! `daily-exhaust` — the GroqKeyManager seed (001): a current key, primary first, kept until a
//! daily *token* limit error marks it exhausted ("Key switching only happens for daily token
//! limit errors"); then the next available key. Any other 429 — per minute, or the daily
//! *request* limit — is a "rate limit error" to the seed and backs off exponentially on the
//! same key (`backoff_base`·2ⁿ, `max_backoff_retries` times); a 401 fails at once; anything
//! else is thrown to the caller; at most `max_switches` switches per request. Exhausted keys
//! come back when their daily window resets (the seed resets them by hand "at the start of a
//! new day"; 24 h when the API gave no wait).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{Answer, Attempts, GiveUp, Policy, Step, within, within_backoff_base};
use crate::failure::{Dimension, Failure, Scope};
use crate::pool::{Health, Pool};

/// Parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Key switches allowed per request.
    pub max_switches: u32,
    /// First backoff after a per-minute 429.
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    /// Backoff retries on the same key.
    pub max_backoff_retries: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            max_switches: 10,
            backoff_base: Duration::from_secs(1),
            max_backoff_retries: 3,
        }
    }
}

impl Params {
    /// Checks each parameter against its range.
    pub fn validate(&self) -> Result<(), super::OutOfRange> {
        within("max_switches", self.max_switches, 1, 1000)?;
        within_backoff_base(self.backoff_base)?;
        within("max_backoff_retries", self.max_backoff_retries, 0, 20)
    }
}

/// The policy.
#[derive(Debug)]
pub struct DailyExhaust(pub Params);

impl Policy for DailyExhaust {
    fn next(&self, pool: &mut Pool, _request: &mut Attempts, _now: Instant) -> Step {
        let n = pool.len();
        let here = pool.at_cursor();
        match (0..n).map(|i| (here + i) % n).find(|&k| pool.is_ready(k)) {
            Some(k) => {
                pool.move_cursor_to(k);
                Step::Try(k)
            }
            None => Step::Fail(GiveUp::NoKeyAvailable),
        }
    }

    fn observe(
        &self,
        pool: &mut Pool,
        request: &mut Attempts,
        key: usize,
        answer: Answer<'_>,
        now: Instant,
    ) {
        match answer.failure {
            None => {}
            Some(Failure::RateLimited {
                scope: Scope::Day,
                dimension,
                wait,
                ..
            }) if *dimension != Some(Dimension::Requests) => {
                let until = now + wait.unwrap_or(Duration::from_secs(86_400));
                pool.keys[key].health = Health::Exhausted { until };
                request.switches += 1;
                request.retries = 0;
                if request.switches > self.0.max_switches {
                    request.stop = Some(GiveUp::SwitchLimit);
                }
            }
            Some(Failure::RateLimited { .. }) => {
                if request.retries < self.0.max_backoff_retries {
                    request.wait_next = Some(
                        self.0
                            .backoff_base
                            .saturating_mul(1 << request.retries.min(16)),
                    );
                    request.retries += 1;
                } else {
                    request.stop = Some(GiveUp::RetriesExhausted);
                }
            }
            Some(_) => request.stop = Some(GiveUp::NotRetryable),
        }
    }
}
