//! The key pool's shared state: per key its health, counters and what the API's headers said
//! about its budgets; which keys were learned to share one organisation's quota; and the
//! cursor and RNG the policies use. Guarded by one mutex in the rotor, never across an await.
//!
//! Learning shared quotas: a key's daily request counter (`x-ratelimit-remaining-requests`)
//! drops by one per own request when the key is alone in its organisation. When it drops by
//! more, some key that sent in between shares it; when it drops by exactly one although
//! another key sent in between, that key does not. Evidence is scored per pair and keys merge
//! at [`MERGE_SCORE`]. A 429 body that names the organisation merges keys at once. Where
//! neither is said (Gemini), per-minute 429s tell, by elimination (`minute.rs`).
//!
//! What a group has left is worked out in `budget.rs`, from state the pool keeps per
//! group as sends and answers come, so a select reads it without going over the keys.

mod budget;
mod carry;
mod minute;

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::time::Instant;

use super::failure::{Failure, Scope};
pub use budget::{GroupBudget, Observed};
use budget::{Seen, drained, pacing_secs};

/// Evidence needed to treat two keys as one organisation.
pub const MERGE_SCORE: i32 = 3;

/// Whether a key may be used.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Usable.
    Ready,
    /// Resting after a per-minute limit or an error, until the instant.
    Cooling {
        /// Ready again at.
        until: Instant,
    },
    /// Its daily budget is spent, until the instant.
    Exhausted {
        /// Ready again at.
        until: Instant,
    },
    /// Not used: until the instant, or until a person acts (`None`, e.g. a revoked key).
    Disabled {
        /// Why.
        reason: String,
        /// Ready again at (error-threshold: its next reset), if ever.
        until: Option<Instant>,
    },
}

impl Health {
    /// When a resting key is ready again (`None`: ready, or disabled for good).
    pub fn until(&self) -> Option<Instant> {
        match *self {
            Health::Ready => None,
            Health::Cooling { until } | Health::Exhausted { until } => Some(until),
            Health::Disabled { until, .. } => until,
        }
    }
}

/// Per-key counters and state.
#[derive(Debug, Clone)]
pub struct KeyState {
    /// Usable or not.
    pub health: Health,
    /// Attempts sent with this key.
    pub requests: u64,
    /// Attempts that succeeded.
    pub successes: u64,
    /// Failed attempts by [`Failure::index`].
    pub failures: [u64; Failure::REASONS.len()],
    /// The last failure.
    pub last_error: Option<Failure>,
    /// The key's last answer was a 429 (cleared by a success): after its rest, one probe at
    /// a time finds out whether the budget is back.
    pub limited: bool,
    /// A daily budget this key ran out of (requests or tokens, its limit, since when): the
    /// headers never show daily token budgets, so the adaptive policy paces by the refill.
    pub day_limited: Option<(super::failure::Dimension, u64, Instant)>,
    /// Consecutive errors counted by the error-threshold policy.
    pub errors: u32,
    /// Attempts sent and not yet answered (changed through [`Pool::on_send`] and
    /// [`Pool::on_answer`], which keep the group's sums with it).
    pub in_flight: u32,
    /// Tokens those attempts reserve (likewise).
    pub in_flight_tokens: u64,
    /// The last budget headers (set by [`Pool::on_answer`], which keeps the group's
    /// freshest with it).
    pub observed: Option<Observed>,
    /// Requests per minute learned from a 429 message.
    pub rpm_limit: Option<u64>,
    /// When its attempts of the last minute were sent, those answered 429 left out.
    sends: std::collections::VecDeque<Instant>,
    /// Its last per-minute 429 that named no organisation: its place in the pool's sequence
    /// of sends and answers, and until when it rests.
    minute_limited: Option<(u64, Instant)>,
    /// The place of its last send in that sequence.
    last_send_seq: u64,
    /// The organisation a 429 message named.
    pub org: Option<String>,
    /// When the key was last chosen (for least-recently-used ties).
    pub last_used: Option<Instant>,
    /// Successful observations of every key when this key last observed (see module docs).
    seen: Vec<u64>,
    /// Local pacing of the per-minute request budget: usage and when it was last updated.
    paced: (f64, Instant),
}

