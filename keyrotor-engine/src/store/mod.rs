//! Shared key state: what several [`crate::Rotor`]s (app replicas, proxy replicas, serverless
//! instances) must agree on to use one set of keys as one pool.
//!
//! Each rotor keeps its own [`crate::pool::Pool`] as its working copy (policies decide on it
//! without a network call); a [`StateStore`] holds what crosses replicas:
//!
//! - **rests**: a key that is cooling, exhausted for the day or disabled, until when. A
//!   replica that learns it publishes it; the others skip the key from their next attempt on.
//! - **the rotation's position** ([`crate::pool::Pool::cursor`]): a count that only grows, so
//!   replicas agree by taking the larger, and a cold-started replica does not begin again at
//!   the first key.
//! - **pacing**: for a policy that paces ([`crate::policy::Policy::paces`]), each attempt is
//!   admitted against its organisation's per-minute request limit and per-minute token limit
//!   across all replicas (GCRA, burst = the limit; an attempt costs one request and the
//!   tokens it reserves), in the same atomic step that reads the rests. The limits a replica
//!   learned (a 429's "Limit N", the token limit its answers' headers state) are kept with
//!   the bucket, so the others pace by them too: tokens other replicas have in flight count
//!   before any header shows them.
//!
//! - **probes**: a key back from a rest takes one probe at a time across replicas, not one
//!   per replica: the attempt that probes it holds a lease for about an attempt's time, and
//!   the others choose another key meanwhile ([`Admit::probe`]). The answer ends the lease
//!   ([`Publish::released`]).
//!
//! - **error counts**: for a policy that counts errors per key
//!   ([`crate::policy::Policy::counts_errors`]), each replica's errors on a key add to one
//!   count that lasts the policy's window, so the key reaches its threshold on the errors of
//!   all replicas together ([`Publish::errors`], [`Shared::errors`]).
//!
//! One attempt costs one round trip ([`StateStore::admit`]); a failure that rests a key costs
//! a second ([`StateStore::publish`]). Only durations cross the wire, never a replica's clock:
//! the store's own clock (Redis `TIME`) decides, so replicas with skewed clocks agree.
//!
//! Two stores: [`MemoryStore`] (replicas in one process, e.g. the harness's simulation) and,
//! with the `redis` feature, [`RedisStore`]. A rotor without a store keeps today's
//! behaviour: its pool is its whole state. When the store fails, the rotor serves from its
//! own pool (fail-open, the default) or refuses (fail-closed): [`OnStoreError`].

pub(crate) mod link;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod url;

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use link::StoreStatus;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
pub use url::{RedisUrlError, redis_url};

/// The largest rotation position a store keeps (2^53: exact in Redis's Lua numbers).
pub const MAX_CURSOR: u64 = 1 << 53;

/// Longest rest a store keeps for a key: one day (a disabled key is re-tested after it).
pub const MAX_REST: Duration = Duration::from_secs(86_400);

/// Why a key rests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestKind {
    /// A per-minute limit or an error: back soon.
    Cooling,
    /// A daily budget spent.
    Exhausted,
    /// Not to be used (a revoked key): kept for [`MAX_REST`].
    Disabled,
}

impl RestKind {
    /// The kind's code in a store (1, 2, 3).
    pub fn code(self) -> u8 {
        match self {
            RestKind::Cooling => 1,
            RestKind::Exhausted => 2,
            RestKind::Disabled => 3,
        }
    }

    /// The kind for a code; `None` for 0 (no rest) or an unknown code.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(RestKind::Cooling),
            2 => Some(RestKind::Exhausted),
            3 => Some(RestKind::Disabled),
            _ => None,
        }
    }
}

/// A key's rest, in the reading replica's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rest {
    /// Why.
    pub kind: RestKind,
    /// Usable again at.
    pub until: Instant,
}

/// What a store says of the pool: one entry per key, in the order asked, the rotation's
/// position, and the per-minute limit it knows for the organisation an admission asked about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shared {
    /// Per key its rest, if it rests.
    pub rests: Vec<Option<Rest>>,
    /// The rotation's position, the largest any replica reached.
    pub cursor: u64,
    /// The admitted key's organisation's requests per minute, as some replica learned it
    /// (paced admissions only).
    pub rpm: Option<u64>,
    /// The admitted key's error count across replicas (admissions only; 0 when none).
    pub errors: u32,
}

