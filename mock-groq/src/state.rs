//! The mock's shared state: organisations with one ledger per model, the key registry with
//! per-key counters, faults, the clock and the request sequence that seeds each request's RNG.
//!
//! Ledgers sit behind a `std::sync::Mutex` each (one per organisation and model): the
//! critical section is a few float operations and never spans an await.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde::Serialize;

use crate::attribution::Attribution;
use crate::catalog::Model;
use crate::clock::Clock;
use crate::config::{Config, ConfigError, Event};
use crate::faults::Faults;
use crate::key::ApiKey;
use crate::ledger::{Ledger, Snapshot, Window};
use crate::provider::Provider;
use jiff::Timestamp;

/// One organisation (a provider's scope: project, account): its id and a ledger per model.
pub struct Org {
    /// The organisation id.
    pub id: String,
    /// One ledger per model the mock knows ([`Mock::models`]), same order.
    pub ledgers: Vec<Mutex<Ledger>>,
}

/// Counters of one key (or of requests without a valid key).
#[derive(Default)]
pub struct Counters {
    requests: AtomicU64,
    ok: AtomicU64,
    rate_limited: AtomicU64,
    /// 429s by the window that ran out, in [`Window::ALL`]'s order.
    limited_by: [AtomicU64; 6],
    too_large: AtomicU64,
    unauthorized: AtomicU64,
    server_errors: AtomicU64,
    client_errors: AtomicU64,
    dropped: AtomicU64,
    stalled: AtomicU64,
    stream_errors: AtomicU64,
}

/// A plain copy of [`Counters`], for the admin view and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CounterValues {
    /// Requests received (counted on arrival).
    pub requests: u64,
    /// Answered 200.
    pub ok: u64,
    /// Answered 429.
    pub rate_limited: u64,
    /// Of them, because requests per minute ran out.
    pub rate_limited_rpm: u64,
    /// … requests per day.
    pub rate_limited_rpd: u64,
    /// … tokens per minute.
    pub rate_limited_tpm: u64,
    /// … tokens per day.
    pub rate_limited_tpd: u64,
    /// … requests per hour.
    pub rate_limited_rph: u64,
    /// … tokens per hour.
    pub rate_limited_tph: u64,
    /// Answered 413 (request larger than TPM).
    pub too_large: u64,
    /// Answered 401.
    pub unauthorized: u64,
    /// Answered 5xx or 498.
    pub server_errors: u64,
    /// Answered another 4xx.
    pub client_errors: u64,
    /// Connection dropped by a fault.
    pub dropped: u64,
    /// Held by a stall fault.
    pub stalled: u64,
    /// Streams broken off by a stream_error fault.
    pub stream_errors: u64,
}

/// How a request ended, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response with this status was sent.
    Status(StatusCode),
    /// The connection was dropped.
    Dropped,
    /// The request was stalled.
    Stalled,
    /// A 200 stream was broken off with an error event.
    StreamError,
    /// Answered 429 because this window's budget ran out.
    Limited(Window),
}

