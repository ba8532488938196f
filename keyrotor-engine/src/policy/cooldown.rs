//! `cooldown` — the "multi-key architecture" seed (002): round-robin over the keys that are
//! not cooling; a key that fails (429 or any error) cools for `cooldown` (60 s); a request
//! makes up to `max_attempts` (3) attempts on different keys. When every key is cooling the
//! request fails at once.

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
    /// How long a failed key rests.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// Attempts per request, each on a different key.
    pub max_attempts: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            cooldown: Duration::from_secs(60),
            max_attempts: 3,
        }
    }
}

impl Params {
    /// Checks each parameter against its range.
    pub fn validate(&self) -> Result<(), super::OutOfRange> {
        within(
            "cooldown",
            self.cooldown,
            Duration::ZERO,
            Duration::from_secs(86_400),
        )?;
        within("max_attempts", self.max_attempts, 1, 100)
    }
}

/// The policy.
#[derive(Debug)]
pub struct Cooldown(pub Params);

impl Policy for Cooldown {
    fn next(&self, pool: &mut Pool, request: &mut Attempts, _now: Instant) -> Step {
        if request.count >= self.0.max_attempts {
            return Step::Fail(GiveUp::AllKeysFailed);
        }
        pool.next_ready_round_robin(|k| request.tried(k))
            .map_or_else(|| request.none_left(), Step::Try)
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
            // A request error is the request's, not the key's: no key can fix it, so the
            // request stops and no key cools for it.
            Some(Failure::BadRequest { .. }) => request.stop = Some(GiveUp::NotRetryable),
            Some(_) => {
                pool.keys[key].health = Health::Cooling {
                    until: now + self.0.cooldown,
                }
            }
            None => {}
        }
    }
}
