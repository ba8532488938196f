//! A rotor's shared key state ([`crate::store`]): given with [`Rotor::with_store`], read at a
//! cold start, asked before each attempt, told what an answer changed. Without a store none
//! of this runs: the pool is the rotor's whole state.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Rotor, RotorError};
use crate::pool::{Health, Pool};
use crate::request::ChatRequest;
use crate::store::link::{Changes, Link};
use crate::store::{Admission, Admit, OnStoreError, Publish, StateStore};
use crate::transport::Transport;

/// The probe lease an attempt with key `k` asks for: `Some` when the key is back from a
/// limit (this replica's or one learned from the store) and the attempt probes it, for about
/// an attempt's time (twice the typical, 50 ms to 5 s). Only policies that pace ask: they
/// wait for a key that comes back, where the others would give the request up.
fn probe_lease(pool: &Pool, k: usize) -> Option<Duration> {
    let key = &pool.keys[k];
    (key.limited || key.day_limited.is_some()).then(|| {
        (pool.service_estimate() * 2).clamp(Duration::from_millis(50), Duration::from_secs(5))
    })
}

/// What the store says of a chosen key.
pub(super) enum Gate {
    /// Send; `probing`: the attempt holds the key's probe lease, to end when it is answered.
    Go {
        /// Whether the attempt holds the key's probe lease.
        probing: bool,
    },
    /// The key rests elsewhere or its minute is full: choose again.
    Again,
    /// The store failed and the rotor fails closed.
    Refuse,
}

