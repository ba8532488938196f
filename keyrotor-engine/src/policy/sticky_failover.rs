//! `sticky-failover` — the SmartLLM seed (004): one current key shared by all requests. Each
//! attempt is a Groq SDK call, which itself retries 408/409/429/5xx, timeouts and connection
//! errors `sdk_retries` times (2 by default), waiting `retry-after` when 0 < it ≤ 60 s, else
//! min(0.5 s·2ⁿ, 8 s) less up to 25 % jitter. When the call still raises, the seed lowercases
//! the exception text and rotates to the next key if it contains 'rate', 'limit' or 'quota'
//! (and keys remain); otherwise it stops. After `len(keys)` calls, or on another error, the
//! user gets a graceful-degradation answer instead of an error.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{Answer, Attempts, GiveUp, Policy, Step, within};
use crate::failure::{Failure, naive_is_rate_limit, sdk_error_text};
use crate::pool::Pool;

/// Parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Retries the SDK makes inside one call (groq-python's default is 2).
    pub sdk_retries: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { sdk_retries: 2 }
    }
}

impl Params {
    /// Checks each parameter against its range.
    pub fn validate(&self) -> Result<(), super::OutOfRange> {
        within("sdk_retries", self.sdk_retries, 0, 10)
    }
}

/// The policy.
#[derive(Debug)]
pub struct StickyFailover(pub Params);

/// Whether groq-python retries this failure inside a call.
fn sdk_retries(failure: &Failure) -> bool {
    match failure {
        Failure::RateLimited { .. }
        | Failure::ServerError { .. }
        | Failure::MalformedAnswer
        | Failure::Timeout
        | Failure::Connection => true,
        Failure::OverCapacity { status } => *status != 498,
        Failure::BadRequest { status } => matches!(status, 408 | 409),
        // Under way, a stream cannot be retried: its 200 has been read.
        Failure::TooLarge | Failure::Unauthorized | Failure::StreamError => false,
    }
}

impl Policy for StickyFailover {
    fn next(&self, pool: &mut Pool, _request: &mut Attempts, _now: Instant) -> Step {
        Step::Try(pool.at_cursor())
    }

    fn observe(
        &self,
        pool: &mut Pool,
        request: &mut Attempts,
        _key: usize,
        answer: Answer<'_>,
        _now: Instant,
    ) {
        let Some(failure) = answer.failure else {
            return;
        };
        if sdk_retries(failure) && request.retries < self.0.sdk_retries {
            let delay = match failure.wait() {
                Some(wait) if !wait.is_zero() && wait <= Duration::from_secs(60) => wait,
                _ => {
                    let base = Duration::from_millis(500)
                        .saturating_mul(1 << request.retries.min(8))
                        .min(Duration::from_secs(8));
                    base.mul_f64(1.0 - 0.25 * pool.rng.random::<f64>())
                }
            };
            request.retries += 1;
            request.wait_next = Some(delay);
            return;
        }
        // The SDK call raised.
        request.retries = 0;
        request.calls += 1;
        let text = sdk_error_text(failure, answer.status, answer.body);
        if naive_is_rate_limit(&text) && (request.calls as usize) < pool.len() {
            pool.cursor = pool.cursor.saturating_add(1);
        } else {
            request.stop = Some(GiveUp::AllKeysFailed);
            request.degraded = true;
        }
    }
}