/// The whole pool.
#[derive(Debug)]
pub struct Pool {
    /// One entry per key, in key order.
    pub keys: Vec<KeyState>,
    /// Group (learned organisation) of each key: the index of its group's representative
    /// (read through [`Pool::root`]; kept flat by `merge`).
    group: Vec<usize>,
    /// Where the rotation stands (round-robin, sticky and primary-first policies): a count
    /// that only grows, so replicas sharing state agree by taking the larger
    /// ([`crate::store`]); the key it points at is [`Pool::at_cursor`].
    pub cursor: u64,
    /// When the error-threshold policy last reset its counts.
    pub last_reset: Instant,
    /// Seeded randomness for jitter.
    pub rng: SmallRng,
    /// How long a successful attempt takes, seconds (moving average; 0 before the first).
    pub service_secs: f64,
    /// How far attempts stray from that average, seconds (moving mean absolute deviation).
    pub service_dev_secs: f64,
    observations: Vec<u64>,
    /// Counts the per-minute learning's sends and 429s, to order them (`minute.rs`).
    seq: u64,
    /// Whether any key has met a per-minute 429 that named no organisation: until one has,
    /// a success has nothing to rule out (`minute.rs`), and costs no pass over the keys.
    minute_limits_seen: bool,
    scores: Vec<i32>,
    /// Per group, at its representative's index: what its keys have in flight and which
    /// holds the freshest observation, kept by `on_send`, `on_answer` and `merge` so that
    /// [`Pool::budget`] reads a group's budget without going over its keys.
    groups: Vec<GroupState>,
}

/// What [`Pool::budget`] needs of a group beyond its representative's own state.
#[derive(Debug, Clone, Copy, Default)]
struct GroupState {
    in_flight: u64,
    in_flight_tokens: u64,
    /// The key whose observation is the freshest (at equal times, the more conservative).
    freshest: Option<usize>,
    /// That observation as [`Pool::budget`] reads it.
    seen: Option<Seen>,
}