impl<T: Transport> Rotor<T> {
    /// Shares this rotor's key state with other rotors through `store` (replicas of an app,
    /// of the proxy, serverless instances): keys another replica saw limited are skipped,
    /// the rotation goes on where the others left it, and a pacing policy's attempts are
    /// admitted against each organisation's limit across all of them ([`crate::store`]).
    /// When the store fails, `on_error` says whether to serve from this rotor's own state or
    /// to refuse. Call it before cloning the rotor.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use keyrotor_engine::{ApiKey, MemoryStore, OnStoreError, Rotor, RotorOptions};
    /// # use keyrotor_engine::transport::{Reply, Transport, TransportError};
    /// # struct Up;
    /// # impl Transport for Up {
    /// #     async fn send(&self, _: &ApiKey, _: bytes::Bytes) -> Result<Reply, TransportError> {
    /// #         Err(TransportError::Timeout)
    /// #     }
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // In each replica; with the `redis` feature: RedisStore::open(url, "chat", timeout)?
    /// let shared = Arc::new(MemoryStore::new());
    /// let keys = vec![ApiKey::new("gsk_a"), ApiKey::new("gsk_b")];
    /// let rotor = Rotor::new(keys, "cooldown".parse()?, Up, RotorOptions::default())?
    ///     .with_store(shared, OnStoreError::FailOpen)?;
    /// assert_eq!(rotor.status().store.map(|s| s.store), Some("memory"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_store(
        mut self,
        store: Arc<dyn StateStore>,
        on_error: OnStoreError,
    ) -> Result<Self, RotorError> {
        let inner = Arc::get_mut(&mut self.inner).ok_or(RotorError::AlreadyShared)?;
        inner.store = Some(Link::new(store, on_error, &inner.keys));
        Ok(self)
    }

    /// A cold start: reads the shared rests and rotation position before the first request.
    pub(super) async fn pull(&self, link: &Link) {
        let now = Instant::now();
        match link.store.pull(&link.names, now).await {
            Ok(shared) => {
                link.succeeded();
                link.apply(&mut self.pool(), &shared, None);
            }
            // Counted when an attempt meets it; fail-open or -closed is decided there.
            Err(error) => tracing::debug!(%error, "state store: first read failed"),
        }
    }

    /// Asks the store to admit an attempt with key `k` (one round trip) and applies what it
    /// says of the other keys. A key held back rests in the pool, so the policy chooses
    /// again; a policy that insists on it (round-robin reads no state) sends anyway, as do
    /// requests held back more than twice the keys (the rests changed under them).
    /// `held`: the last key held back and how many were.
    pub(super) async fn gate(
        &self,
        link: &Link,
        k: usize,
        request: &ChatRequest,
        held: &mut (Option<usize>, usize),
    ) -> Gate {
        let tokens = request.reserved_tokens;
        let (cursor, group, (rpm, tpm), probe) = {
            let pool = self.pool();
            let group = pool.root(k);
            let rpm = pool.rpm_limit(k);
            let probe = self.inner.policy.paces().then(|| probe_lease(&pool, k));
            let limits = (rpm, pool.tokens_per_minute(k));
            (pool.cursor, group, limits, probe.flatten())
        };
        if held.0 == Some(k) || held.1 > 2 * link.names.len() {
            self.pool().on_send(k, tokens, Instant::now());
            return Gate::Go { probing: false };
        }
        let admit = Admit {
            keys: &link.names,
            key: k,
            group,
            paced: self.inner.policy.paces(),
            rpm,
            tpm,
            tokens,
            cursor,
            probe,
            replica: link.replica,
        };
        let answer = link.store.admit(admit, Instant::now()).await;
        let now = Instant::now();
        let (admission, shared) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                let open = link.on_error == OnStoreError::FailOpen;
                link.failed(&error, now, Some(open));
                if !open {
                    return Gate::Refuse;
                }
                self.pool().on_send(k, tokens, now);
                return Gate::Go { probing: false };
            }
        };
        let gate = {
            let mut pool = self.pool();
            link.apply(&mut pool, &shared, Some(k));
            self.admitted(
                &mut pool,
                k,
                (tokens, probe.is_some()),
                admission,
                held,
                now,
            )
        };
        if matches!(gate, Gate::Again) {
            link.held_back();
        }
        self.store_answered(link).await;
        gate
    }

    /// What the store's admission means for the pool: a key admitted is reserved (with the
    /// probe lease when `probe`); one held back rests in the pool (at least a moment) so the
    /// policy chooses again.
    fn admitted(
        &self,
        pool: &mut Pool,
        k: usize,
        (tokens, probe): (u64, bool),
        admission: Admission,
        held: &mut (Option<usize>, usize),
        now: Instant,
    ) -> Gate {
        match admission {
            Admission::Admitted => {
                pool.on_send(k, tokens, now);
                Gate::Go { probing: probe }
            }
            Admission::Resting | Admission::Paced { .. } => {
                let until = match admission {
                    Admission::Paced { until } => until,
                    _ => now + Duration::from_millis(1),
                };
                if pool.is_ready(k) {
                    pool.set_group_health(k, Health::Cooling { until });
                }
                *held = (Some(k), held.1 + 1);
                Gate::Again
            }
            // Only this key waits for the other replica's probe, not its organisation; the
            // policy (one that paces, so waits) asks again when the lease ends, and the store
            // decides again then.
            Admission::Probing { until } => {
                if pool.is_ready(k) {
                    pool.keys[k].health = Health::Cooling { until };
                }
                held.1 += 1;
                Gate::Again
            }
        }
    }

    /// Publishes what an answer changed, the rotation position and the end of this rotor's
    /// probe of key `released`; a failure is counted and logged, never fails the request
    /// (its answer is already here).
    pub(super) async fn publish(&self, link: &Link, changes: &Changes, released: Option<usize>) {
        if self.send_changes(link, changes, released).await {
            self.store_answered(link).await;
        }
    }

    /// Counts a store call that succeeded; when it ends an outage, publishes every rest the
    /// pool has (the store missed them meanwhile).
    async fn store_answered(&self, link: &Link) {
        if link.succeeded() {
            let rests = Link::all_rests(&self.pool(), Instant::now());
            self.send_changes(link, &rests, None).await;
        }
    }

    /// One publish call with the pool's rotation position; whether the store took it.
    async fn send_changes(&self, link: &Link, changes: &Changes, released: Option<usize>) -> bool {
        let publish = Publish {
            keys: &link.names,
            rests: &changes.rests,
            cursor: self.pool().cursor,
            replica: link.replica,
            released,
            errors: &changes.errors,
        };
        match link.store.publish(publish).await {
            Ok(()) => {
                link.published(changes.rests.len());
                true
            }
            Err(error) => {
                link.failed(&error, Instant::now(), None);
                false
            }
        }
    }
}