impl Counters {
    /// Counts a request on arrival (a client that gives up early still counted it).
    pub fn arrived(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts how a request ended.
    pub fn record(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Limited(window) => {
                let i = Window::ALL.iter().position(|w| *w == window).unwrap_or(0);
                self.limited_by[i].fetch_add(1, Ordering::Relaxed);
                &self.rate_limited
            }
            Outcome::Status(s) if s.is_success() => &self.ok,
            Outcome::Status(StatusCode::TOO_MANY_REQUESTS) => &self.rate_limited,
            Outcome::Status(StatusCode::PAYLOAD_TOO_LARGE) => &self.too_large,
            Outcome::Status(StatusCode::UNAUTHORIZED) => &self.unauthorized,
            Outcome::Status(s) if s.is_server_error() || s.as_u16() == 498 => &self.server_errors,
            Outcome::Status(_) => &self.client_errors,
            Outcome::Dropped => &self.dropped,
            Outcome::Stalled => &self.stalled,
            Outcome::StreamError => &self.stream_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Current values.
    pub fn values(&self) -> CounterValues {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            requests: get(&self.requests),
            ok: get(&self.ok),
            rate_limited: get(&self.rate_limited),
            rate_limited_rpm: get(&self.limited_by[0]),
            rate_limited_rpd: get(&self.limited_by[1]),
            rate_limited_tpm: get(&self.limited_by[2]),
            rate_limited_tpd: get(&self.limited_by[3]),
            rate_limited_rph: get(&self.limited_by[4]),
            rate_limited_tph: get(&self.limited_by[5]),
            too_large: get(&self.too_large),
            unauthorized: get(&self.unauthorized),
            server_errors: get(&self.server_errors),
            client_errors: get(&self.client_errors),
            dropped: get(&self.dropped),
            stalled: get(&self.stalled),
            stream_errors: get(&self.stream_errors),
        }
    }

    fn reset(&self) {
        for c in self.limited_by.iter().chain([
            &self.requests,
            &self.ok,
            &self.rate_limited,
            &self.too_large,
            &self.unauthorized,
            &self.server_errors,
            &self.client_errors,
            &self.dropped,
            &self.stalled,
            &self.stream_errors,
        ]) {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// One API key the mock knows.
pub struct KeyEntry {
    /// The key (shown only as a fingerprint).
    pub key: ApiKey,
    /// Index of its organisation.
    pub org: usize,
    /// Revoked from this time on (mock clock).
    pub revoked_at: Option<Duration>,
    /// Its counters.
    pub counters: Counters,
}

/// The whole state behind the router.
pub struct Mock {
    /// The configuration it was built from.
    pub config: Config,
    /// Scaled clock.
    pub clock: Clock,
    /// Organisations.
    pub orgs: Vec<Org>,
    /// Keys, in config order.
    pub keys: Vec<KeyEntry>,
    by_key: HashMap<String, usize>,
    /// Requests that presented no valid key.
    pub unauthenticated: Counters,
    /// Fault rules.
    pub faults: Faults,
    /// The provider it imitates.
    pub provider: Provider,
    /// The models it knows, served or not (Groq's catalog, or another provider's list).
    pub models: Vec<Model>,
    /// Index of the default model in [`Mock::models`].
    pub default_model: usize,
    /// The day whose catalog is served: which models exist.
    pub as_of: jiff::civil::Date,
    /// Unix time at start, for `created` fields.
    pub start_unix: u64,
    sequence: AtomicU64,
    /// Completion texts made so far, by (first word, words): each is made once.
    texts: Mutex<HashMap<(usize, u64), Text>>,
    /// Chat calls by driver marker, when the config asks for it.
    pub attribution: Option<Mutex<Attribution>>,
}

/// Each organisation with a ledger per model (its tier's limits, overridden where the
/// config says; fixed windows reset on the wall clock from `epoch`), and every key with the
/// organisation it belongs to.
fn orgs_and_keys(
    config: &Config,
    (provider, models): (&Provider, &[Model]),
    epoch: Timestamp,
) -> (Vec<Org>, Vec<KeyEntry>) {
    let mut orgs = Vec::new();
    let mut keys = Vec::new();
    for (index, org) in config.orgs.iter().enumerate() {
        let tier = org.tier.unwrap_or(config.tier);
        let over = org.limits.unwrap_or_default();
        let ledgers = models
            .iter()
            .map(|m| Mutex::new(provider.ledger(m.limits(tier), over, epoch)))
            .collect();
        orgs.push(Org {
            id: org.id.clone(),
            ledgers,
        });
        keys.extend(org.keys.iter().map(|key| KeyEntry {
            key: key.clone(),
            org: index,
            revoked_at: None,
            counters: Counters::default(),
        }));
    }
    (orgs, keys)
}

/// Sets the config's events in place: a key's revocation time, an organisation's ledgers'
/// daily exhaustion.
fn schedule_events(
    events: &[Event],
    orgs: &[Org],
    keys: &mut [KeyEntry],
    by_key: &HashMap<String, usize>,
) {
    for event in events {
        match event {
            Event::RevokeKey { at, key } => {
                if let Some(&i) = by_key.get(key.expose()) {
                    keys[i].revoked_at = Some(*at);
                }
            }
            Event::ExhaustDaily { at, org } => {
                if let Some(o) = orgs.iter().find(|o| &o.id == org) {
                    for ledger in &o.ledgers {
                        lock(ledger).exhaust_daily_at(*at);
                    }
                }
            }
        }
    }
}

/// A completion text, and the same as a JSON string (quoted and escaped), so an answer
/// writes it without escaping it again: it was an eighth of a simulated request's cost.
#[derive(Debug, Clone)]
pub struct Text {
    /// The words.
    pub plain: Arc<str>,
    /// The words as a JSON string literal.
    pub json: Arc<serde_json::value::RawValue>,
}

impl Text {
    fn new(plain: String) -> Self {
        let json = serde_json::to_string(&plain)
            .ok()
            .and_then(|quoted| serde_json::value::RawValue::from_string(quoted).ok())
            .map_or_else(
                // A string always writes as JSON; this is never taken.
                || Arc::from(serde_json::value::RawValue::NULL.to_owned()),
                Arc::from,
            );
        Self {
            plain: plain.into(),
            json,
        }
    }
}

/// Distinct completion texts kept; further ones are made each time.
const TEXTS: usize = 4096;

impl Mock {
    /// Builds the state from a validated config.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let provider = Provider::check(&config)?;
        let models = provider.models(&config);
        let default_model = match models.iter().position(|m| m.id == config.model) {
            Some(m) => m,
            None if !config.is_groq() => 0,
            None => {
                return Err(ConfigError::Invalid(format!(
                    "unknown model {}",
                    config.model
                )));
            }
        };
        let clock = Clock::start(config.time_scale);
        let start_unix = config.start_unix.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        let epoch = i64::try_from(start_unix)
            .ok()
            .and_then(|s| Timestamp::from_second(s).ok())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let (orgs, mut keys) = orgs_and_keys(&config, (&provider, &models), epoch);
        let by_key: HashMap<String, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.key.expose().to_owned(), i))
            .collect();
        schedule_events(&config.events, &orgs, &mut keys, &by_key);
        let faults = Faults::new(&config.faults, |id| orgs.iter().position(|o| o.id == id));
        let attribution = config
            .attribution
            .then(|| Mutex::new(Attribution::default()));
        Ok(Self {
            as_of: config.as_of(),
            config,
            clock,
            orgs,
            keys,
            by_key,
            unauthenticated: Counters::default(),
            faults,
            provider,
            models,
            default_model,
            start_unix,
            sequence: AtomicU64::new(0),
            texts: Mutex::new(HashMap::new()),
            attribution,
        })
    }

    /// A completion text of `tokens` words from a random start (one draw from `rng`), made
    /// (and written as JSON) once per distinct text.
    pub fn text(&self, tokens: u64, rng: &mut rand::rngs::SmallRng) -> Text {
        let start = crate::generation::text_start(rng);
        let make = || Text::new(crate::generation::text_from(start, tokens));
        let Ok(mut texts) = self.texts.lock() else {
            return make();
        };
        if let Some(known) = texts.get(&(start, tokens)) {
            return known.clone();
        }
        let text = make();
        if texts.len() < TEXTS {
            texts.insert((start, tokens), text.clone());
        }
        text
    }

    /// The model called `id` (served or not), by its index in [`Mock::models`].
    pub fn find_model(&self, id: &str) -> Option<usize> {
        self.models.iter().position(|m| m.id == id)
    }

    /// Writes the rate-limit headers its provider puts on an answer (`error`: an error
    /// answer) for a ledger snapshot.
    pub fn insert_rate_limits(&self, headers: &mut HeaderMap, snap: &Snapshot, error: bool) {
        let at = (self.start_unix, error);
        self.provider
            .insert_rate_limits(headers, snap, &self.clock, at);
    }

    /// The key index for a presented key value, if the key is known.
    pub fn key_index(&self, presented: &str) -> Option<usize> {
        self.by_key.get(presented).copied()
    }

    /// A fresh RNG for the next request: seeded from the config seed and the request's
    /// sequence number, so draws do not depend on a shared lock.
    pub fn request_rng(&self) -> SmallRng {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        SmallRng::seed_from_u64(splitmix(self.config.seed ^ splitmix(n)))
    }

    /// The ledger of an organisation for a model.
    pub fn ledger(&self, org: usize, model: usize) -> &Mutex<Ledger> {
        &self.orgs[org].ledgers[model]
    }

    /// Empties every budget and counter; scheduled events still to come stay scheduled.
    pub fn reset(&self) {
        let now = self.clock.now();
        for org in &self.orgs {
            for ledger in &org.ledgers {
                lock(ledger).reset(now);
            }
        }
        for key in &self.keys {
            key.counters.reset();
        }
        self.unauthenticated.reset();
        if let Some(log) = &self.attribution {
            *lock(log) = Attribution::default();
        }
    }
}

/// Locks a ledger or the attribution log, recovering it if a panicking thread poisoned the
/// lock (their state is always consistent between method calls).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
