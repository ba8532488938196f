//! Learning which keys share a scope from per-minute 429s, for providers whose 429 names no
//! organisation and whose answers carry no counters to learn from (Gemini: limits per
//! project, no rate-limit headers). By elimination:
//!
//! - Apart: while key `k` rests after a per-minute 429 (its scope has no request left until
//!   the wait it was told), another key's attempt, sent after the pool recorded that 429 and
//!   more than a second before the wait ends, and the only one that key had out, succeeds.
//!   That key is not in `k`'s scope: the pair is ruled out for good.
//! - Together: `k` meets its requests-per-minute limit `L` although fewer than `L` of its
//!   own attempts of the last 60 s counted (an attempt answered 429 counts for nothing).
//!   Whatever the window (a bucket refilling `L` a minute, or a fixed or sliding minute), `k`
//!   alone could not have spent it: a key that sent in that minute did. When exactly one key
//!   of the pool that sent in it is neither in `k`'s group nor ruled out, it is that one: the
//!   two merge. With several such keys nothing is learned yet.
//!
//! Traffic from outside the pool on the same scope can mislead the second rule (it looks
//! like the one candidate's); a 429 that names its organisation merges at once instead
//! ([`super::Pool`]).

use std::time::Duration;

use tokio::time::Instant;

use super::Pool;

/// The span the per-minute limit counts over.
const MINUTE: Duration = Duration::from_secs(60);

/// How early a scope may have a request again before the wait it said ends (waits are said
/// in whole seconds).
const MARGIN: Duration = Duration::from_secs(1);

/// The most send times a key keeps (a key sending more in a minute needs no learning here).
const MAX_SENDS: usize = 1024;

/// The score that rules a pair out.
const APART: i32 = i32::MIN / 2;

impl Pool {
    /// Records a send of key `k` at `now` for the minute's count, and its place among the
    /// pool's sends and answers.
    pub(super) fn note_send(&mut self, k: usize, now: Instant) {
        self.seq = self.seq.wrapping_add(1);
        self.keys[k].last_send_seq = self.seq;
        let sends = &mut self.keys[k].sends;
        while sends
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= MINUTE)
        {
            sends.pop_front();
        }
        if sends.len() >= MAX_SENDS {
            sends.pop_front();
        }
        sends.push_back(now);
    }

    /// An attempt of key `k` was answered 429, `in_flight` of its attempts having been out:
    /// it counted against no limit, so when it is known to be the last one sent (the only
    /// one out), it leaves the minute's count.
    pub(super) fn uncount_limited(&mut self, k: usize, in_flight: u32) {
        if in_flight == 1 {
            self.keys[k].sends.pop_back();
        }
    }

    /// Key `k` met a requests-per-minute `limit` at `now`, resting for `wait` (its 429
    /// already out of the count: [`Pool::uncount_limited`]).
    pub(super) fn learn_from_minute_limit(
        &mut self,
        k: usize,
        limit: u64,
        wait: Option<Duration>,
        now: Instant,
    ) {
        self.seq = self.seq.wrapping_add(1);
        self.minute_limits_seen = true;
        self.keys[k].minute_limited = Some((self.seq, now + wait.unwrap_or(Duration::ZERO)));
        if self.sent_within_minute(k, now) >= limit {
            return;
        }
        let mut candidates = (0..self.len()).filter(|&other| {
            other != k
                && self.root(other) != self.root(k)
                && !self.groups_apart(k, other)
                && self.sent_within_minute(other, now) > 0
        });
        if let (Some(only), None) = (candidates.next(), candidates.next()) {
            self.merge(k, only);
        }
    }

    /// Key `k`'s attempt succeeded, `in_flight` of its attempts having been out.
    pub(super) fn learn_from_success(&mut self, k: usize, in_flight: u32) {
        if !self.minute_limits_seen || in_flight != 1 {
            return;
        }
        let Some(&sent) = self.keys[k].sends.back() else {
            return;
        };
        for other in 0..self.len() {
            if other == k || self.root(other) == self.root(k) {
                continue;
            }
            if let Some((at, until)) = self.keys[other].minute_limited
                && at < self.keys[k].last_send_seq
                && sent + MARGIN < until
            {
                *self.pair_mut(k, other) = APART;
            }
        }
    }

    fn sent_within_minute(&self, k: usize, now: Instant) -> u64 {
        let sends = &self.keys[k].sends;
        sends
            .iter()
            .rev()
            .take_while(|&&t| now.saturating_duration_since(t) < MINUTE)
            .count() as u64
    }

    /// Whether some key of `a`'s group was ruled out of some key of `b`'s.
    fn groups_apart(&self, a: usize, b: usize) -> bool {
        let n = self.len();
        let (ra, rb) = (self.root(a), self.root(b));
        (0..n).filter(|&i| self.root(i) == ra).any(|i| {
            (0..n)
                .filter(|&j| self.root(j) == rb)
                .any(|j| self.pair(i, j) == APART)
        })
    }
}
