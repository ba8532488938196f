//! The driver: fires the scenario's requests through a [`Sender`] (the engine's [`Rotor`], or
//! an app under test) at their intended times
//! (open loop) or as users with think time (closed loop), and feeds every finished request
//! to the [`Recorder`] exactly once. Offered = succeeded + failed + dropped, always.
//!
//! Bounded in every dimension:
//! - count and time: the scenario's `requests` and `duration`; after sending ends, requests
//!   in flight get at most [`drain_limit`] to finish, then are recorded as failed
//!   (`unfinished`), so a run's wall time is at most its duration plus that limit;
//! - memory: an open-loop arrival is dropped (k6's `dropped_iterations`), not queued, when
//!   [`MAX_IN_FLIGHT`] requests are already in flight, or the driver reaches it more than
//!   [`MAX_LAG`] after its intended time (so sending outlasts `duration` by at most that);
//! - interruption: it stops sending, waits [`GRACE`] for requests in flight and records the
//!   rest as failed (`interrupted`);
//! - panics: a request or the sender that panics is recorded, and the drive reports it as
//!   an error instead of a measurement.
//!
//! Time is tokio's, so the same code runs in real time and on a paused (simulated) clock.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::drive::workload::{Planned, Schedule, Sized};
use crate::engine::request::reported_tokens;
use crate::engine::transport::Transport;
use crate::engine::{ChatRequest, Rotor, Sent};
use crate::measure::recorder::{Recorder, RequestRecord};
use crate::measure::streaming::{TokenFigures, TokenTimes};
use crate::spec::scenario::{Arrival, Scenario, Traffic};

/// How long in-flight requests may finish after an interruption.
pub const GRACE: Duration = Duration::from_secs(5);
/// Requests in flight at most; further arrivals are dropped until some finish.
pub const MAX_IN_FLIGHT: usize = 10_000;
/// Distinct request bodies kept for reuse; further sizes are built each time.
const BODIES: usize = 1024;

/// An arrival the driver reaches later than this after its intended time is dropped: the
/// driver (or the machine) cannot keep up with the offered rate.
pub const MAX_LAG: Duration = Duration::from_secs(1);

/// How long requests still in flight when sending ends may take to finish: a request's
/// deadline plus one attempt's timeout (an attempt under way at the deadline) plus a second;
/// for an app under test, its answer's timeout plus a second.
pub fn drain_limit(scenario: &Scenario) -> Duration {
    if let Some(app) = scenario.target.app() {
        return app.timeout.saturating_add(Duration::from_secs(1));
    }
    scenario
        .engine
        .deadline
        .saturating_add(scenario.engine.request_timeout)
        .saturating_add(Duration::from_secs(1))
}

/// What a drive produced.
pub struct Driven {
    /// The measurements.
    pub recorder: Recorder,
    /// From the start to the last answer.
    pub span: Duration,
    /// Stopped early by an interruption.
    pub incomplete: bool,
    /// A panic inside the drive: the numbers are not a measurement.
    pub error: Option<String>,
}

/// Progress callbacks (the CLI draws a bar; tests and CI pass [`NoProgress`]).
pub trait Progress: Send + Sync {
    /// Called with the run so far: every second in real time, every few hundred requests
    /// in simulated time, and once at the end.
    fn update(&self, so_far: &Snapshot);

    /// Whether anything is shown: when not, the driver does not build snapshots (a plan or a
    /// sweep runs thousands of simulations with nobody watching).
    fn shown(&self) -> bool {
        true
    }
}

/// No progress output.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: &Snapshot) {}

    fn shown(&self) -> bool {
        false
    }
}

