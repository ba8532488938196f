//! The [`Rotor`]: a key pool, a policy and a transport. `send` runs the policy's steps for
//! one request — pick a key, send, classify, observe; or wait; or give up — and returns the
//! answer with a trace of every attempt. Clone it freely: clones share one pool. The pool's
//! mutex is held only between awaits, never across one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use tokio::time::Instant;

use super::failure::{self, Failure};
use super::keys::ApiKey;
use super::policy::{Answer, Attempts, GiveUp, Policy, PolicyConfig, Step};
use super::pool::Pool;
use super::provider::{Groq, Provider};
use super::request::ChatRequest;
use super::status::{PoolBudget, Status};
use super::store::link::{Changes, Link};
use super::transport::{Peeked, Reply, StreamReply, Transport, TransportError};

mod shared;

use shared::Gate;

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
    /// [`Rotor::with_store`] on a rotor already cloned.
    #[error("a store must be given before the rotor is cloned")]
    AlreadyShared,
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
    /// Whether the request failed over: it tried a second key. Retries on the same key (a
    /// backoff) are not a failover, and neither is a request refused after its first key
    /// failed without trying another.
    pub fn failed_over(&self) -> bool {
        let mut keys = self.attempts.iter().map(|a| a.key);
        let first = keys.next();
        keys.any(|k| Some(k) != first)
    }

    /// Time lost to failover: total minus the successful attempt's own duration; `None` when
    /// the request did not fail over (never tried a second key) or did not succeed.
    pub fn failover(&self) -> Option<Duration> {
        let last = self.attempts.last()?;
        (self.failed_over() && last.failure.is_none())
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
    /// The last attempt's answer, when it got one (a proxy forwards a 400 as it came).
    pub answer: Option<Reply>,
}

impl Failed {
    /// The reason to report: the last failure's kind, or the give-up reason when no attempt
    /// failed (e.g. no key available).
    pub fn reason(&self) -> &'static str {
        match (&self.last, self.give_up) {
            (_, GiveUp::NoKeyAvailable | GiveUp::Deadline | GiveUp::StateUnavailable) => {
                self.give_up.reason()
            }
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

/// The result of [`Rotor::stream`].
#[derive(Debug)]
pub struct Streamed {
    /// The successful answer, its body still arriving, or why there is none.
    pub outcome: Result<StreamReply, Failed>,
    /// What happened on the way; a successful attempt ends when the caller gets the answer
    /// (for an event stream, at its first chunk).
    pub trace: Trace,
}

/// What one attempt brought back, as the rotor's loop needs it: a whole [`Reply`], or a
/// streaming answer read as far as deciding on it takes.
trait Answered {
    fn status(&self) -> u16;
    fn headers(&self) -> &HeaderMap;
    /// The body read so far.
    fn body(&self) -> &[u8];
    /// The failure it is, if any, as `provider` reads it.
    fn classify(&self, provider: &dyn Provider) -> Option<Failure>;
    /// The answer as far as it was read.
    fn into_reply(self) -> Reply;
}

impl Answered for Reply {
    fn status(&self) -> u16 {
        self.status
    }
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    fn body(&self) -> &[u8] {
        &self.body
    }
    fn classify(&self, provider: &dyn Provider) -> Option<Failure> {
        provider.classify(self.status, &self.headers, &self.body)
    }
    fn into_reply(self) -> Reply {
        self
    }
}

impl Answered for Peeked {
    fn status(&self) -> u16 {
        self.status
    }
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    fn body(&self) -> &[u8] {
        &self.seen
    }
    fn classify(&self, provider: &dyn Provider) -> Option<Failure> {
        match self.rest {
            Some(_) => failure::classify_stream_start(&self.seen),
            None => provider.classify(self.status, &self.headers, &self.seen),
        }
    }
    fn into_reply(self) -> Reply {
        Reply {
            status: self.status,
            headers: self.headers,
            body: self.seen,
        }
    }
}

/// One attempt's outcome, as the pool and the policy are told it.
struct Seen<'a, R> {
    key: usize,
    answer: Option<&'a R>,
    failure: Option<&'a Failure>,
    sent_at: Instant,
    answered_at: Instant,
}

struct Inner<T> {
    keys: Vec<ApiKey>,
    policy: Box<dyn Policy>,
    policy_config: PolicyConfig,
    provider: Box<dyn Provider>,
    transport: T,
    pool: Mutex<Pool>,
    options: RotorOptions,
    store: Option<Link>,
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
        let mut pool = Pool::new(keys.len(), options.seed, Instant::now());
        if provider.keys_share_one_scope() {
            pool.share_all();
        }
        Ok(Self {
            inner: Arc::new(Inner {
                keys,
                policy: policy.build(),
                policy_config: policy,
                provider: Box::new(provider),
                transport,
                pool: Mutex::new(pool),
                options,
                store: None,
            }),
        })
    }

