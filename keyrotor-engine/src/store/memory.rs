//! [`MemoryStore`]: shared key state for rotors in one process (replicas simulated by the
//! harness, or several rotors of one app). Its clock is the process's (tokio's, so it follows
//! a paused test clock); entries are bounded by the keys named (at most one rest and one
//! pacing bucket per key), and expired ones are dropped as they are met.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::{BoxFuture, FutureExt};
use tokio::time::Instant;

use super::{
    Admission, Admit, MAX_CURSOR, Publish, Rest, RestKind, Shared, StateStore, StoreError, gcra,
    rest_millis,
};

#[derive(Debug, Default)]
struct State {
    /// Per fingerprint: why it rests and until when.
    rests: HashMap<String, (RestKind, Instant)>,
    /// Per pacing bucket (a fingerprint): the theoretical arrival time (ms since `origin`)
    /// and the organisation's per-minute limit, once learned.
    paces: HashMap<String, (f64, Option<u64>)>,
    /// Per fingerprint: until when a replica's probe holds the key.
    probes: HashMap<String, Instant>,
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
        let paced = bucket.map(|bucket| {
            let (tat, known) = state.paces.get(bucket).copied().unwrap_or((at, None));
            (bucket, tat, admit.rpm.filter(|&r| r > 0).or(known))
        });
        if let Some((bucket, tat, rpm)) = paced {
            shared.rpm = rpm;
            state.paces.insert(bucket.clone(), (tat, rpm));
        }
        state.probes.retain(|_, until| *until > now);
        let name = admit.keys.get(admit.key);
        let probed_elsewhere = admit
            .probe
            .and(name)
            .and_then(|name| state.probes.get(name).copied());
        let resting = shared.rests.get(admit.key).is_some_and(Option::is_some);
        let admission = match (paced, probed_elsewhere) {
            _ if resting => Admission::Resting,
            (_, Some(until)) => Admission::Probing { until },
            (Some((bucket, tat, Some(rpm))), None) => match gcra(tat, at, rpm) {
                Ok(next) => {
                    state.paces.insert(bucket.clone(), (next, Some(rpm)));
                    Admission::Admitted
                }
                Err(wait_ms) => Admission::Paced {
                    until: now
                        + std::time::Duration::try_from_secs_f64(wait_ms / 1000.0)
                            .unwrap_or(std::time::Duration::from_secs(60)),
                },
            },
            _ => Admission::Admitted,
        };
        // The probe's lease is taken only by the attempt that goes.
        if let (Admission::Admitted, Some(lease), Some(name)) = (admission, admit.probe, name) {
            let until = now + lease.min(super::MAX_PROBE);
            state.probes.insert(name.clone(), until);
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
        async move { Ok(()) }.boxed()
    }
}