/// The run so far, for a progress view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Time into the run.
    pub elapsed: Duration,
    /// Requests finished (answered, failed or dropped).
    pub finished: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Of those, answered within the latency budget.
    pub goodput: u64,
    /// Requests that failed or were dropped.
    pub failed: u64,
    /// The most common reason among the failed, with its count; `None` before a failure.
    pub top_failure: Option<(String, u64)>,
    /// Upstream 429 answers.
    pub upstream_429: u64,
    /// End-to-end latency of the finished requests, median and 99th percentile (ms); `None`
    /// before the first.
    pub p50_ms: Option<f64>,
    /// See `p50_ms`.
    pub p99_ms: Option<f64>,
    /// Per key: attempts and 429s.
    pub per_key: Vec<(u64, u64)>,
    /// Per key, its state now as the engine sees it ("ready", "cooling 12s", "exhausted
    /// 3h 20m", "disabled"); empty when the sender cannot tell (an app under test).
    pub key_states: Vec<String>,
}

impl Snapshot {
    /// The snapshot of `recorder` at `elapsed`.
    pub fn of(recorder: &Recorder, elapsed: Duration) -> Self {
        let quantile = |q: f64| {
            (!recorder.latency.is_empty())
                .then(|| recorder.latency.value_at_quantile(q) as f64 / 1000.0)
        };
        Snapshot {
            elapsed,
            finished: recorder.offered,
            succeeded: recorder.succeeded,
            goodput: recorder.goodput,
            failed: recorder.offered.saturating_sub(recorder.succeeded),
            top_failure: recorder
                .failed
                .iter()
                .map(|(reason, n)| (reason.as_str(), *n))
                .chain((recorder.dropped > 0).then_some(("dropped", recorder.dropped)))
                .max_by_key(|(_, n)| *n)
                .map(|(reason, n)| (reason.to_owned(), n)),
            upstream_429: recorder.upstream_429,
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            per_key: recorder
                .per_key
                .iter()
                .map(|k| (k.requests, k.rate_limited))
                .collect(),
            key_states: Vec::new(),
        }
    }
}

/// A key's state as the live view shows it: the state's name, and for a resting key how
/// long until it is back (whole seconds).
pub fn key_state_text(state: &str, ready_in_ms: Option<u64>) -> String {
    match ready_in_ms {
        Some(ms) if state != "ready" => {
            let secs = Duration::from_secs(ms.div_ceil(1000));
            format!(
                "{state} {}",
                humantime_serde::re::humantime::format_duration(secs)
            )
        }
        _ => state.to_owned(),
    }
}

/// What the driver sends each request through: the engine's [`Rotor`] (its policy over the
/// keys), or an app under test ([`crate::drive::app::AppSender`]).
pub trait Sender: Send + Sync + 'static {
    /// Sends request `id` (unique within a drive) and says what happened to it.
    fn send(&self, id: u64, request: &ChatRequest) -> impl Future<Output = Sent> + Send;

    /// Sends request `id` asking for a stream, reads the answer to its end and says when its
    /// tokens came ([`crate::measure::streaming`]). Senders that cannot see the events (an app under
    /// test) send it whole and tell no token times.
    fn stream(
        &self,
        id: u64,
        request: &ChatRequest,
    ) -> impl Future<Output = (Sent, Option<TokenTimes>)> + Send {
        async move { (self.send(id, request).await, None) }
    }

    /// Each key's state now, for the live view ([`key_state_text`]); empty when the sender
    /// cannot tell.
    fn key_states(&self) -> Vec<String> {
        Vec::new()
    }
}

impl<T: Transport> Sender for Rotor<T> {
    async fn send(&self, _id: u64, request: &ChatRequest) -> Sent {
        Rotor::send(self, request).await
    }

    async fn stream(&self, _id: u64, request: &ChatRequest) -> (Sent, Option<TokenTimes>) {
        crate::measure::streaming::send(self, request).await
    }

    fn key_states(&self) -> Vec<String> {
        self.status()
            .keys
            .iter()
            .map(|k| key_state_text(k.state, k.ready_in_ms))
            .collect()
    }
}

struct Shared<S> {
    sender: S,
    model: String,
    stream: bool,
    start: Instant,
    books: Mutex<Books>,
    /// Woken every [`PROGRESS_EVERY`] records and when nothing is left in flight.
    wake: Notify,
    /// Woken when the recorder's objective is out of reach ([`Recorder::out_of_reach`]).
    give_up: Notify,
    /// Request bodies built so far, by (prompt, max_tokens).
    bodies: Mutex<HashMap<(u64, u64), ChatRequest>>,
    next_id: AtomicU64,
    stopped: AtomicBool,
    /// The first panic of a request task.
    panicked: Mutex<Option<String>>,
}

