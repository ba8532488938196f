//! Replicas as a scenario dimension: the traffic spread over N engine instances (app
//! replicas, proxy replicas, serverless instances), each its own [`Rotor`], with their own
//! key state (`local`) or one shared store (`memory` in this process, `redis`), and
//! optionally losing their state now and then (a serverless cold start).
//!
//! [`Replicas`] is the driver's [`Sender`] for such a run. It books what only replicas show:
//! per replica its requests, attempts and 429s, and the 429s a replica met on a key that
//! *another* replica had already met within the wait that 429 announced — calls wasted for
//! want of shared state — with how long after the first one they came (how long the news
//! took to reach the others; with shared state, at most an attempt in flight).

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::driver::Sender;
use crate::engine::rotor::Sent;
use crate::engine::store::StoreStatus;
use crate::engine::transport::Transport;
use crate::engine::{ChatRequest, Rotor};

/// Most replicas a scenario may have.
pub const MAX_REPLICAS: u32 = 64;

/// Most 429 events booked for the reach figures (beyond it they are counted, not timed).
const MAX_EVENTS: usize = 1_000_000;

/// Where replicas keep their key state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// Each replica its own, in memory (what an in-memory rotator does).
    #[default]
    Local,
    /// One store shared by all, in this process's memory (runs in simulated time: the
    /// stand-in for Redis with the same semantics).
    Memory,
    /// One store on a Redis server (real time).
    Redis,
}

impl StateKind {
    /// Whether the replicas share one store.
    pub fn shared(self) -> bool {
        self != StateKind::Local
    }

    /// The name as written in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Local => "local",
            StateKind::Memory => "memory",
            StateKind::Redis => "redis",
        }
    }
}

impl FromStr for StateKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(Self::Local),
            "memory" => Ok(Self::Memory),
            "redis" => Ok(Self::Redis),
            other => Err(format!(
                "unknown state {other:?}: local (each replica its own), memory (shared in this process) or redis (shared on Redis)"
            )),
        }
    }
}

/// How a load balancer spreads requests over replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// In turn.
    #[default]
    RoundRobin,
    /// At random (seeded by the scenario).
    Random,
}

/// When a replica loses its state: after serving some requests, or after some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdStart {
    /// After this many requests (1: every request, as a function with no warm instance).
    Requests(u64),
    /// After this long.
    After(Duration),
}

impl FromStr for ColdStart {
    type Err = String;
    /// `"10 requests"`, `"1 request"`, or a duration (`"30s"`, `"5m"`).
    fn from_str(s: &str) -> Result<Self, String> {
        let text = s.trim();
        let bad = || {
            format!(
                "cold_start {text:?}: \"N requests\" (1 to 10⁹) or a duration from 1 ms to 1 day (\"30s\")"
            )
        };
        if let Some(n) = text
            .strip_suffix("requests")
            .or_else(|| text.strip_suffix("request"))
        {
            let n: u64 = n.trim().parse().map_err(|_| bad())?;
            return (1..=1_000_000_000)
                .contains(&n)
                .then_some(ColdStart::Requests(n))
                .ok_or_else(bad);
        }
        let d = humantime_serde::re::humantime::parse_duration(text).map_err(|_| bad())?;
        (Duration::from_millis(1)..=Duration::from_secs(86_400))
            .contains(&d)
            .then_some(ColdStart::After(d))
            .ok_or_else(bad)
    }
}

impl fmt::Display for ColdStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColdStart::Requests(1) => f.write_str("1 request"),
            ColdStart::Requests(n) => write!(f, "{n} requests"),
            ColdStart::After(d) => {
                write!(f, "{}", humantime_serde::re::humantime::format_duration(*d))
            }
        }
    }
}

