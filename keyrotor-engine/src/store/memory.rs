//! [`MemoryStore`]: shared key state for rotors in one process (replicas simulated by the
//! harness, or several rotors of one app). Its clock is the process's (tokio's, so it follows
//! a paused test clock); entries are bounded by the keys named (at most one rest and one
//! pacing bucket per key), and expired ones are dropped as they are met.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::{BoxFuture, FutureExt};
use tokio::time::Instant;

use super::{
    Admission, Admit, MAX_CURSOR, Pace, Publish, Rest, RestKind, Shared, StateStore, StoreError,
    rest_millis,
};

#[derive(Debug, Default)]
struct State {
    /// Per fingerprint: why it rests and until when.
    rests: HashMap<String, (RestKind, Instant)>,
    /// Per pacing bucket (a fingerprint): the organisation's limits once learned and their
    /// theoretical arrival times (ms since `origin`).
    paces: HashMap<String, Pace>,
    /// Per fingerprint: until when a replica's probe holds the key, and which replica.
    probes: HashMap<String, (Instant, u64)>,
    /// Per fingerprint: errors counted, and until when the count lasts.
    errors: HashMap<String, (u32, Instant)>,
    cursor: u64,
}

/// Shared state in this process's memory. Clone the `Arc` it sits in for each rotor.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    origin: Instant,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            origin: Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read(state: &mut State, keys: &[String], now: Instant) -> Shared {
        state.rests.retain(|_, (_, until)| *until > now);
        Shared {
            rests: keys
                .iter()
                .map(|k| {
                    state
                        .rests
                        .get(k)
                        .map(|&(kind, until)| Rest { kind, until })
                })
                .collect(),
            cursor: state.cursor,
            rpm: None,
            errors: 0,
        }
    }
}

impl StateStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn pull<'a>(
        &'a self,
        keys: &'a [String],
        now: Instant,
    ) -> BoxFuture<'a, Result<Shared, StoreError>> {
        let shared = Self::read(&mut self.lock(), keys, now);
        async move { Ok(shared) }.boxed()
    }

    fn admit<'a>(
        &'a self,
        admit: Admit<'a>,
        now: Instant,
    ) -> BoxFuture<'a, Result<(Admission, Shared), StoreError>> {
        let mut state = self.lock();
        state.cursor = state.cursor.max(admit.cursor.min(MAX_CURSOR));
        let mut shared = Self::read(&mut state, admit.keys, now);
        let at = now.saturating_duration_since(self.origin).as_secs_f64() * 1000.0;
        let bucket = admit.keys.get(admit.group).filter(|_| admit.paced);
        // The limits brought are kept whatever the answer; the slot only when admitted.
        let mut pace = bucket.map(|bucket| {
            let pace = state.paces.entry(bucket.clone()).or_default();
            pace.learn(admit.rpm, admit.tpm);
            *pace
        });
        shared.rpm = pace.and_then(|p| p.rpm);
        state.probes.retain(|_, (until, _)| *until > now);
        let name = admit.keys.get(admit.key);
        let probed_elsewhere = admit
            .probe
            .and(name)
            .and_then(|name| state.probes.get(name).map(|&(until, _)| until));
        state.errors.retain(|_, (_, until)| *until > now);
        shared.errors = name
            .and_then(|name| state.errors.get(name))
            .map_or(0, |&(count, _)| count);
        let resting = shared.rests.get(admit.key).is_some_and(Option::is_some);
        let admission = match (pace.as_mut(), probed_elsewhere) {
            _ if resting => Admission::Resting,
            (_, Some(until)) => Admission::Probing { until },
            (Some(pace), None) => match pace.take(at, admit.tokens) {
                Ok(()) => Admission::Admitted,
                Err(wait_ms) => Admission::Paced {
                    until: now
                        + std::time::Duration::try_from_secs_f64(wait_ms / 1000.0)
                            .unwrap_or(std::time::Duration::from_secs(60)),
                },
            },
            (None, None) => Admission::Admitted,
        };
        if let (Admission::Admitted, Some(bucket), Some(pace)) = (admission, bucket, pace) {
            state.paces.insert(bucket.clone(), pace);
        }
        // The probe's lease is taken only by the attempt that goes.
        if let (Admission::Admitted, Some(lease), Some(name)) = (admission, admit.probe, name) {
            let until = now + lease.min(super::MAX_PROBE);
            state.probes.insert(name.clone(), (until, admit.replica));
        }
        async move { Ok((admission, shared)) }.boxed()
    }

    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = Instant::now();
        let mut state = self.lock();
        state.cursor = state.cursor.max(publish.cursor.min(MAX_CURSOR));
        for &(k, kind, rest) in publish.rests {
            let Some(name) = publish.keys.get(k) else {
                continue;
            };
            let until = now + std::time::Duration::from_millis(rest_millis(rest));
            let entry = state.rests.entry(name.clone()).or_insert((kind, until));
            if entry.1 <= until {
                *entry = (kind, until);
            }
        }
        for &(k, window) in publish.errors {
            let Some(name) = publish.keys.get(k) else {
                continue;
            };
            let until = now + std::time::Duration::from_millis(rest_millis(window));
            let count = state.errors.entry(name.clone()).or_insert((0, until));
            if count.1 <= now {
                *count = (0, until);
            }
            count.0 = count.0.saturating_add(1);
        }
        if let Some(name) = publish.released.and_then(|k| publish.keys.get(k))
            && state
                .probes
                .get(name)
                .is_some_and(|&(_, by)| by == publish.replica)
        {
            state.probes.remove(name);
        }
        async move { Ok(()) }.boxed()
    }
}
