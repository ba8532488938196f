//! The proxy's pools: each a [`Rotor`] over its keys behind one upstream, with the models it
//! serves; and the routing that picks a request's pool by its `model`. Built from a
//! [`Setup`], taking over from the pools before a reload what they learned of the keys that
//! stay (rests, budgets, shared organisations, attempt timings).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus_client::metrics::histogram::Histogram;

use keyrotor_engine::transport::{HttpTransport, Timeouts};
use keyrotor_engine::{Rotor, RotorOptions};

use crate::setup::PoolSetup;
use crate::{Env, ProviderName};

/// Upper bounds of the attempt-latency buckets, in seconds.
pub const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Where key state lives, for every pool (the flags `--state`, `--on-state-error`,
/// `--state-timeout`; a reload cannot change them).
#[derive(Debug, Clone)]
pub struct StateOptions {
    /// `local`, or a Redis URL (`env:NAME` for one read from the environment).
    pub state: String,
    /// Serve from local state, or refuse, when the store fails.
    pub on_error: keyrotor_engine::OnStoreError,
    /// Longest a store call may take.
    pub timeout: Duration,
}

/// One pool of keys.
pub struct Pool {
    /// Its name.
    pub name: String,
    /// The engine over its keys.
    pub rotor: Rotor<HttpTransport>,
    /// The models it serves; empty: every model no other pool lists.
    pub models: Vec<String>,
    /// Its upstream's model list.
    pub models_url: reqwest::Url,
    /// Per key, in pool order: how long its attempts took (carried over a reload by key).
    pub attempts: Vec<Histogram>,
    upstream: String,
    provider: ProviderName,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("rotor", &self.rotor)
            .field("models", &self.models)
            .finish_non_exhaustive()
    }
}

/// The pools, in the config's order.
#[derive(Debug)]
pub struct Pools {
    list: Vec<Pool>,
    /// The pool taking every model no other lists, if one does.
    catch_all: Option<usize>,
    /// Whether some pool lists its models (then routing reads each request's model).
    by_model: bool,
}

/// What a request's model finds.
#[derive(Debug)]
pub enum Route<'a> {
    /// The pool that serves it.
    To(&'a Pool),
    /// No pool serves it: the provider's 404.
    Unserved,
}

impl Pools {
    /// Builds the pools of `setups`; a pool named as one of `previous` with the same
    /// upstream and provider takes over its key state and timings for the keys both hold.
    pub fn build(
        setups: &[PoolSetup],
        previous: Option<&Pools>,
        state: &StateOptions,
        timeouts: Timeouts,
        env: Env<'_>,
    ) -> anyhow::Result<Self> {
        let mut list = Vec::with_capacity(setups.len());
        for setup in setups {
            let name = setup.name.clone();
            let before = previous.and_then(|p| p.named(&name));
            let pool = Pool::build(setup.clone(), before, state, timeouts, env)
                .with_context(|| format!("pool `{name}`"))?;
            list.push(pool);
        }
        let catch_all = list.iter().position(|p| p.models.is_empty());
        let by_model = list.iter().any(|p| !p.models.is_empty());
        Ok(Self {
            list,
            catch_all,
            by_model,
        })
    }

    /// The pool named `name`.
    pub fn named(&self, name: &str) -> Option<&Pool> {
        self.list.iter().find(|p| p.name == name)
    }

    /// Every pool.
    pub fn iter(&self) -> impl Iterator<Item = &Pool> {
        self.list.iter()
    }

    /// Whether routing needs a request's model: some pool lists its models.
    pub fn by_model(&self) -> bool {
        self.by_model
    }

    /// The pool for a request naming `model` (`None` when it names none).
    pub fn route(&self, model: Option<&str>) -> Route<'_> {
        let listed = model.and_then(|m| self.list.iter().find(|p| p.models.iter().any(|x| x == m)));
        match listed.or_else(|| self.catch_all.map(|i| &self.list[i])) {
            Some(pool) => Route::To(pool),
            None => Route::Unserved,
        }
    }

    /// The pool taking every unlisted model, if one does.
    pub fn catch_all(&self) -> Option<&Pool> {
        self.catch_all.map(|i| &self.list[i])
    }
}

impl Pool {
    fn build(
        setup: PoolSetup,
        before: Option<&Pool>,
        state: &StateOptions,
        timeouts: Timeouts,
        env: Env<'_>,
    ) -> anyhow::Result<Self> {
        let chat_path = setup.provider.provider().chat_path();
        let transport = HttpTransport::streaming(&setup.upstream, chat_path, timeouts)
            .with_context(|| format!("upstream {}", setup.upstream))?;
        let options = RotorOptions {
            deadline: setup.deadline,
            ..RotorOptions::default()
        };
        let (keys, policy) = (setup.keys, setup.policy);
        let provider = setup.provider.provider();
        let rotor = Rotor::for_provider(keys, policy, transport, options, provider)?;
        // Key state is a fact of the upstream's keys: kept only for the same upstream.
        let before =
            before.filter(|b| b.upstream == setup.upstream && b.provider == setup.provider);
        let rotor = match before {
            Some(b) => rotor.inherit(&b.rotor),
            None => rotor,
        };
        let rotor = match state.state.as_str() {
            "local" => rotor,
            spec => {
                let url = keyrotor_engine::store::redis_url(spec, env).context("--state")?;
                let store = keyrotor_engine::RedisStore::open(&url, &setup.state_id, state.timeout)
                    .context("--state")?;
                tracing::info!(store = ?store, pool = %setup.state_id, "key state shared on Redis");
                rotor.with_store(Arc::new(store), state.on_error)?
            }
        };
        let attempts = rotor
            .keys()
            .iter()
            .map(|key| {
                let kept = before.and_then(|b| {
                    let at = b
                        .rotor
                        .keys()
                        .iter()
                        .position(|k| k.expose() == key.expose())?;
                    b.attempts.get(at).cloned()
                });
                kept.unwrap_or_else(|| Histogram::new(BUCKETS))
            })
            .collect();
        let models_url = format!(
            "{}{}",
            setup.upstream.trim_end_matches('/'),
            chat_path.replace("/chat/completions", "/models")
        );
        let models_url = reqwest::Url::parse(&models_url)
            .with_context(|| format!("upstream {}", setup.upstream))?;
        Ok(Self {
            name: setup.name,
            rotor,
            models: setup.models,
            models_url,
            attempts,
            upstream: setup.upstream,
            provider: setup.provider,
        })
    }

    /// Counts each attempt's time with its key.
    pub fn record(&self, trace: &keyrotor_engine::Trace) {
        for attempt in &trace.attempts {
            if let Some(histogram) = self.attempts.get(attempt.key) {
                let took = attempt.end.saturating_sub(attempt.start);
                histogram.observe(took.as_secs_f64());
            }
        }
    }
}