impl Serialize for ColdStart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColdStart {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a run with replicas measured, beside the usual report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReplicasSeen {
    /// Engine instances.
    pub replicas: u32,
    /// `local`, `memory` or `redis`.
    pub state: String,
    /// The store in words (e.g. "redis-server started on loopback"), when shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// `round-robin` or `random`.
    pub spread: String,
    /// When a replica lost its state, as written; `None`: never.
    pub cold_start: Option<String>,
    /// Replicas that lost their state during the run.
    pub cold_starts: u64,
    /// Per replica slot: requests sent through it, attempts, upstream 429s.
    pub per_replica: Vec<ReplicaFigures>,
    /// 429s a replica met on a key another replica (or an earlier instance of it, before a
    /// cold start) had met within the wait that 429 announced: calls wasted for want of
    /// shared state.
    pub repeat_429: u64,
    /// How long after the first replica met a key's limit the others still met it
    /// (over the repeated 429s), ms; `None`: no repeated 429, no data.
    pub reach_ms: Option<Reach>,
    /// 429 events beyond the booking bound (counted in `repeat_429` only if before it).
    pub unbooked_429: u64,
    /// The shared store's figures summed over replicas (incl. retired by cold starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_figures: Option<StoreFigures>,
}

/// One replica slot's figures.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReplicaFigures {
    /// Requests the load balancer sent it.
    pub requests: u64,
    /// Attempts it made upstream.
    pub attempts: u64,
    /// Of them, answered 429.
    pub upstream_429: u64,
}

/// Percentiles of the reach.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Reach {
    /// Median, ms.
    pub p50: f64,
    /// Largest, ms.
    pub max: f64,
    /// Samples (repeated 429s timed).
    pub samples: u64,
}

/// A shared store's figures, summed over replicas.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoreFigures {
    /// Calls made to the store.
    pub calls: u64,
    /// Of them, failed.
    pub errors: u64,
    /// Attempts sent on local state because the store failed.
    pub served_locally: u64,
    /// Requests refused because the store failed (fail-closed).
    pub refused: u64,
    /// Attempts the store held back (key resting elsewhere, or the minute full).
    pub held_back: u64,
    /// Rests replicas learned from each other.
    pub rests_learned: u64,
}

impl StoreFigures {
    fn add(&mut self, s: &StoreStatus) {
        self.calls += s.calls;
        self.errors += s.errors;
        self.served_locally += s.served_locally;
        self.refused += s.refused;
        self.held_back += s.held_back;
        self.rests_learned += s.rests_learned;
    }
}

/// Builds one replica's rotor (a fresh one, empty state: a cold start).
pub type Build<T> = Box<dyn Fn(u32) -> anyhow::Result<Rotor<T>> + Send + Sync>;

struct Slot<T> {
    rotor: Rotor<T>,
    /// Which instance this is (unique across cold starts).
    instance: u32,
    served: u64,
    born: Instant,
}

/// A 429 met: when (since the drive began), on which key, by which replica instance (a cold
/// start is a new instance: it knows nothing), and the wait it announced.
#[derive(Debug, Clone, Copy)]
struct Met {
    at: Duration,
    key: usize,
    instance: u32,
    wait: Duration,
}

#[derive(Default)]
struct Books {
    per_replica: Vec<ReplicaFigures>,
    met: Vec<Met>,
    unbooked: u64,
    retired: StoreFigures,
}

/// The driver's sender over N replicas.
pub struct Replicas<T> {
    slots: Arc<Vec<Mutex<Slot<T>>>>,
    build: Build<T>,
    spread: Spread,
    cold_start: Option<ColdStart>,
    seed: u64,
    start: Instant,
    cold_starts: Arc<AtomicU64>,
    books: Arc<Mutex<Books>>,
}

/// Reads every current replica's store status.
type Statuses = Box<dyn Fn() -> Vec<Option<StoreStatus>> + Send + Sync>;

/// The handle that reads a [`Replicas`]'s books after the drive.
pub struct Ledger {
    books: Arc<Mutex<Books>>,
    /// What the report says of the setup.
    pub seen: ReplicasSeen,
    cold_starts: Arc<AtomicU64>,
    statuses: Statuses,
}