/// One attempt to admit: the keys (their fingerprints, in pool order), which one, and under
/// which pacing.
#[derive(Debug, Clone, Copy)]
pub struct Admit<'a> {
    /// Every key's fingerprint, in pool order (the store reads all their rests).
    pub keys: &'a [String],
    /// The key to send with.
    pub key: usize,
    /// The key whose fingerprint names the pacing bucket (its organisation's first key).
    pub group: usize,
    /// Whether the policy paces: the attempt is then admitted against the organisation's
    /// per-minute limit, this one's or the one another replica learned.
    pub paced: bool,
    /// The organisation's per-minute request limit as this replica knows it.
    pub rpm: Option<u64>,
    /// The organisation's per-minute token limit as this replica knows it.
    pub tpm: Option<u64>,
    /// Tokens the attempt reserves (its cost against the token limit; one larger than the
    /// whole limit is not held back: the API's 413 says more than a wait would).
    pub tokens: u64,
    /// The rotation's position after this choice.
    pub cursor: u64,
    /// The key is back from a rest and this attempt probes it: hold the key's probe lease
    /// for this long, or be told another replica holds it. `None`: not a probe.
    pub probe: Option<Duration>,
    /// Who asks: a number each rotor draws when it joins the store; a probe lease it takes
    /// is held in its name, so only it ends the lease early ([`Publish::released`]).
    pub replica: u64,
}

/// The store's answer to [`StateStore::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send.
    Admitted,
    /// Another replica rests the key (see [`Shared::rests`]).
    Resting,
    /// The organisation's per-minute limit is reached across replicas: a slot frees at.
    Paced {
        /// When the next attempt fits.
        until: Instant,
    },
    /// Another replica is probing the key, back from a rest: its lease ends at.
    Probing {
        /// When the lease ends.
        until: Instant,
    },
}

/// The longest probe lease a store keeps.
pub const MAX_PROBE: Duration = Duration::from_secs(10);

/// Rests to publish and the rotation's position.
#[derive(Debug, Clone, Copy)]
pub struct Publish<'a> {
    /// Every key's fingerprint, in pool order.
    pub keys: &'a [String],
    /// (key index, why, for how long from now); a longer rest already stored is kept.
    pub rests: &'a [(usize, RestKind, Duration)],
    /// The rotation's position.
    pub cursor: u64,
    /// Who publishes (see [`Admit::replica`]).
    pub replica: u64,
    /// This replica's probe of that key was answered: its lease ends now, so the next
    /// attempt need not wait it out (a lease another replica holds is left alone).
    pub released: Option<usize>,
    /// (key index, window): one more error on the key; its count lasts the window from its
    /// first error (at most [`MAX_REST`]).
    pub errors: &'a [(usize, Duration)],
}

/// A store's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer in time.
    #[error("the state store did not answer within {0:?}")]
    Timeout(Duration),
    /// The store could not be reached or refused the operation.
    #[error("the state store failed: {0}")]
    Unavailable(String),
    /// The store answered something this engine cannot read.
    #[error("the state store answered something unreadable: {0}")]
    Malformed(String),
    /// A setting is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// What a rotor does when its store fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnStoreError {
    /// Serve from the rotor's own pool (replicas may then overshoot limits together), say
    /// so in the status and the logs, and publish the local rests when the store is back.
    #[default]
    FailOpen,
    /// Refuse the request (`state_unavailable`): no replica sends what the store did not admit.
    FailClosed,
}

impl std::str::FromStr for OnStoreError {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "fail-open" | "open" => Ok(Self::FailOpen),
            "fail-closed" | "closed" => Ok(Self::FailClosed),
            other => Err(StoreError::Invalid(format!(
                "unknown store failure mode {other:?}: expected fail-open or fail-closed"
            ))),
        }
    }
}

/// Shared key state for several rotors. Implementations make each call one atomic step.
pub trait StateStore: Send + Sync + fmt::Debug + 'static {
    /// A short name for status and reports (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// Reads every key's rest and the rotation's position (a replica's first request).
    /// `now` is the caller's clock: rests come back as instants in it.
    fn pull<'a>(
        &'a self,
        keys: &'a [String],
        now: Instant,
    ) -> BoxFuture<'a, Result<Shared, StoreError>>;

    /// In one atomic step: raises the rotation's position to `admit.cursor`, reads every
    /// key's rest, and admits an attempt on `admit.key` if it does not rest and (when paced)
    /// its organisation has a slot this minute, taking the slot. A paced admission stores the
    /// limit it brings and answers with the one stored.
    fn admit<'a>(
        &'a self,
        admit: Admit<'a>,
        now: Instant,
    ) -> BoxFuture<'a, Result<(Admission, Shared), StoreError>>;

    /// In one atomic step: stores each rest unless a longer one is stored, raises the
    /// rotation's position, ends the caller's probe lease and adds the errors counted.
    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// Checks a pool id: 1 to 64 of `A-Z a-z 0-9 _ . -` (it names the store's keys).