/// Records are written by the requests themselves as they finish: no collector task, so a
/// request costs no extra wake-up.
struct Books {
    /// Taken by the drive when it ends; requests still running then are not recorded again.
    recorder: Option<Recorder>,
    /// Requests launched and not yet recorded: id → intended offset. Ids follow launch
    /// order, which is send order: the first entry is the earliest send still unfinished.
    in_flight: BTreeMap<u64, Duration>,
    /// The first error writing a record (per-request CSV); the drive reports it at the end.
    error: Option<std::io::Error>,
}

/// How often (in records) the progress line is updated.
const PROGRESS_EVERY: u64 = 256;

impl<S: Sender> Shared<S> {
    /// Registers a request intended at `intended` and returns its id.
    fn launch(&self, intended: Duration, sized: &Sized) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut books) = self.books.lock() {
            self.offer(&mut books, intended, sized);
            books.in_flight.insert(id, intended);
        }
        id
    }

    /// Writes an offered request to the trace being written, if any.
    fn offer(&self, books: &mut Books, intended: Duration, sized: &Sized) {
        let model = sized.model.as_deref().unwrap_or(&self.model);
        if let Some(recorder) = books.recorder.as_mut()
            && let Err(e) = recorder.offer(intended, sized.prompt_tokens, sized.max_tokens, model)
        {
            books.error.get_or_insert(e);
        }
    }

    /// Registers a request intended at `intended` and returns its id, or records it as
    /// dropped (and returns `None`) when too many are in flight or it is too late to send:
    /// more than [`MAX_LAG`] behind its time, or intended past the end of sending (`until`).
    /// An arrival intended before the end is sent even when the clock has just passed it:
    /// timers fire on whole milliseconds, so the last arrival of a simulated event can be
    /// reached a fraction of a millisecond after the end, and it belongs to the event.
    fn launch_or_drop(
        &self,
        intended: Duration,
        until: Option<Duration>,
        sized: &Sized,
    ) -> Option<u64> {
        let now = self.start.elapsed();
        let past_end = until.is_some_and(|end| intended >= end);
        let late = now.saturating_sub(intended) > MAX_LAG || past_end;
        let Ok(mut books) = self.books.lock() else {
            return None;
        };
        let books = &mut *books;
        if !past_end {
            self.offer(books, intended, sized);
        }
        if late || books.in_flight.len() >= MAX_IN_FLIGHT {
            if let Some(recorder) = books.recorder.as_mut() {
                if let Err(e) = recorder.drop_arrival(intended) {
                    books.error.get_or_insert(e);
                }
                if recorder.out_of_reach() {
                    self.give_up.notify_one();
                }
            }
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        books.in_flight.insert(id, intended);
        Some(id)
    }

    /// Sends one request and records it; a panic is recorded as the request's failure and
    /// kept for the drive to report.
    async fn fire(&self, id: u64, intended: Duration, request: ChatRequest) {
        use futures_util::FutureExt;
        let attempt = async {
            if self.stream {
                self.sender.stream(id, &request).await
            } else {
                (self.sender.send(id, &request).await, None)
            }
        };
        let sent = std::panic::AssertUnwindSafe(attempt).catch_unwind().await;
        let record = match sent {
            Ok((sent, times)) => {
                let mut record = to_record(&sent, intended, self.start.elapsed());
                record.streamed = times
                    .filter(|_| record.failure.is_none())
                    .map(|t| TokenFigures::of(t, self.start, intended));
                record
            }
            Err(panic) => {
                if let Ok(mut first) = self.panicked.lock() {
                    first.get_or_insert(panic_text(panic.as_ref()));
                }
                RequestRecord::failed(intended, self.start.elapsed(), "panic")
            }
        };
        let Ok(mut guard) = self.books.lock() else {
            return;
        };
        let books = &mut *guard;
        // Recorded once only: an interruption may already have written it off.
        let (Some(_), Some(recorder)) = (books.in_flight.remove(&id), books.recorder.as_mut())
        else {
            return;
        };
        let unfinished = books.in_flight.first_key_value().map(|(_, at)| *at);
        if let Err(e) = recorder
            .record(&record)
            .and_then(|()| recorder.settle_rows(unfinished))
        {
            books.error.get_or_insert(e);
        }
        if recorder.out_of_reach() {
            self.give_up.notify_one();
        }
        if books.in_flight.is_empty() || recorder.offered.is_multiple_of(PROGRESS_EVERY) {
            self.wake.notify_one();
        }
    }

    /// The request of these sizes.
    fn request(&self, sized: &Sized) -> ChatRequest {
        match &sized.model {
            Some(model) if *model != self.model => {
                ChatRequest::synthetic(model, sized.prompt_tokens, sized.max_tokens, self.stream)
            }
            _ => self.body(sized.prompt_tokens, sized.max_tokens),
        }
    }

    /// A request of the run's model with these sizes: bodies of the same sizes are
    /// identical, so each is built once (up to [`BODIES`] of them).
    fn body(&self, prompt: u64, max_tokens: u64) -> ChatRequest {
        let build = || ChatRequest::synthetic(&self.model, prompt, max_tokens, self.stream);
        let Ok(mut bodies) = self.bodies.lock() else {
            return build();
        };
        if let Some(known) = bodies.get(&(prompt, max_tokens)) {
            return known.clone();
        }
        let request = build();
        if bodies.len() < BODIES {
            bodies.insert((prompt, max_tokens), request.clone());
        }
        request
    }

    /// Keeps `error` for the end of the run (the first one) and stops sending.
    fn fail(&self, error: std::io::Error) {
        if let Ok(mut books) = self.books.lock() {
            books.error.get_or_insert(error);
        }
    }

    /// Whether nothing is in flight.
    fn idle(&self) -> bool {
        self.books
            .lock()
            .map_or(true, |b| b.recorder.is_none() || b.in_flight.is_empty())
    }

    /// The run so far.
    fn snapshot(&self) -> Snapshot {
        let elapsed = self.start.elapsed();
        self.books
            .lock()
            .ok()
            .and_then(|b| b.recorder.as_ref().map(|r| Snapshot::of(r, elapsed)))
            .map(|mut snapshot| {
                snapshot.key_states = self.sender.key_states();
                snapshot
            })
            .unwrap_or_default()
    }

    /// Flushes requests.csv when its rows have waited a second (an error is kept for the
    /// end of the run, like a failed write).
    fn flush_rows(&self) {
        if let Ok(mut guard) = self.books.lock() {
            let books = &mut *guard;
            if let Some(Err(e)) = books.recorder.as_mut().map(Recorder::flush_rows) {
                books.error.get_or_insert(e);
            }
        }
    }
}

