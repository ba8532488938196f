//! [`Replicas`]: the driver's sender over N engine instances, and its books: per replica
//! its requests, attempts and 429s, and every 429 with when, on which key and by which
//! instance, to find the repeats ([`repeats`]) once the drive is over.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::drive::driver::Sender;
use crate::engine::rotor::Sent;
use crate::engine::store::StoreStatus;
use crate::engine::transport::Transport;
use crate::engine::{ChatRequest, Rotor};
use crate::measure::report::replicas::MAX_EVENTS;
use crate::measure::report::{Reach, ReplicaFigures, ReplicasSeen, StoreFigures};
use crate::spec::scenario::{ColdStart, Spread, StateKind};

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
                at: offset.saturating_add(attempt.end),
                key: attempt.key,
                instance,
                wait: failure.wait().unwrap_or(Duration::from_secs(1)),
            });
        }
    }
}

/// How bad a state is, to show the worst a key has in any replica.
fn severity(state: &str) -> u8 {
    match state {
        "disabled" => 3,
        "exhausted" => 2,
        "cooling" => 1,
        _ => 0,
    }
}

impl<T: Transport + 'static> Sender for Replicas<T> {
    /// Each key's worst state over the replicas (with local state they differ), and the
    /// longest rest of that state.
    fn key_states(&self) -> Vec<String> {
        let mut worst: Vec<(&'static str, Option<u64>)> = Vec::new();
        for slot in self.slots.iter() {
            let status = slot
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .rotor
                .status();
            worst.resize(status.keys.len(), ("ready", None));
            for (w, key) in worst.iter_mut().zip(&status.keys) {
                let more = severity(key.state).cmp(&severity(w.0));
                if more.is_gt() || (more.is_eq() && key.ready_in_ms > w.1) {
                    *w = (key.state, key.ready_in_ms);
                }
            }
        }
        worst
            .into_iter()
            .map(|(state, ready_in)| crate::drive::driver::key_state_text(state, ready_in))
            .collect()
    }

    async fn send(&self, id: u64, request: &ChatRequest) -> Sent {
        let i = self.pick(id);
        let (rotor, instance) = self.rotor(i);
        let started = Instant::now();
        let sent = rotor.send(request).await;
        self.book(i, instance, started, &sent);
        sent
    }

    async fn stream(
        &self,
        id: u64,
        request: &ChatRequest,
    ) -> (Sent, Option<crate::measure::streaming::TokenTimes>) {
        let i = self.pick(id);
        let (rotor, instance) = self.rotor(i);
        let started = Instant::now();
        let (sent, times) = crate::measure::streaming::send(&rotor, request).await;
        self.book(i, instance, started, &sent);
        (sent, times)
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
                    lags.push(m.at.saturating_sub(since).as_secs_f64() * 1000.0);
                }
            }
            _ => {
                open.insert(m.key, (m.at, m.at.saturating_add(m.wait), m.instance));
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
}