pub fn check_pool_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "pool id {id:?}: 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'"
        )))
    }
}

/// A rest's length clamped to `(0, MAX_REST]` in whole milliseconds (at least 1).
fn rest_millis(rest: Duration) -> u64 {
    rest.min(MAX_REST)
        .as_millis()
        .clamp(1, u128::from(u64::MAX)) as u64
}

/// GCRA over a minute with burst = `limit`: from the bucket's theoretical arrival time
/// (`tat`, ms) at `now` (ms), the new one if `cost` units fit, or how long until they do.
fn gcra(tat: f64, now: f64, limit: u64, cost: u64) -> Result<f64, f64> {
    let next = tat.max(now) + 60_000.0 * cost as f64 / limit.max(1) as f64;
    let allowed_at = next - 60_000.0;
    if allowed_at > now {
        Err(allowed_at - now)
    } else {
        Ok(next)
    }
}

/// An organisation's pacing bucket: its requests and its tokens per minute (when known),
/// each with its theoretical arrival time (ms on the store's clock).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Pace {
    rpm: Option<u64>,
    tat: f64,
    tpm: Option<u64>,
    token_tat: f64,
}

impl Pace {
    /// Keeps the limits a caller brings (the stored ones stay where it brings none).
    fn learn(&mut self, rpm: Option<u64>, tpm: Option<u64>) {
        self.rpm = rpm.filter(|&r| r > 0).or(self.rpm);
        self.tpm = tpm.filter(|&t| t > 0).or(self.tpm);
    }

    /// Takes one request reserving `tokens` at `now` (ms) if both limits have room, or
    /// says how long (ms) until they do; nothing is taken unless both fit.
    fn take(&mut self, now: f64, tokens: u64) -> Result<(), f64> {
        let requests = self.rpm.map(|rpm| gcra(self.tat, now, rpm, 1));
        let tokens = self
            .tpm
            .filter(|&tpm| tokens > 0 && tokens <= tpm)
            .map(|tpm| gcra(self.token_tat, now, tpm, tokens));
        let wait = [requests, tokens]
            .into_iter()
            .flatten()
            .filter_map(Result::err)
            .fold(0.0, f64::max);
        if wait > 0.0 {
            return Err(wait);
        }
        if let Some(Ok(next)) = requests {
            self.tat = next;
        }
        if let Some(Ok(next)) = tokens {
            self.token_tat = next;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_admits_a_burst_of_the_limit_then_one_per_interval() {
        let mut tat = 0.0;
        let mut admitted = 0;
        for _ in 0..100 {
            if let Ok(next) = gcra(tat, 1_000.0, 30, 1) {
                tat = next;
                admitted += 1;
            }
        }
        assert_eq!(admitted, 30, "a full minute's burst, no more");
        let wait = gcra(tat, 1_000.0, 30, 1).expect_err("full");
        assert!(
            (wait - 2_000.0).abs() < 1e-6,
            "one slot refills in 2 s, got {wait}"
        );
        assert!(gcra(tat, 3_000.0, 30, 1).is_ok());
    }

    #[test]
    fn a_pace_takes_nothing_unless_requests_and_tokens_both_fit() {
        let mut pace = Pace::default();
        pace.learn(Some(100), Some(1_000));
        let admitted = (0..50).filter(|_| pace.take(0.0, 300).is_ok()).count();
        assert_eq!(
            admitted, 3,
            "the minute's 1,000 tokens hold three 300-token requests"
        );
        let before = pace;
        let wait = pace.take(0.0, 300).expect_err("no tokens left");
        assert_eq!(pace, before, "a refused attempt takes no request slot");
        assert!(
            (wait - 12_000.0).abs() < 1e-6,
            "200 more tokens refill in 12 s: {wait}"
        );
        assert!(
            pace.take(0.0, 5_000).is_ok(),
            "larger than the limit: not held back"
        );
        pace.learn(None, None);
        assert_eq!((pace.rpm, pace.tpm), (Some(100), Some(1_000)), "kept");
    }

    #[test]
    fn pool_ids_name_store_keys_safely() {
        assert!(check_pool_id("chat-prod_1.eu").is_ok());
        for bad in ["", "a b", "x{y}", "k:1", &"a".repeat(65)] {
            assert!(check_pool_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rests_are_clamped_to_a_day_and_at_least_a_millisecond() {
        assert_eq!(rest_millis(Duration::ZERO), 1);
        assert_eq!(rest_millis(Duration::from_secs(1_000_000)), 86_400_000);
        for code in 0..5 {
            assert_eq!(
                RestKind::from_code(code).map_or(0, |k| i64::from(k.code())),
                if (1..=3).contains(&code) { code } else { 0 }
            );
        }
    }
}
