//! Keys swapped without a restart. On SIGHUP or `POST /admin/reload` the proxy reads its
//! flags' files or its config file again ([`Setup::read`]) and builds a new generation of
//! what it serves: pools and clients. A request takes the generation current when it
//! arrives and keeps it to its end, so requests in flight on a removed key finish on it while
//! new requests never reach it; a new key serves the next request. Keys and clients that stay
//! keep their state ([`keyrotor_engine::Rotor::inherit`], [`Clients::new`]). A reload that
//! fails keeps the generation serving and says why: in the log, in `/status` and in
//! `/metrics` (`keyrotor_proxy_config_last_reload_successful`).
//!
//! The listen address, the threads and where key state lives (`--state`) are read at start
//! only; a reload that changes the listen address says so and keeps it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use keyrotor_engine::transport::Timeouts;
use serde::Serialize;

use crate::clients::Clients;
use crate::pools::{Pools, StateOptions};
use crate::setup::Setup;
use crate::{Env, ProxyArgs};

/// One generation of what the proxy serves.
#[derive(Debug)]
pub struct Served {
    /// The pools, by model.
    pub pools: Pools,
    /// Who may spend them.
    pub clients: Clients,
    /// The token `POST /admin/reload` wants.
    admin_token: Option<String>,
    /// 1 at start, one more per successful reload.
    pub generation: u64,
}

impl Served {
    /// Whether `presented` is the admin token (in constant time); `None` when none is set.
    pub fn admin(&self, presented: Option<&str>) -> Option<bool> {
        let token = self.admin_token.as_deref()?;
        Some(
            presented
                .is_some_and(|p| crate::clients::constant_time_eq(p.as_bytes(), token.as_bytes())),
        )
    }
}

/// A lookup of environment variables that lives as long as the proxy (reloads read it).
pub type SharedEnv = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What is served now, and how to read it again.
pub struct Live {
    current: ArcSwap<Served>,
    args: ProxyArgs,
    env: SharedEnv,
    state: StateOptions,
    timeouts: Timeouts,
    /// One reload at a time (held while one reads and builds; pages never wait on it).
    reloading: Mutex<()>,
    /// What the last reload said (held only to read or replace it).
    last: Mutex<Option<Outcome>>,
    /// Reloads that worked.
    pub reloaded: AtomicU64,
    /// Reloads that failed.
    pub failed: AtomicU64,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("generation", &self.current.load().generation)
            .finish_non_exhaustive()
    }
}

/// What one reload did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// When, RFC 3339.
    pub at: String,
    /// Whether the new generation serves.
    pub ok: bool,
    /// The generation serving after it.
    pub generation: u64,
    /// Why it failed (the old generation still serves), or what changed.
    pub said: String,
}

/// What a reload changed in one pool, by key fingerprint.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PoolChange {
    /// The pool.
    pub pool: String,
    /// Its keys now.
    pub keys: usize,
    /// Keys it did not hold before.
    pub added: Vec<String>,
    /// Keys it no longer holds.
    pub removed: Vec<String>,
}

impl Live {
    /// The first generation and where to listen, read from the flags and the files and environment they name.
    pub fn start(args: ProxyArgs, env: SharedEnv) -> anyhow::Result<(Self, SocketAddr)> {
        let setup = Setup::read(&args, &*env)?;
        let timeouts = args.timeouts();
        let state = StateOptions {
            state: args.state.clone(),
            on_error: args.on_state_error,
            timeout: args.state_timeout.into(),
        };
        let served = generation(&setup, None, &state, timeouts, &*env, 1)?;
        let live = Self {
            current: ArcSwap::from_pointee(served),
            args,
            env,
            state,
            timeouts,
            reloading: Mutex::new(()),
            last: Mutex::new(None),
            reloaded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        };
        Ok((live, setup.listen))
    }

    /// The generation serving now; a request keeps it to its end.
    pub fn now(&self) -> Arc<Served> {
        self.current.load_full()
    }

    /// Reads everything again and serves the new generation, or keeps the old one and says
    /// why. Reloads run one at a time.
    pub fn reload(&self) -> Result<Vec<PoolChange>, String> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.now();
        let built = Setup::read(&self.args, &*self.env).and_then(|setup| {
            if setup.listen != self.args.listen && self.args.config.is_some() {
                tracing::warn!(
                    "reload: `listen` changed to {}; the proxy keeps listening where it started (restart to move it)",
                    setup.listen
                );
            }
            let changes = changes(&old.pools, &setup);
            let next = old.generation.saturating_add(1);
            generation(&setup, Some(&old), &self.state, self.timeouts, &*self.env, next)
                .map(|served| (served, changes))
        });
        let at = jiff::Timestamp::now().to_string();
        match built {
            Ok((served, changes)) => {
                let generation = served.generation;
                self.current.store(Arc::new(served));
                self.reloaded.fetch_add(1, Ordering::Relaxed);
                let said = describe(&changes);
                tracing::warn!(generation, "config reloaded: {said}");
                self.said(Outcome {
                    at,
                    ok: true,
                    generation,
                    said,
                });
                Ok(changes)
            }
            Err(error) => {
                let said = format!("{error:#}");
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    generation = old.generation,
                    "reload failed, still serving generation {}: {said}",
                    old.generation
                );
                self.said(Outcome {
                    at,
                    ok: false,
                    generation: old.generation,
                    said: said.clone(),
                });
                Err(said)
            }
        }
    }

    fn said(&self, outcome: Outcome) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    }

    /// What the last reload did, if one ran.
    pub fn last(&self) -> Option<Outcome> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A generation built from `setup`, taking over from `previous`.
fn generation(
    setup: &Setup,
    previous: Option<&Served>,
    state: &StateOptions,
    timeouts: Timeouts,
    env: Env<'_>,
    number: u64,
) -> anyhow::Result<Served> {
    let pools = Pools::build(
        &setup.pools,
        previous.map(|p| &p.pools),
        state,
        timeouts,
        env,
    )?;
    let clients = Clients::new(setup.clients.clone(), previous.map(|p| &p.clients))
        .map_err(anyhow::Error::msg)?;
    Ok(Served {
        pools,
        clients,
        admin_token: setup.admin_token.clone(),
        generation: number,
    })
}

/// Per pool of `setup`, the keys it adds and removes against `old`.
fn changes(old: &Pools, setup: &Setup) -> Vec<PoolChange> {
    setup
        .pools
        .iter()
        .map(|pool| {
            let before: Vec<String> = old
                .named(&pool.name)
                .map(|p| p.rotor.keys().iter().map(|k| k.fingerprint()).collect())
                .unwrap_or_default();
            let now: Vec<String> = pool.keys.iter().map(|k| k.fingerprint()).collect();
            PoolChange {
                pool: pool.name.clone(),
                keys: now.len(),
                added: now
                    .iter()
                    .filter(|k| !before.contains(k))
                    .cloned()
                    .collect(),
                removed: before
                    .iter()
                    .filter(|k| !now.contains(k))
                    .cloned()
                    .collect(),
            }
        })
        .collect()
}

/// One line of what changed, by fingerprint.
fn describe(changes: &[PoolChange]) -> String {
    let pools: Vec<String> = changes
        .iter()
        .map(|c| {
            let list = |keys: &[String]| {
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            };
            format!(
                "pool `{}`: {} keys (added {}; removed {})",
                c.pool,
                c.keys,
                list(&c.added),
                list(&c.removed)
            )
        })
        .collect();
    pools.join("; ")
}