impl Pool {
    /// A pool of `n` ready keys.
    pub fn new(n: usize, seed: u64, now: Instant) -> Self {
        Self {
            keys: (0..n)
                .map(|_| KeyState {
                    health: Health::Ready,
                    requests: 0,
                    successes: 0,
                    failures: [0; Failure::REASONS.len()],
                    last_error: None,
                    limited: false,
                    day_limited: None,
                    errors: 0,
                    in_flight: 0,
                    in_flight_tokens: 0,
                    observed: None,
                    rpm_limit: None,
                    sends: std::collections::VecDeque::new(),
                    minute_limited: None,
                    last_send_seq: 0,
                    org: None,
                    last_used: None,
                    seen: vec![0; n],
                    paced: (0.0, now),
                })
                .collect(),
            group: (0..n).collect(),
            cursor: 0,
            last_reset: now,
            rng: SmallRng::seed_from_u64(seed),
            service_secs: 0.0,
            service_dev_secs: 0.0,
            observations: vec![0; n],
            seq: 0,
            minute_limits_seen: false,
            scores: vec![0; n * n],
            groups: vec![GroupState::default(); n],
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the pool has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Turns keys whose rest (cooling, exhaustion, a disable with an end) has ended back to
    /// ready.
    pub fn refresh(&mut self, now: Instant) {
        for key in &mut self.keys {
            if key.health.until().is_some_and(|until| until <= now) {
                key.health = Health::Ready;
            }
        }
    }

    /// Whether key `k` is ready.
    pub fn is_ready(&self, k: usize) -> bool {
        matches!(self.keys[k].health, Health::Ready)
    }

    /// The earliest instant a resting key becomes ready.
    pub fn earliest_ready(&self) -> Option<Instant> {
        self.keys.iter().filter_map(|k| k.health.until()).min()
    }

    /// The key the cursor points at.
    pub fn at_cursor(&self) -> usize {
        (self.cursor % self.len().max(1) as u64) as usize
    }

    /// Moves the cursor forward to the next position that points at key `k`.
    pub fn move_cursor_to(&mut self, k: usize) {
        let n = self.len().max(1) as u64;
        let ahead = (k as u64 % n + n - self.cursor % n) % n;
        self.cursor = self.cursor.saturating_add(ahead);
    }

    /// The first ready key at or after the cursor (wrapping) that `skip` does not exclude;
    /// moves the cursor past it.
    pub fn next_ready_round_robin(&mut self, skip: impl Fn(usize) -> bool) -> Option<usize> {
        let n = self.len();
        let here = self.at_cursor();
        let k = (0..n)
            .map(|i| (here + i) % n)
            .find(|&k| self.is_ready(k) && !skip(k))?;
        self.move_cursor_to(k);
        self.cursor = self.cursor.saturating_add(1);
        Some(k)
    }

    /// The first ready key in key order that `skip` does not exclude (primary first).
    pub fn first_ready(&self, skip: impl Fn(usize) -> bool) -> Option<usize> {
        (0..self.len()).find(|&k| self.is_ready(k) && !skip(k))
    }

    /// Sets the health of key `k` and of every key learned to share its organisation.
    pub fn set_group_health(&mut self, k: usize, health: Health) {
        let root = self.root(k);
        for i in 0..self.len() {
            if self.root(i) == root {
                self.keys[i].health = health.clone();
            }
        }
    }

    /// The representative of key `k`'s group.
    /// Groups are kept flat (every key points at its representative), so this is one read.
    pub fn root(&self, k: usize) -> usize {
        self.group[k]
    }

    /// Treats every key as one group from now on: one organisation, project or account
    /// whose budget they all share ([`crate::provider::Provider::keys_share_one_scope`]).
    pub fn share_all(&mut self) {
        for k in 1..self.len() {
            self.merge(0, k);
        }
    }

    /// The evidence score of keys `a` and `b` sharing a scope (one cell per pair).
    fn pair_mut(&mut self, a: usize, b: usize) -> &mut i32 {
        let n = self.len();
        &mut self.scores[a.min(b) * n + a.max(b)]
    }

    /// [`Pool::pair_mut`], read.
    fn pair(&self, a: usize, b: usize) -> i32 {
        let n = self.len();
        self.scores[a.min(b) * n + a.max(b)]
    }

    fn merge(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            let (keep, join) = (ra.min(rb), ra.max(rb));
            let rpm = self.keys[ra].rpm_limit.or(self.keys[rb].rpm_limit);
            for i in 0..self.len() {
                if self.group[i] == join {
                    self.group[i] = keep;
                }
                if self.group[i] == keep {
                    self.keys[i].rpm_limit = self.keys[i].rpm_limit.or(rpm);
                }
            }
            let (a, b) = (self.groups[keep], self.groups[join]);
            self.groups[keep] = GroupState {
                in_flight: a.in_flight.saturating_add(b.in_flight),
                in_flight_tokens: a.in_flight_tokens.saturating_add(b.in_flight_tokens),
                freshest: a.freshest,
                seen: a.seen,
            };
            self.groups[join] = GroupState::default();
            if let Some(j) = b.freshest {
                self.offer_freshest(j);
            }
        }
    }

    /// Makes key `k`'s observation its group's freshest if it is; when `k` held it, looks
    /// over the group again (its new one may be older than another key's, answers arriving
    /// out of order).
    fn offer_freshest(&mut self, k: usize) {
        let root = self.root(k);
        if self.groups[root].freshest == Some(k) {
            self.groups[root].freshest = None;
            for i in 0..self.len() {
                if self.group[i] == root {
                    self.consider_freshest(root, i);
                }
            }
        } else {
            self.consider_freshest(root, k);
        }
        let group = &mut self.groups[root];
        group.seen = group
            .freshest
            .and_then(|j| self.keys[j].observed.as_ref())
            .map(Seen::of);
    }

    /// Key `i`'s observation replaces its group's freshest if newer (at equal times, if it
    /// leaves less: the more conservative).
    fn consider_freshest(&mut self, root: usize, i: usize) {
        let Some(o) = &self.keys[i].observed else {
            return;
        };
        let held = self.groups[root].freshest;
        if held
            .and_then(|j| self.keys[j].observed.as_ref())
            .is_none_or(|l| {
                o.at > l.at || (o.at == l.at && o.remaining_requests < l.remaining_requests)
            })
        {
            self.groups[root].freshest = Some(i);
        }
    }

    /// Records that an attempt on `k` reserving `tokens` is being sent.
    pub fn on_send(&mut self, k: usize, tokens: u64, now: Instant) {
        let key = &mut self.keys[k];
        key.requests += 1;
        key.in_flight = key.in_flight.saturating_add(1);
        key.in_flight_tokens = key.in_flight_tokens.saturating_add(tokens);
        key.last_used = Some(now);
        self.note_send(k, now);
        let root = self.root(k);
        let group = &mut self.groups[root];
        group.in_flight = group.in_flight.saturating_add(1);
        group.in_flight_tokens = group.in_flight_tokens.saturating_add(tokens);
        if let Some(rpm) = self.rpm_limit(k) {
            let pacer = &mut self.keys[root].paced;
            pacer.0 = drained(*pacer, rpm, now) + 1.0;
            pacer.1 = now;
        }
    }

    /// Folds a successful attempt's duration into [`Pool::service_secs`] and its deviation
    /// (weight 1/8).
    pub fn record_service(&mut self, took: Duration) {
        let secs = took.as_secs_f64();
        if self.service_secs == 0.0 {
            self.service_secs = secs;
            return;
        }
        let dev = (secs - self.service_secs).abs();
        self.service_secs += (secs - self.service_secs) / 8.0;
        self.service_dev_secs += (dev - self.service_dev_secs) / 8.0;
    }

    /// A cautious guess of how long the next successful attempt takes: the average plus
    /// twice the typical deviation (0 before any success).
    pub fn service_estimate(&self) -> Duration {
        Duration::try_from_secs_f64(self.service_secs + 2.0 * self.service_dev_secs)
            .unwrap_or_default()
    }

    /// Records the answer to an attempt on `k`: counters, budgets from headers, and what it
    /// teaches about shared organisations.
    pub fn on_answer(
        &mut self,
        k: usize,
        tokens: u64,
        failure: Option<&Failure>,
        observed: Option<Observed>,
        now: Instant,
    ) {
        let key = &mut self.keys[k];
        let in_flight = key.in_flight;
        let group = &mut self.groups[self.group[k]];
        group.in_flight = group.in_flight.saturating_sub(u64::from(key.in_flight > 0));
        group.in_flight_tokens = group
            .in_flight_tokens
            .saturating_sub(tokens.min(key.in_flight_tokens));
        key.in_flight = key.in_flight.saturating_sub(1);
        key.in_flight_tokens = key.in_flight_tokens.saturating_sub(tokens);
        match failure {
            None => {
                key.successes += 1;
                key.limited = false;
            }
            Some(f) => {
                key.failures[f.index()] += 1;
                key.last_error = Some(f.clone());
                key.limited |= f.is_rate_limit();
            }
        }
        if let Some(Failure::RateLimited {
            scope: Scope::Minute,
            dimension: Some(super::failure::Dimension::Requests),
            limit: Some(limit),
            ..
        }) = failure
        {
            key.rpm_limit = Some(*limit);
            let root = self.root(k);
            self.keys[root].rpm_limit = Some(*limit);
            self.keys[root].paced = (*limit as f64, now);
        }
        if failure.is_some_and(Failure::is_rate_limit) {
            self.uncount_limited(k, in_flight);
        }
        match failure {
            Some(Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(super::failure::Dimension::Requests),
                limit: Some(limit),
                org: None,
                wait,
            }) => self.learn_from_minute_limit(k, *limit, *wait, now),
            None => self.learn_from_success(k, in_flight),
            Some(_) => {}
        }
        if let Some(Failure::RateLimited { org: Some(org), .. }) = failure {
            self.keys[k].org = Some(org.clone());
            let same: Vec<usize> = (0..self.len())
                .filter(|&i| i != k && self.keys[i].org.as_deref() == Some(org.as_str()))
                .collect();
            for i in same {
                self.merge(i, k);
            }
        }
        if let Some(observed) = observed {
            if failure.is_none() {
                self.learn_sharing(k, &observed);
            }
            self.keys[k].observed = Some(observed);
            self.offer_freshest(k);
        }
    }

