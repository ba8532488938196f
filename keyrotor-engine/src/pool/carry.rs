//! A pool over a new set of keys that keeps what an old pool learned of the keys both hold:
//! their rests, counters, budgets from headers, learned limits and which of them share an
//! organisation. What a reload of a proxy's keys needs ([`crate::Rotor::inherit`]).

use tokio::time::Instant;

use super::Pool;

impl Pool {
    /// A pool of `from.len()` keys, where `from[i]` is key `i`'s index in `old` (`None` for a
    /// key `old` never held: it starts ready, as in [`Pool::new`]). Attempts in flight stay
    /// with `old` (their answers are recorded there), so the new pool starts with none; the
    /// rotation's position and the typical attempt time carry over.
    pub fn carried(old: &Pool, from: &[Option<usize>], seed: u64, now: Instant) -> Self {
        let n = from.len();
        let mut pool = Pool::new(n, seed, now);
        pool.cursor = old.cursor;
        pool.last_reset = old.last_reset;
        pool.service_secs = old.service_secs;
        pool.service_dev_secs = old.service_dev_secs;
        pool.seq = old.seq;
        pool.minute_limits_seen = old.minute_limits_seen;
        let kept = |i: usize| from[i].filter(|&j| j < old.len());
        for i in 0..n {
            let Some(j) = kept(i) else { continue };
            let mut state = old.keys[j].clone();
            state.in_flight = 0;
            state.in_flight_tokens = 0;
            state.seen = (0..n)
                .map(|o| kept(o).map_or(0, |o| old.keys[j].seen.get(o).copied().unwrap_or(0)))
                .collect();
            pool.keys[i] = state;
            pool.observations[i] = old.observations[j];
            for o in 0..n {
                if let Some(p) = kept(o) {
                    pool.scores[i * n + o] = old.scores[j * old.len() + p];
                }
            }
        }
        // Keys learned to share an organisation still do.
        for a in 0..n {
            for b in a + 1..n {
                if let (Some(ja), Some(jb)) = (kept(a), kept(b))
                    && old.root(ja) == old.root(jb)
                {
                    pool.merge(a, b);
                }
            }
        }
        // A group's pacing lives with its representative, which may be another key now.
        for i in 0..n {
            if let Some(j) = kept(i)
                && pool.root(i) == i
            {
                let root = old.root(j);
                pool.keys[i].paced = old.keys[root].paced;
                pool.keys[i].rpm_limit = old.keys[root].rpm_limit.or(pool.keys[i].rpm_limit);
            }
        }
        for i in 0..n {
            if pool.keys[i].observed.is_some() {
                pool.offer_freshest(i);
            }
        }
        pool
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Health;
    use super::*;
    use crate::failure::{Dimension, Failure, Scope};

    fn rate_limited(org: &str) -> Failure {
        Failure::RateLimited {
            scope: Scope::Minute,
            dimension: Some(Dimension::Requests),
            limit: Some(30),
            org: Some(org.to_owned()),
            wait: Some(Duration::from_secs(7)),
        }
    }

    /// Keys 0 and 2 of the old pool share an organisation and key 2 rests; the new pool
    /// holds old keys 2 and 0 (swapped) and a new key: the rest, the counters and the shared
    /// organisation carry over, the new key is ready and alone, nothing is in flight.
    #[test]
    fn a_new_key_set_keeps_what_was_learned_of_the_keys_that_stay() {
        let now = Instant::now();
        let mut old = Pool::new(3, 1, now);
        for k in [0, 2] {
            old.on_send(k, 10, now);
            old.on_answer(k, 10, Some(&rate_limited("org_a")), None, now);
        }
        old.on_send(1, 10, now);
        old.on_send(2, 10, now);
        let until = now + Duration::from_secs(7);
        old.set_group_health(2, Health::Cooling { until });
        old.cursor = 5;
        assert_eq!(old.root(0), old.root(2), "the test's setup merges 0 and 2");

        let new = Pool::carried(&old, &[Some(2), Some(0), None], 9, now);
        assert_eq!(new.len(), 3);
        assert_eq!(new.keys[0].health, Health::Cooling { until });
        assert_eq!(new.keys[1].health, Health::Cooling { until });
        assert_eq!(new.keys[2].health, Health::Ready);
        assert_eq!(new.root(0), new.root(1), "the organisation is still shared");
        assert_ne!(new.root(2), new.root(0), "the new key is alone");
        assert_eq!((new.keys[0].requests, new.keys[1].requests), (2, 1));
        assert_eq!(
            new.keys[0].in_flight, 0,
            "in flight stays with the old pool"
        );
        assert_eq!(new.keys[0].rpm_limit, Some(30));
        assert_eq!(new.keys[2].requests, 0);
        assert_eq!(new.cursor, 5);
    }
}