    /// Takes over what `previous` learned of the keys both rotors hold — rests, counters,
    /// budgets, learned limits and shared organisations — so a key set changed while
    /// serving (a proxy's reload) loses nothing of the keys that stay. Keys `previous`
    /// never held start ready. Attempts in flight on `previous` finish there.
    ///
    /// ```
    /// # use keyrotor_engine::{ApiKey, Rotor, RotorOptions};
    /// # use keyrotor_engine::transport::{Reply, Transport, TransportError};
    /// # struct Up;
    /// # impl Transport for Up {
    /// #     async fn send(&self, _: &ApiKey, _: bytes::Bytes) -> Result<Reply, TransportError> {
    /// #         Err(TransportError::Timeout)
    /// #     }
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let old = Rotor::new(vec![ApiKey::new("gsk_a"), ApiKey::new("gsk_b")],
    ///     "adaptive".parse()?, Up, RotorOptions::default())?;
    /// // gsk_a leaked: replaced by gsk_c; gsk_b keeps its state.
    /// let new = Rotor::new(vec![ApiKey::new("gsk_b"), ApiKey::new("gsk_c")],
    ///     "adaptive".parse()?, Up, RotorOptions::default())?
    ///     .inherit(&old);
    /// assert_eq!(new.keys().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn inherit<U: Transport>(self, previous: &Rotor<U>) -> Self {
        let from: Vec<Option<usize>> = self
            .inner
            .keys
            .iter()
            .map(|key| {
                previous
                    .inner
                    .keys
                    .iter()
                    .position(|old| old.expose() == key.expose())
            })
            .collect();
        let now = Instant::now();
        // One lock at a time: `previous` may share this rotor's pool.
        let carried = {
            let mut old = previous.pool();
            old.refresh(now);
            Pool::carried(&old, &from, self.inner.options.seed, now)
        };
        *self.pool() = carried;
        self
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
        let (outcome, trace) = self
            .run(request, |k, body| {
                inner.transport.send(&inner.keys[k], body)
            })
            .await;
        Sent { outcome, trace }
    }

    /// Sends one request like [`Rotor::send`], but hands over a successful answer as soon as
    /// its head has arrived, its body streaming as the API sends it
    /// ([`crate::transport::Transport::open`]). Failover happens before the caller gets a
    /// byte, never after: an event stream is judged on its first chunk (an error event fails
    /// over), any other answer on its whole body. Budgets settle on the request's reserved
    /// tokens, since a stream's usage comes after the caller has it.
    pub async fn stream(&self, request: &ChatRequest) -> Streamed {
        let inner = &*self.inner;
        let (outcome, trace) = self
            .run(request, |k, body| async move {
                Peeked::read(inner.transport.open(&inner.keys[k], body).await?).await
            })
            .await;
        Streamed {
            outcome: outcome.map(Peeked::into_reply),
            trace,
        }
    }

    /// The policy's steps for one request, with `attempt` sending it with key `k`.
    async fn run<R, F, Fut>(&self, request: &ChatRequest, attempt: F) -> (Result<R, Failed>, Trace)
    where
        R: Answered,
        F: Fn(usize, Bytes) -> Fut,
        Fut: Future<Output = Result<R, TransportError>>,
    {
        let options = &self.inner.options;
        let started = Instant::now();
        let deadline = started + options.deadline;
        let mut attempts = Attempts::new(request.reserved_tokens, started, deadline);
        if let Some(budget) = options.budget {
            attempts.budget_end = deadline.min(started + budget);
        }
        let mut trace = Trace::default();
        let mut last_answer = None;
        let mut held = (None, 0);
        if let Some(link) = self.inner.store.as_ref().filter(|l| !l.pulled()) {
            self.pull(link).await;
        }
        let outcome = loop {
            match self.next_step(request, &mut attempts) {
                Step::Try(k) => {
                    let mut probing = false;
                    if let Some(link) = &self.inner.store {
                        match self.gate(link, k, request, &mut held).await {
                            Gate::Go { probing: lease } => probing = lease,
                            Gate::Again => continue,
                            Gate::Refuse => {
                                attempts.stop = Some(GiveUp::StateUnavailable);
                                continue;
                            }
                        }
                    }
                    let answer =
                        self.attempt((k, probing), request, &mut attempts, &mut trace, &attempt);
                    match answer.await {
                        Ok(answer) => break Ok(answer),
                        Err(answer) => last_answer = answer.or(last_answer),
                    }
                }
                Step::Wait(wait) => {
                    tokio::time::sleep(wait).await;
                    trace.waited += wait;
                }
                Step::Fail(give_up) => {
                    let mut failed = self.failed(give_up, &attempts, &trace);
                    failed.answer = last_answer.map(Answered::into_reply);
                    break Err(failed);
                }
            }
        };
        trace.total = started.elapsed();
        (outcome, trace)
    }