    fn learn_sharing(&mut self, k: usize, now_obs: &Observed) {
        let n = self.len();
        self.observations[k] += 1;
        let previous = self.keys[k].observed.and_then(|o| o.remaining_requests);
        if let (Some(before), Some(after)) = (previous, now_obs.remaining_requests) {
            // One request of our own; anything beyond it came from a key of the same org.
            let extra = before as i64 - after as i64 - 1;
            for other in 0..n {
                let sent_between = self.observations[other] - self.keys[k].seen[other];
                if other == k || sent_between == 0 || self.root(other) == self.root(k) {
                    continue;
                }
                let score = self.pair_mut(k, other);
                *score += if extra >= 1 { 1 } else { -2 };
                if *score >= MERGE_SCORE {
                    self.merge(k, other);
                }
            }
        }
        self.keys[k].seen.clone_from(&self.observations);
    }

    /// The budget of key `k`'s group at `now`: its freshest observation refilled to `now`,
    /// less what its keys have in flight, and its pacing wait. Reads the group's kept state:
    /// no pass over its keys. (Inlined: the adaptive choice asks it of every key, and uses
    /// two of its figures.)
    #[inline]
    pub fn budget(&self, k: usize, now: Instant) -> GroupBudget {
        let root = self.root(k);
        let group = &self.groups[root];
        let mut budget = match &group.seen {
            Some(seen) => seen.budget(now, group.in_flight, group.in_flight_tokens),
            None => GroupBudget::UNKNOWN,
        };
        budget.pacing_secs = pacing_secs(self.rpm_limit(k), self.keys[root].paced, now);
        budget
    }