impl<T: Transport + 'static> Replicas<T> {
    /// `n` replicas built by `build` (given the replica's index), spread as told, cold
    /// started as told. Returns the sender and the ledger to read after the drive.
    pub fn new(
        n: u32,
        build: Build<T>,
        spread: Spread,
        cold_start: Option<ColdStart>,
        seed: u64,
        seen: ReplicasSeen,
    ) -> anyhow::Result<(Self, Ledger)> {
        let now = Instant::now();
        let slots = (0..n)
            .map(|i| {
                Ok(Mutex::new(Slot {
                    rotor: build(i)?,
                    instance: i,
                    served: 0,
                    born: now,
                }))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let slots: Arc<Vec<Mutex<Slot<T>>>> = Arc::new(slots);
        let cold_starts = Arc::new(AtomicU64::new(0));
        let books = Arc::new(Mutex::new(Books {
            per_replica: vec![ReplicaFigures::default(); n as usize],
            ..Books::default()
        }));
        let watched = Arc::clone(&slots);
        let ledger = Ledger {
            books: Arc::clone(&books),
            seen,
            cold_starts: Arc::clone(&cold_starts),
            statuses: Box::new(move || {
                watched
                    .iter()
                    .map(|s| {
                        s.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .rotor
                            .status()
                            .store
                    })
                    .collect()
            }),
        };
        let replicas = Self {
            slots,
            build,
            spread,
            cold_start,
            seed,
            start: now,
            cold_starts,
            books,
        };
        Ok((replicas, ledger))
    }

    /// The replica the load balancer picks for request `id`.
    fn pick(&self, id: u64) -> usize {
        let n = self.slots.len() as u64;
        let turn = match self.spread {
            Spread::RoundRobin => id,
            // SplitMix64 of (seed, id): a seeded, stateless draw.
            Spread::Random => {
                let mut z = self.seed ^ id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
        };
        (turn % n.max(1)) as usize
    }

    /// Replica `i`'s rotor for one request, after a cold start when one is due.
    fn rotor(&self, i: usize) -> (Rotor<T>, u32) {
        let mut slot = self.slots[i].lock().unwrap_or_else(|p| p.into_inner());
        let due = match self.cold_start {
            Some(ColdStart::Requests(n)) => slot.served >= n,
            Some(ColdStart::After(d)) => slot.born.elapsed() >= d,
            None => false,
        };
        if due {
            match (self.build)(i as u32) {
                Ok(fresh) => {
                    if let Some(store) = slot.rotor.status().store {
                        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
                        books.retired.add(&store);
                    }
                    let started = self.cold_starts.fetch_add(1, Ordering::Relaxed);
                    let instance = self.slots.len() as u64 + started;
                    *slot = Slot {
                        rotor: fresh,
                        instance: u32::try_from(instance).unwrap_or(u32::MAX),
                        served: 0,
                        born: Instant::now(),
                    };
                }
                // Built once already at the start; should it fail now, the replica stays warm.
                Err(e) => tracing::warn!("replica {i}: cold start failed: {e:#}"),
            }
        }
        slot.served += 1;
        (slot.rotor.clone(), slot.instance)
    }

    fn book(&self, i: usize, instance: u32, started: Instant, sent: &Sent) {
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let figures = &mut books.per_replica[i];
        figures.requests += 1;
        figures.attempts += sent.trace.attempts.len() as u64;
        let offset = started.saturating_duration_since(self.start);
        for attempt in &sent.trace.attempts {
            let Some(failure) = attempt.failure.as_ref().filter(|f| f.is_rate_limit()) else {
                continue;
            };
            books.per_replica[i].upstream_429 += 1;
            if books.met.len() >= MAX_EVENTS {
                books.unbooked += 1;
                continue;
            }
            books.met.push(Met {
                at: offset + attempt.end,
                key: attempt.key,
                instance,
                wait: failure.wait().unwrap_or(Duration::from_secs(1)),
            });
        }
    }
}

impl<T: Transport + 'static> Sender for Replicas<T> {
    async fn send(&self, id: u64, request: &ChatRequest) -> Sent {
        let i = self.pick(id);
        let (rotor, instance) = self.rotor(i);
        let started = Instant::now();
        let sent = rotor.send(request).await;
        self.book(i, instance, started, &sent);
        sent
    }
}

impl Ledger {
    /// The figures, once the drive is over.
    pub fn close(self) -> ReplicasSeen {
        let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = self.seen;
        seen.cold_starts = self.cold_starts.load(Ordering::Relaxed);
        if seen.state != StateKind::Local.name() {
            let mut figures = books.retired;
            for status in (self.statuses)().iter().flatten() {
                figures.add(status);
            }
            seen.store_figures = Some(figures);
        }
        seen.per_replica = books.per_replica.clone();
        seen.unbooked_429 = books.unbooked;
        let (repeat, lags) = repeats(&books.met);
        seen.repeat_429 = repeat;
        seen.reach_ms = reach(lags);
        seen
    }
}

/// The repeated 429s and, for each, how long after the first replica met that key's limit.
/// Events in time order: a 429 opens an episode on its key until the wait it announced;
/// a later 429 on the key within it, from another replica, repeats it.
fn repeats(met: &[Met]) -> (u64, Vec<f64>) {
    let mut met = met.to_vec();
    met.sort_by_key(|m| (m.at, m.key, m.instance));
    let mut open: std::collections::HashMap<usize, (Duration, Duration, u32)> =
        std::collections::HashMap::new();
    let mut lags = Vec::new();
    for m in &met {
        match open.get(&m.key) {
            Some(&(since, until, first)) if m.at < until => {
                if m.instance != first {
                    lags.push((m.at - since).as_secs_f64() * 1000.0);
                }
            }
            _ => {
                open.insert(m.key, (m.at, m.at + m.wait, m.instance));
            }
        }
    }
    (lags.len() as u64, lags)
}

fn reach(mut lags: Vec<f64>) -> Option<Reach> {
    if lags.is_empty() {
        return None;
    }
    lags.sort_by(f64::total_cmp);
    let at = |q: f64| lags[((lags.len() - 1) as f64 * q).round() as usize];
    Some(Reach {
        p50: at(0.5),
        max: at(1.0),
        samples: lags.len() as u64,
    })
}

/// The Redis URL a scenario or flag names: `redis://host:port[/db]` as written (a password
/// in it is refused: it would sit in a file or a command line), or `env:NAME`, the URL in
/// that environment variable (which may hold a password).
pub fn redis_url(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    if let Some(name) = text.strip_prefix("env:") {
        let url = env(name)
            .ok_or_else(|| format!("redis URL: environment variable {name} is not set"))?;
        return match url.starts_with("redis://") || url.starts_with("rediss://") {
            true => Ok(url),
            false => Err(format!("redis URL in {name}: expected redis://…")),
        };
    }
    if !text.starts_with("redis://") {
        return Err(format!(
            "redis URL {text:?}: expected redis://host:port[/db] or env:NAME"
        ));
    }
    let authority = text["redis://".len()..]
        .split('/')
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "redis URL: a password does not belong in a file or on a command line; put the URL in an environment variable and write env:NAME"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// The shared store a scenario's engine asks for: none (local), one in memory, or one on
/// Redis (the URL given, or a `redis-server` started on loopback, kept alive by the returned
/// server until the run ends). With the store, its description for the report.
pub fn open_store(
    engine: &crate::scenario::Engine,
    pool_id: &str,
) -> anyhow::Result<(
    Option<Arc<dyn crate::engine::StateStore>>,
    Option<crate::redis_server::RedisServer>,
    Option<String>,
)> {
    use anyhow::Context;
    match engine.state {
        StateKind::Local => Ok((None, None, None)),
        StateKind::Memory => Ok((
            Some(Arc::new(crate::engine::MemoryStore::new())),
            None,
            Some("one store in this process's memory".to_owned()),
        )),
        StateKind::Redis => {
            let (server, url, text) = match &engine.redis_url {
                Some(given) => {
                    let url = redis_url(given, &|n| std::env::var(n).ok())
                        .map_err(anyhow::Error::msg)
                        .context("engine.redis_url")?;
                    (None, url, "the Redis server named by redis_url".to_owned())
                }
                None => {
                    let server = crate::redis_server::RedisServer::start()?;
                    let url = server.url.clone();
                    (
                        Some(server),
                        url,
                        "a redis-server keyrotor started on loopback".to_owned(),
                    )
                }
            };
            let store = crate::engine::RedisStore::open(&url, pool_id, STORE_TIMEOUT)?;
            Ok((Some(Arc::new(store)), server, Some(text)))
        }
    }
}

/// How long a replica waits for the store before it treats it as failed.
pub const STORE_TIMEOUT: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;

    fn met(at_ms: u64, key: usize, instance: u32, wait_s: u64) -> Met {
        Met {
            at: Duration::from_millis(at_ms),
            key,
            instance,
            wait: Duration::from_secs(wait_s),
        }
    }

    #[test]
    fn a_429_another_replica_already_met_within_its_wait_is_a_repeat() {
        let events = [
            met(1_000, 0, 0, 10),  // opens key 0 until 11 s
            met(1_500, 0, 0, 10),  // same replica: not a repeat
            met(4_000, 0, 1, 10),  // replica 1, 3 s later: a repeat
            met(12_000, 0, 1, 10), // past the wait: a new episode
            met(2_000, 1, 2, 10),  // another key: its own episode
        ];
        let (repeats, lags) = repeats(&events);
        assert_eq!(repeats, 1);
        assert_eq!(lags, vec![3_000.0]);
        assert_eq!(reach(Vec::new()), None, "no repeat: no data, not 0");
        let r = reach(vec![5.0, 1.0, 3.0]).unwrap_or_else(|| panic!("samples"));
        assert_eq!((r.p50, r.max, r.samples), (3.0, 5.0, 3));
    }

    #[test]
    fn cold_starts_and_states_read_as_written_and_refuse_nonsense() {
        assert_eq!("1 request".parse(), Ok(ColdStart::Requests(1)));
        assert_eq!("25 requests".parse(), Ok(ColdStart::Requests(25)));
        assert_eq!("30s".parse(), Ok(ColdStart::After(Duration::from_secs(30))));
        for bad in ["0 requests", "-3 requests", "2 days", "soon", "0s"] {
            assert!(bad.parse::<ColdStart>().is_err(), "{bad}");
        }
        assert_eq!(ColdStart::Requests(25).to_string(), "25 requests");
        assert!("shared".parse::<StateKind>().is_err());
    }

    #[test]
    fn redis_urls_with_a_password_come_from_the_environment_only() {
        let env = |n: &str| (n == "R").then(|| "redis://:pw@127.0.0.1:6379/".to_owned());
        assert_eq!(
            redis_url("redis://127.0.0.1:6379/0", &env).as_deref(),
            Ok("redis://127.0.0.1:6379/0")
        );
        assert!(
            redis_url("redis://:pw@127.0.0.1:6379/", &env)
                .is_err_and(|e| e.contains("env:NAME") && !e.contains("pw"))
        );
        assert!(redis_url("env:R", &env).is_ok());
        assert!(redis_url("env:MISSING", &env).is_err());
        assert!(redis_url("http://x", &env).is_err());
    }
}

impl ReplicasSeen {
    /// What the report says of the replicas, one sentence each.
    pub fn facts(&self) -> Vec<String> {
        let state = match self.state.as_str() {
            "local" => "local (each replica its own, in memory)".to_owned(),
            other => format!("shared ({other}: {})", self.store.as_deref().unwrap_or("?")),
        };
        let cold = match &self.cold_start {
            Some(when) => format!(
                "; a replica loses its state after {when} ({} cold starts)",
                self.cold_starts
            ),
            None => String::new(),
        };
        let mut facts = vec![format!(
            "replicas: {}, key state {state}, requests spread {}{cold}",
            self.replicas, self.spread
        )];
        facts.push(match &self.reach_ms {
            Some(r) => format!(
                "repeated 429s: {} — a replica met a key's limit another replica (or instance, before a cold start) had already met within the wait that 429 announced; they came up to {:.0} ms after the first (median {:.0} ms, {} samples)",
                self.repeat_429, r.max, r.p50, r.samples
            ),
            None => "repeated 429s: none — no replica met a limit another had already met within its wait (no data for how long the news took to spread)".to_owned(),
        });
        if self.unbooked_429 > 0 {
            facts.push(format!(
                "{} 429s came after the first {MAX_EVENTS} and were not timed",
                self.unbooked_429
            ));
        }
        if let Some(f) = &self.store_figures {
            facts.push(format!(
                "shared store: {} calls, {} failed ({} attempts sent on local state, {} requests refused); {} attempts held back (key resting elsewhere or its minute full); {} rests learned from other replicas",
                f.calls, f.errors, f.served_locally, f.refused, f.held_back, f.rests_learned
            ));
        }
        facts
    }

    /// Per replica: requests, attempts, 429s.
    pub fn table(&self) -> crate::report::Table {
        crate::report::Table {
            head: crate::report::Table::heads(&[
                "replica",
                "requests",
                "attempts",
                "upstream 429s",
            ]),
            rows: self
                .per_replica
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    vec![
                        i.to_string(),
                        r.requests.to_string(),
                        r.attempts.to_string(),
                        r.upstream_429.to_string(),
                    ]
                })
                .collect(),
        }
    }
}