    /// What to do next: a give-up already decided, the deadline, a wait asked for by the last
    /// answer (cut at the deadline), or the policy's choice (a key is reserved when tried).
    fn next_step(&self, request: &ChatRequest, attempts: &mut Attempts) -> Step {
        let now = Instant::now();
        if let Some(give_up) = attempts.stop {
            Step::Fail(give_up)
        } else if now >= attempts.deadline {
            Step::Fail(GiveUp::Deadline)
        } else if let Some(wait) = attempts.wait_next.take() {
            Step::Wait(wait.min(attempts.deadline.saturating_duration_since(now)))
        } else {
            let mut pool = self.pool();
            pool.refresh(now);
            let step = self.inner.policy.next(&mut pool, attempts, now);
            if let (Step::Try(k), None) = (step, &self.inner.store) {
                pool.on_send(k, request.reserved_tokens, now);
            }
            step
        }
    }

    /// One attempt with key `k` (holding its probe lease when `probing`): sent, classified,
    /// observed by pool and policy, traced; its rests and the lease's end published.
    /// `Ok` with a successful answer; `Err` with a failed one, if there was an answer.
    async fn attempt<R, F, Fut>(
        &self,
        (k, probing): (usize, bool),
        request: &ChatRequest,
        attempts: &mut Attempts,
        trace: &mut Trace,
        attempt: &F,
    ) -> Result<R, Option<R>>
    where
        R: Answered,
        F: Fn(usize, Bytes) -> Fut,
        Fut: Future<Output = Result<R, TransportError>>,
    {
        attempts.count += 1;
        attempts.mark_tried(k);
        let sent_at = Instant::now();
        let result = attempt(k, request.body.clone()).await;
        let answered_at = Instant::now();
        let failure = match &result {
            Ok(answer) => answer.classify(&*self.inner.provider),
            Err(TransportError::Timeout) => Some(Failure::Timeout),
            Err(TransportError::Connection(_)) => Some(Failure::Connection),
        };
        let seen = Seen {
            key: k,
            answer: result.as_ref().ok(),
            failure: failure.as_ref(),
            sent_at,
            answered_at,
        };
        let changes = self.observe(request, attempts, seen);
        if let Some(link) = &self.inner.store {
            let released = probing.then_some(k);
            if changes.is_some() || released.is_some() {
                self.publish(link, &changes.unwrap_or_default(), released)
                    .await;
            }
        }
        trace.attempts.push(Attempt {
            key: k,
            start: sent_at - attempts.started,
            end: answered_at - attempts.started,
            failure: failure.clone(),
        });
        match (failure, result) {
            (None, Ok(answer)) => Ok(answer),
            (_, answer) => Err(answer.ok()),
        }
    }

    /// Tells the pool and the policy what an attempt brought; with a store, returns what it
    /// changed that the other replicas should know, when there is something to publish.
    fn observe<R: Answered>(
        &self,
        request: &ChatRequest,
        attempts: &mut Attempts,
        seen: Seen<'_, R>,
    ) -> Option<Changes> {
        let inner = &*self.inner;
        let at = seen.answered_at;
        let mut pool = self.pool();
        let before = inner.store.as_ref().map(|_| Link::before(&pool));
        let observed = seen
            .answer
            .and_then(|a| inner.provider.observe(a.headers(), at));
        pool.on_answer(
            seen.key,
            request.reserved_tokens,
            seen.failure,
            observed,
            at,
        );
        if seen.failure.is_none() {
            pool.record_service(at - seen.sent_at);
        }
        let answer = Answer {
            failure: seen.failure,
            status: seen.answer.map(Answered::status),
            body: seen.answer.map_or(&[][..], Answered::body),
        };
        inner
            .policy
            .observe(&mut pool, attempts, seen.key, answer, at);
        let window = inner.policy.counts_errors();
        before.and_then(|before| Link::changes(&pool, &before, at, window))
    }

    /// The give-up, with a truthful `retry_after`: the policy's, or when no key is ready the
    /// earliest one back.
    fn failed(&self, give_up: GiveUp, attempts: &Attempts, trace: &Trace) -> Failed {
        let retry_after = attempts.retry_after.or_else(|| {
            let pool = self.pool();
            let none_ready = (0..pool.len()).all(|k| !pool.is_ready(k));
            let back = pool.earliest_ready().filter(|_| none_ready);
            back.map(|at| at.saturating_duration_since(Instant::now()))
        });
        Failed {
            give_up,
            last: trace.attempts.last().and_then(|a| a.failure.clone()),
            degraded: attempts.degraded,
            retry_after,
            answer: None,
        }
    }

    /// What the pool as a whole has left by the rate-limit headers its keys returned.
    pub fn budget(&self) -> PoolBudget {
        let now = Instant::now();
        let mut pool = self.pool();
        pool.refresh(now);
        PoolBudget::of(&pool, now)
    }

    /// A snapshot of every key's state and the totals.
    pub fn status(&self) -> Status {
        let now = Instant::now();
        let mut pool = self.pool();
        pool.refresh(now);
        let mut status = Status::of(
            &pool,
            &self.inner.keys,
            self.inner.policy_config.name(),
            now,
        );
        status.store = self.inner.store.as_ref().map(|link| link.status(now));
        status
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