    /// Seconds between two requests the whole pool may send under its learned per-minute
    /// limits (one slot), or 0 when no group's limit is known.
    pub fn slot_secs(&self) -> f64 {
        let rpm: u64 = (0..self.len())
            .filter(|&k| self.root(k) == k && self.is_ready(k))
            .filter_map(|k| self.keys[k].rpm_limit)
            .sum();
        if rpm == 0 { 0.0 } else { 60.0 / rpm as f64 }
    }

    /// Tokens per minute the group of `k` may spend, as its freshest answer's headers said
    /// (`None` before any said it, or when the provider counts tokens over another window).
    pub fn tokens_per_minute(&self, k: usize) -> Option<u64> {
        let group = &self.groups[self.root(k)];
        group
            .freshest
            .and_then(|j| self.keys[j].observed)
            .filter(|o| o.tokens_window == Duration::from_secs(60))
            .and_then(|o| o.limit_tokens)
            .filter(|&t| t > 0)
    }

    /// The per-minute request limit learned for the group of `k` (kept on the group's
    /// representative; the key's own where the group has none).
    pub fn rpm_limit(&self, k: usize) -> Option<u64> {
        self.keys[self.root(k)].rpm_limit.or(self.keys[k].rpm_limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::http::{HeaderMap, HeaderValue};

    fn headers(remaining: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit-requests", HeaderValue::from(1000u64));
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(remaining),
        );
        h
    }

    /// The budget read from the kept group state equals one worked out from the keys
    /// themselves, after any mix of sends, answers (out of order, some with headers, some
    /// naming an organisation, which merges groups) on 6 keys.
    #[test]
    fn kept_group_state_matches_the_keys_after_any_sends_and_answers() {
        use rand::Rng;
        let start = Instant::now();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut pool = Pool::new(6, 1, start);
        let mut flying: Vec<(usize, u64)> = Vec::new();
        for step in 0..2_000u64 {
            let now = start + Duration::from_millis(step);
            if flying.is_empty() || rng.random_bool(0.55) {
                let (k, tokens) = (rng.random_range(0..6), rng.random_range(0..500));
                pool.on_send(k, tokens, now);
                flying.push((k, tokens));
            } else {
                let (k, tokens) = flying.swap_remove(rng.random_range(0..flying.len()));
                // Answers stamped up to 50 ms in the past: out of order.
                let at = now - Duration::from_millis(rng.random_range(0..50).min(step));
                let observed = rng
                    .random_bool(0.7)
                    .then(|| {
                        crate::provider::Provider::observe(
                            &crate::provider::Groq,
                            &headers(rng.random_range(0..1000)),
                            at,
                        )
                    })
                    .flatten();
                let org = Failure::RateLimited {
                    scope: Scope::Minute,
                    dimension: None,
                    limit: None,
                    org: Some(format!("org_{}", k % 3)),
                    wait: None,
                };
                let failure = rng.random_bool(0.02).then_some(&org);
                pool.on_answer(k, tokens, failure, observed, now);
            }
            for k in 0..6 {
                let root = pool.root(k);
                let members: Vec<usize> = (0..6).filter(|&i| pool.root(i) == root).collect();
                let flying: u64 = members
                    .iter()
                    .map(|&i| u64::from(pool.keys[i].in_flight))
                    .sum();
                let freshest = members
                    .iter()
                    .filter_map(|&i| pool.keys[i].observed)
                    .reduce(|l, o| {
                        let newer = o.at > l.at
                            || (o.at == l.at && o.remaining_requests < l.remaining_requests);
                        if newer { o } else { l }
                    });
                let expected = freshest
                    .and_then(|o| o.requests_at(now))
                    .map(|r| r - flying as f64);
                assert_eq!(
                    pool.budget(k, now).requests,
                    expected,
                    "step {step}, key {k}"
                );
            }
        }
        assert!(pool.root(3) == pool.root(0), "the test merged groups");
    }

    #[test]
    fn learns_that_keys_move_together_and_that_others_do_not() {
        let now = Instant::now();
        let mut pool = Pool::new(3, 1, now);
        // Keys 0 and 1 share a counter starting at 1000; key 2 has its own.
        let mut shared = 1000;
        let mut own = 1000;
        for _ in 0..6 {
            for k in 0..3 {
                pool.on_send(k, 10, now);
                let remaining = if k == 2 {
                    own -= 1;
                    own
                } else {
                    shared -= 1;
                    shared
                };
                pool.on_answer(
                    k,
                    10,
                    None,
                    crate::provider::Provider::observe(
                        &crate::provider::Groq,
                        &headers(remaining),
                        now,
                    ),
                    now,
                );
            }
        }
        assert_eq!(pool.root(0), pool.root(1));
        assert_ne!(pool.root(0), pool.root(2));
        // The group's budget is the freshest shared counter.
        assert_eq!(pool.budget(0, now).requests, Some(shared as f64));
    }

    #[test]
    fn a_spent_request_budget_waits_for_the_refill_of_the_providers_window() {
        let now = Instant::now();
        let wait = |provider: &dyn crate::provider::Provider| {
            let mut pool = Pool::new(1, 1, now);
            pool.on_send(0, 10, now);
            pool.on_answer(0, 10, None, provider.observe(&headers(0), now), now);
            pool.budget(0, now).wait_secs(10)
        };
        // 1,000 requests a day (Groq): one comes back in 86.4 s; a minute (OpenAI): 60 ms.
        assert!((wait(&crate::provider::Groq) - 86.4).abs() < 1e-6);
        assert!((wait(&crate::provider::OpenAi) - 0.06).abs() < 1e-6);
    }

    #[test]
    fn a_429_naming_the_org_merges_at_once_and_teaches_rpm() {
        let now = Instant::now();
        let mut pool = Pool::new(2, 1, now);
        let limited = |org: &str| Failure::RateLimited {
            scope: Scope::Minute,
            dimension: Some(super::super::failure::Dimension::Requests),
            limit: Some(30),
            org: Some(org.to_owned()),
            wait: Some(Duration::from_secs(2)),
        };
        pool.on_answer(0, 0, Some(&limited("org_a")), None, now);
        assert_ne!(pool.root(0), pool.root(1));
        pool.on_answer(1, 0, Some(&limited("org_a")), None, now);
        assert_eq!(pool.root(0), pool.root(1));
        assert_eq!(pool.keys[pool.root(0)].rpm_limit, Some(30));
        // Told the minute is full: pacing waits for one request's refill (2 s at 30/min).
        assert!((pool.budget(1, now).pacing_secs() - 2.0).abs() < 1e-9);
    }
}
