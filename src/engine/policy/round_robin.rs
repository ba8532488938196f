//! `round-robin` — the "multi-key Groq system" seed (000): the key index advances per
//! request; on a 429 or a network error the same request tries the next key; each key at
//! most once per request; when all have failed the request fails. Keys keep no state: a key
//! that just answered 429 is tried again by the next request whose turn it is.

use tokio::time::Instant;

use super::{Answer, Attempts, GiveUp, Policy, Step};
use crate::engine::failure::Failure;
use crate::engine::pool::Pool;

/// The policy.
pub struct RoundRobin;

impl Policy for RoundRobin {
    fn next(&self, pool: &mut Pool, request: &mut Attempts, _now: Instant) -> Step {
        let n = pool.len();
        if request.count as usize >= n {
            return Step::Fail(GiveUp::AllKeysFailed);
        }
        match request.first {
            None => {
                let k = pool.cursor % n;
                pool.cursor = (k + 1) % n;
                Step::Try(k)
            }
            Some(first) => Step::Try((first + request.count as usize) % n),
        }
    }

    fn observe(
        &self,
        _pool: &mut Pool,
        request: &mut Attempts,
        _key: usize,
        answer: Answer<'_>,
        _now: Instant,
    ) {
        if let Some(failure) = answer.failure
            && !matches!(
                failure,
                Failure::RateLimited { .. } | Failure::Timeout | Failure::Connection
            )
        {
            request.stop = Some(GiveUp::NotRetryable);
        }
    }
}