/// The message of a panic's payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

fn to_record(sent: &Sent, intended: Duration, ended: Duration) -> RequestRecord {
    let attempts = &sent.trace.attempts;
    let (failure, degraded, tokens) = match &sent.outcome {
        Ok(reply) => (None, false, reported_tokens(&reply.body).unwrap_or(0)),
        Err(failed) => (Some(failed.reason().to_owned()), failed.degraded, 0),
    };
    RequestRecord {
        intended,
        latency: ended.saturating_sub(intended),
        attempts: attempts.len() as u32,
        keys: attempts.iter().map(|a| a.key).collect(),
        limited_keys: attempts
            .iter()
            .filter(|a| a.failure.as_ref().is_some_and(|f| f.is_rate_limit()))
            .map(|a| a.key)
            .collect(),
        failover: sent.trace.failover(),
        failed_attempts: attempts
            .iter()
            .filter(|a| a.failure.is_some())
            .map(|a| a.end.saturating_sub(a.start))
            .collect(),
        tokens,
        failure,
        degraded,
        streamed: None,
    }
}

/// Open loop: one task per request, launched at its intended time.
async fn open_loop<S: Sender>(
    shared: Arc<Shared<S>>,
    traffic: Traffic,
    seed: u64,
    stop: Arc<Notify>,
) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed_70c3);
    let schedule = match Schedule::new(&traffic, seed) {
        Ok(schedule) => schedule,
        Err(e) => return shared.fail(std::io::Error::other(e.to_string())),
    };
    for planned in schedule {
        // A trace was read whole before the run; an error now means it changed since.
        let Planned { at, sized } = match planned {
            Ok(planned) => planned,
            Err(e) => return shared.fail(std::io::Error::other(e.to_string())),
        };
        // `biased`: select!'s random branch order would make simulations irreproducible.
        tokio::select! {
            biased;
            () = tokio::time::sleep_until(shared.start + at) => {}
            () = stop.notified() => break,
        }
        if shared.stopped.load(Ordering::Relaxed) {
            break;
        }
        // Decided before the request is built: a driver that has fallen behind drops
        // arrivals at the cost of a counter, and catches up.
        let sized = sized.unwrap_or_else(|| Sized::drawn(&traffic, &mut rng));
        let Some(id) = shared.launch_or_drop(at, traffic.duration, &sized) else {
            continue;
        };
        let request = shared.request(&sized);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move { shared.fire(id, at, request).await });
    }
}

