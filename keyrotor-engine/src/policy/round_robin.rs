//! `round-robin` — the "multi-key Groq system" seed (000): the key index advances per
//! request; any failed attempt sends the same request to the next key, each key at most once
//! per request; when all have failed the request fails. The seed's loop is
//! `if (response.status === 429) continue; if (response.ok) return success;` — an answer that
//! is neither (a 401, a 5xx) falls through to the next iteration just like a 429, and network
//! errors "recover with the next available key". Keys keep no state: a key that just
//! answered 429 is tried again by the next request whose turn it is.

use tokio::time::Instant;

use super::{Answer, Attempts, GiveUp, Policy, Step};
use crate::pool::Pool;

/// The policy.
#[derive(Debug)]
pub struct RoundRobin;

impl Policy for RoundRobin {
    fn next(&self, pool: &mut Pool, request: &mut Attempts, _now: Instant) -> Step {
        let n = pool.len();
        if request.count as usize >= n {
            return Step::Fail(GiveUp::AllKeysFailed);
        }
        match request.first {
            None => {
                let k = pool.at_cursor();
                pool.cursor = pool.cursor.saturating_add(1);
                Step::Try(k)
            }
            Some(first) => Step::Try((first + request.count as usize) % n),
        }
    }

    /// Nothing to decide: every failure moves on to the next key (see the module docs).
    fn observe(&self, _: &mut Pool, _: &mut Attempts, _: usize, _: Answer<'_>, _: Instant) {}
}
