//! The [`Rotor`]: a key pool, a policy and a transport. `send` runs the policy's steps for
//! one request — pick a key, send, classify, observe; or wait; or give up — and returns the
//! answer with a trace of every attempt. Clone it freely: clones share one pool. The pool's
//! mutex is held only between awaits, never across one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::failure::Failure;
use super::keys::ApiKey;
use super::policy::{Answer, Attempts, GiveUp, Policy, PolicyConfig, Step};
use super::pool::Pool;
use super::provider::{Groq, Provider};
use super::request::ChatRequest;
use super::status::Status;
use super::transport::{Reply, Transport, TransportError};

/// Most keys a rotor takes (the per-request tried-set is a 128-bit mask).
pub const MAX_KEYS: usize = 128;

/// Errors building a rotor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotorError {
    /// No keys.
    #[error("a rotor needs at least one key")]
    NoKeys,
    /// Too many keys.
    #[error("a rotor takes at most {MAX_KEYS} keys, got {0}")]
    TooManyKeys(usize),
}

/// Settings that apply whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotorOptions {
    /// Longest a request may take in all, waits and attempts included.
    pub deadline: Duration,
    /// How long the caller's user waits for an answer, when known: budget-aware policies
    /// (adaptive) wait for a key only when it can still answer within it.
    pub budget: Option<Duration>,
    /// Seed of the pool's jitter.
    pub seed: u64,
}

impl Default for RotorOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(120),
            budget: None,
            seed: 0,
        }
    }
}

/// One attempt of a request. Times are offsets from the request's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// Index of the key used.
    pub key: usize,
    /// When it was sent.
    pub start: Duration,
    /// When its answer (or failure) arrived.
    pub end: Duration,
    /// `None` for a success.
    pub failure: Option<Failure>,
}

/// Everything that happened to a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// The attempts, in order.
    pub attempts: Vec<Attempt>,
    /// Time spent waiting between attempts.
    pub waited: Duration,
    /// From start to the final answer or give-up.
    pub total: Duration,
}

impl Trace {
    /// Time lost to failover: total minus the successful attempt's own duration; `None` when
    /// the request did not fail over (one attempt) or did not succeed.
    pub fn failover(&self) -> Option<Duration> {
        let last = self.attempts.last()?;
        (self.attempts.len() > 1 && last.failure.is_none())
            .then(|| self.total.saturating_sub(last.end - last.start))
    }
}

/// A request that did not get an answer from the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    /// Why the engine stopped.
    pub give_up: GiveUp,
    /// The last attempt's failure, if any attempt was made.
    pub last: Option<Failure>,
    /// The policy answered the user with a fallback message instead of an error.
    pub degraded: bool,
    /// When a key is expected to be usable again, if the engine knows (for a truthful
    /// `retry-after`).
    pub retry_after: Option<Duration>,
}

impl Failed {
    /// The reason to report: the last failure's kind, or the give-up reason when no attempt
    /// failed (e.g. no key available).
    pub fn reason(&self) -> &'static str {
        match (&self.last, self.give_up) {
            (_, GiveUp::NoKeyAvailable | GiveUp::Deadline) => self.give_up.reason(),
            (Some(f), _) => f.reason(),
            (None, g) => g.reason(),
        }
    }
}

/// The result of [`Rotor::send`].
#[derive(Debug, Clone)]
pub struct Sent {
    /// The successful answer, or why there is none.
    pub outcome: Result<Reply, Failed>,
    /// What happened on the way.
    pub trace: Trace,
}

struct Inner<T> {
    keys: Vec<ApiKey>,
    policy: Box<dyn Policy>,
    policy_config: PolicyConfig,
    provider: Box<dyn Provider>,
    transport: T,
    pool: Mutex<Pool>,
    options: RotorOptions,
}

/// The rotation engine. Cheap to clone; clones share keys, pool and transport.
pub struct Rotor<T> {
    inner: Arc<Inner<T>>,
}