/// Closed loop: `users` tasks, each sending, waiting for the answer, thinking, and again;
/// each user's first request comes at a random point of its first think time.
async fn closed_loop<S: Sender>(shared: Arc<Shared<S>>, traffic: Traffic, seed: u64) {
    let (users, think) = match traffic.shape {
        crate::spec::scenario::Shape::Closed { users, think } => (users.0, think),
        _ => (1, Duration::ZERO),
    };
    let cap = traffic.requests.map_or(u64::MAX, |n| n.0 as u64);
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(users);
    for user in 0..users {
        let (shared, traffic, sent) = (Arc::clone(&shared), traffic.clone(), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(seed ^ (user as u64).wrapping_mul(0x9e37_79b9));
            // Users arrive spread over one think time, not all at the first instant.
            tokio::time::sleep(think.mul_f64(rand::Rng::random::<f64>(&mut rng))).await;
            loop {
                let at = shared.start.elapsed();
                if shared.stopped.load(Ordering::Relaxed)
                    || traffic.duration.is_some_and(|d| at >= d)
                    || sent.fetch_add(1, Ordering::Relaxed) >= cap
                {
                    break;
                }
                let sized = Sized::drawn(&traffic, &mut rng);
                let request = shared.request(&sized);
                let id = shared.launch(at, &sized);
                shared.fire(id, at, request).await;
                if !think.is_zero() {
                    // sleep(0) would still wait for the timer's next 1 ms tick.
                    tokio::time::sleep(think).await;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

/// Runs the scenario's traffic through `sender`. `interrupt` completing stops it early.
pub async fn drive<S: Sender>(
    scenario: &Scenario,
    sender: S,
    recorder: Recorder,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> std::io::Result<Driven> {
    let traffic = scenario.traffic.clone();
    let start = Instant::now();
    let shared = Arc::new(Shared {
        sender,
        model: scenario.target.model.clone(),
        stream: traffic.stream,
        start,
        books: Mutex::new(Books {
            recorder: Some(recorder),
            in_flight: BTreeMap::new(),
            error: None,
        }),
        wake: Notify::new(),
        give_up: Notify::new(),
        bodies: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(0),
        stopped: AtomicBool::new(false),
        panicked: Mutex::new(None),
    });
    let stop = Arc::new(Notify::new());
    let sender = if traffic.shape.arrival() == Arrival::Closed {
        tokio::spawn(closed_loop(Arc::clone(&shared), traffic, scenario.seed))
    } else {
        tokio::spawn(open_loop(
            Arc::clone(&shared),
            traffic,
            scenario.seed,
            Arc::clone(&stop),
        ))
    };
    // Giving up ends the run as an interruption does: stop sending, settle what is in flight.
    let interrupt = async {
        tokio::select! {
            biased;
            () = interrupt => {}
            () = shared.give_up.notified() => {}
        }
    };
    let ending = wait_for_the_end(
        &shared,
        sender,
        &stop,
        drain_limit(scenario),
        scenario.mode == crate::spec::scenario::Mode::Real,
        progress,
        interrupt,
    )
    .await;
    settle(&shared, ending, progress)
}

/// How the wait for the end of a drive ended.
struct Ending {
    /// Interrupted.
    interrupted: bool,
    /// The sender task panicked, with its message.
    sender_panic: Option<String>,
}

/// Waits until sending is over and nothing is in flight, or until the drain limit after
/// sending or the grace after an interruption runs out; updates the progress meanwhile
/// (at least every second in `real_time`).
async fn wait_for_the_end<S: Sender>(
    shared: &Shared<S>,
    mut sender: tokio::task::JoinHandle<()>,
    stop: &Notify,
    drain: Duration,
    real_time: bool,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> Ending {
    let mut ending = Ending {
        interrupted: false,
        sender_panic: None,
    };
    let mut sender_done = false;
    let mut until: Option<Instant> = None;
    tokio::pin!(interrupt);
    loop {
        if sender_done && shared.idle() {
            break;
        }
        if progress.shown() {
            progress.update(&shared.snapshot());
        }
        if real_time {
            shared.flush_rows();
        }
        // In real time the view refreshes every second whatever the pace; simulated time
        // has no tick (a timer would change which simulated request reaches the mock first).
        let tick = async {
            if real_time {
                tokio::time::sleep(Duration::from_secs(1)).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let limit = async {
            match until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        // `biased`: select!'s random branch order would perturb task scheduling, and with it
        // which simulated request reaches the mock first (simulations must replay exactly).
        tokio::select! {
            biased;
            () = shared.wake.notified() => {}
            joined = &mut sender, if !sender_done => {
                sender_done = true;
                if let Err(e) = joined && e.is_panic() {
                    ending.sender_panic = Some(panic_text(e.into_panic().as_ref()));
                }
                until.get_or_insert(Instant::now() + drain);
            }
            () = &mut interrupt, if !ending.interrupted => {
                ending.interrupted = true;
                shared.stopped.store(true, Ordering::Relaxed);
                stop.notify_waiters();
                let grace = Instant::now() + GRACE;
                until = Some(until.map_or(grace, |t| t.min(grace)));
            }
            () = limit => break,
            () = tick => {}
        }
    }
    sender.abort();
    ending
}

/// Records what is still in flight (`interrupted`, or `unfinished` past the drain limit),
/// flushes the recorder and hands it over.
fn settle<S: Sender>(
    shared: &Shared<S>,
    ending: Ending,
    progress: &dyn Progress,
) -> std::io::Result<Driven> {
    let now = shared.start.elapsed();
    let lost = || std::io::Error::other("a request panicked while recording");
    let (mut recorder, leftovers, error) = {
        let mut books = shared.books.lock().map_err(|_| lost())?;
        let leftovers: Vec<Duration> = std::mem::take(&mut books.in_flight).into_values().collect();
        (
            books.recorder.take().ok_or_else(lost)?,
            leftovers,
            books.error.take(),
        )
    };
    if let Some(e) = error {
        return Err(e);
    }
    // Nothing offered is lost: what is still in flight is recorded as failed.
    let reason = if ending.interrupted {
        "interrupted"
    } else {
        "unfinished"
    };
    for intended in leftovers {
        recorder.record(&RequestRecord::failed(intended, now, reason))?;
    }
    recorder.finish()?;
    if progress.shown() {
        progress.update(&Snapshot::of(&recorder, now));
    }
    let panicked = shared.panicked.lock().ok().and_then(|p| p.clone());
    let error = ending
        .sender_panic
        .map(|p| format!("the request sender panicked: {p}"))
        .or_else(|| panicked.map(|p| format!("a request panicked: {p}")));
    Ok(Driven {
        span: recorder.last_end,
        recorder,
        incomplete: ending.interrupted,
        error,
    })
}