impl<T> std::fmt::Debug for Rotor<T> {
    /// The keys by fingerprint (never the keys), the policy and the options.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fingerprints: Vec<String> = self.inner.keys.iter().map(ApiKey::fingerprint).collect();
        f.debug_struct("Rotor")
            .field("keys", &fingerprints)
            .field("policy", &self.inner.policy_config.name())
            .field("provider", &self.inner.provider.name())
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Rotor<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Transport> Rotor<T> {
    /// A rotor over `keys` with a policy and a transport, for Groq's API.
    pub fn new(
        keys: Vec<ApiKey>,
        policy: PolicyConfig,
        transport: T,
        options: RotorOptions,
    ) -> Result<Self, RotorError> {
        Self::for_provider(keys, policy, transport, options, Groq)
    }

    /// A rotor for another provider's API (how its answers read: [`Provider`]); the
    /// transport must post to its [`Provider::chat_path`].
    pub fn for_provider(
        keys: Vec<ApiKey>,
        policy: PolicyConfig,
        transport: T,
        options: RotorOptions,
        provider: impl Provider,
    ) -> Result<Self, RotorError> {
        if keys.is_empty() {
            return Err(RotorError::NoKeys);
        }
        if keys.len() > MAX_KEYS {
            return Err(RotorError::TooManyKeys(keys.len()));
        }
        let pool = Pool::new(keys.len(), options.seed, Instant::now());
        Ok(Self {
            inner: Arc::new(Inner {
                keys,
                policy: policy.build(),
                policy_config: policy,
                provider: Box::new(provider),
                transport,
                pool: Mutex::new(pool),
                options,
            }),
        })
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.inner
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends one request through the policy; always returns, by the deadline at the latest
    /// (plus the transport's own timeout for an attempt in progress).
    pub async fn send(&self, request: &ChatRequest) -> Sent {
        let inner = &*self.inner;
        let started = Instant::now();
        let deadline = started + inner.options.deadline;
        let mut attempts = Attempts::new(request.reserved_tokens, started, deadline);
        if let Some(budget) = inner.options.budget {
            attempts.budget_end = deadline.min(started + budget);
        }
        let mut trace = Trace::default();
        let outcome = loop {
            let now = Instant::now();
            let step = if let Some(give_up) = attempts.stop {
                Step::Fail(give_up)
            } else if now >= deadline {
                Step::Fail(GiveUp::Deadline)
            } else if let Some(wait) = attempts.wait_next.take() {
                Step::Wait(wait)
            } else {
                let mut pool = self.pool();
                pool.refresh(now);
                let step = inner.policy.next(&mut pool, &mut attempts, now);
                if let Step::Try(k) = step {
                    pool.on_send(k, request.reserved_tokens, now);
                }
                step
            };
            match step {
                Step::Try(k) => {
                    attempts.count += 1;
                    attempts.mark_tried(k);
                    let sent_at = Instant::now();
                    let result = inner
                        .transport
                        .send(&inner.keys[k], request.body.clone())
                        .await;
                    let answered_at = Instant::now();
                    let took = answered_at - sent_at;
                    let failure = match &result {
                        Ok(reply) => {
                            inner
                                .provider
                                .classify(reply.status, &reply.headers, &reply.body)
                        }
                        Err(TransportError::Timeout) => Some(Failure::Timeout),
                        Err(TransportError::Connection(_)) => Some(Failure::Connection),
                    };
                    let (status, headers, body) = match &result {
                        Ok(reply) => (Some(reply.status), Some(&reply.headers), &reply.body[..]),
                        Err(_) => (None, None, &[][..]),
                    };
                    {
                        let mut pool = self.pool();
                        let observed = headers.and_then(|h| inner.provider.observe(h, answered_at));
                        pool.on_answer(
                            k,
                            request.reserved_tokens,
                            failure.as_ref(),
                            observed,
                            answered_at,
                        );
                        let answer = Answer {
                            failure: failure.as_ref(),
                            status,
                            body,
                        };
                        if failure.is_none() {
                            pool.record_service(took);
                        }
                        inner
                            .policy
                            .observe(&mut pool, &mut attempts, k, answer, answered_at);
                    }
                    trace.attempts.push(Attempt {
                        key: k,
                        start: sent_at - started,
                        end: answered_at - started,
                        failure: failure.clone(),
                    });
                    if failure.is_none()
                        && let Ok(reply) = result
                    {
                        break Ok(reply);
                    }
                }
                Step::Wait(wait) => {
                    let wait = wait.min(deadline.saturating_duration_since(now));
                    tokio::time::sleep(wait).await;
                    trace.waited += wait;
                }
                Step::Fail(give_up) => {
                    let retry_after = attempts.retry_after.or_else(|| {
                        let pool = self.pool();
                        let none_ready = (0..pool.len()).all(|k| !pool.is_ready(k));
                        let back = pool.earliest_ready().filter(|_| none_ready);
                        back.map(|at| at.saturating_duration_since(Instant::now()))
                    });
                    break Err(Failed {
                        give_up,
                        last: trace.attempts.last().and_then(|a| a.failure.clone()),
                        degraded: attempts.degraded,
                        retry_after,
                    });
                }
            }
        };
        trace.total = started.elapsed();
        Sent { outcome, trace }
    }

    /// A snapshot of every key's state and the totals.
    pub fn status(&self) -> Status {
        let now = Instant::now();
        let mut pool = self.pool();
        pool.refresh(now);
        Status::of(
            &pool,
            &self.inner.keys,
            self.inner.policy_config.name(),
            now,
        )
    }

    /// The keys, in pool order.
    pub fn keys(&self) -> &[ApiKey] {
        &self.inner.keys
    }

    /// The policy's configuration.
    pub fn policy(&self) -> &PolicyConfig {
        &self.inner.policy_config
    }
}
