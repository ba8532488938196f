//! The driver: fires the scenario's requests through a [`Rotor`] at their intended times
//! (open loop) or as users with think time (closed loop), and feeds every finished request
//! to the [`Recorder`] exactly once. Bounded by the scenario's `duration` and `requests`;
//! on interruption it stops sending, waits briefly for requests in flight, and records the
//! ones still unfinished as failed (`interrupted`), so offered = succeeded + failed always.
//!
//! Time is tokio's, so the same code runs in real time and on a paused (simulated) clock.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::engine::request::reported_tokens;
use crate::engine::transport::Transport;
use crate::engine::{ChatRequest, Rotor, Sent};
use crate::recorder::{Recorder, RequestRecord};
use crate::scenario::{Arrival, Scenario, Traffic};
use crate::workload::{Arrivals, sample_tokens};

/// How long in-flight requests may finish after an interruption.
pub const GRACE: Duration = Duration::from_secs(5);

/// What a drive produced.
pub struct Driven {
    /// The measurements.
    pub recorder: Recorder,
    /// From the start to the last answer.
    pub span: Duration,
    /// Stopped early by an interruption.
    pub incomplete: bool,
}

/// Progress callbacks (the CLI draws a bar; tests and CI pass [`NoProgress`]).
pub trait Progress: Send + Sync {
    /// Called with requests finished and succeeded so far, and the time into the run.
    fn update(&self, finished: u64, succeeded: u64, elapsed: Duration);
}

/// No progress output.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: u64, _: u64, _: Duration) {}
}

struct Shared<T> {
    rotor: Rotor<T>,
    model: String,
    stream: bool,
    start: Instant,
    books: Mutex<Books>,
    /// Woken every [`PROGRESS_EVERY`] records and when nothing is left in flight.
    wake: Notify,
    next_id: AtomicU64,
    stopped: AtomicBool,
}

/// Records are written by the requests themselves as they finish: no collector task, so a
/// request costs no extra wake-up.
struct Books {
    /// Taken by the drive when it ends; requests still running then are not recorded again.
    recorder: Option<Recorder>,
    /// Requests launched and not yet recorded: id → intended offset.
    in_flight: HashMap<u64, Duration>,
    /// The first error writing a record (per-request CSV); the drive reports it at the end.
    error: Option<std::io::Error>,
}

/// How often (in records) the progress line is updated.
const PROGRESS_EVERY: u64 = 256;

impl<T: Transport> Shared<T> {
    /// Registers a request intended at `intended` and returns its id.
    fn launch(&self, intended: Duration) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut books) = self.books.lock() {
            books.in_flight.insert(id, intended);
        }
        id
    }

    /// Sends one request and records it.
    async fn fire(&self, id: u64, intended: Duration, request: ChatRequest) {
        let sent = self.rotor.send(&request).await;
        let record = to_record(&sent, intended, self.start.elapsed());
        let Ok(mut guard) = self.books.lock() else {
            return;
        };
        let books = &mut *guard;
        // Recorded once only: an interruption may already have written it off.
        let (Some(_), Some(recorder)) = (books.in_flight.remove(&id), books.recorder.as_mut())
        else {
            return;
        };
        if let Err(e) = recorder.record(&record) {
            books.error.get_or_insert(e);
        }
        if books.in_flight.is_empty() || recorder.offered.is_multiple_of(PROGRESS_EVERY) {
            self.wake.notify_one();
        }
    }

    fn request(&self, traffic: &Traffic, rng: &mut SmallRng) -> ChatRequest {
        let prompt = sample_tokens(&traffic.prompt_tokens, rng);
        let max_tokens = sample_tokens(&traffic.completion_tokens, rng);
        ChatRequest::synthetic(&self.model, prompt, max_tokens, self.stream)
    }

    /// Records finished and succeeded so far, and whether none is in flight.
    fn tally(&self) -> (u64, u64, bool) {
        self.books
            .lock()
            .map_or((0, 0, true), |b| match &b.recorder {
                Some(r) => (r.offered, r.succeeded, b.in_flight.is_empty()),
                None => (0, 0, true),
            })
    }
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
        tokens,
        failure,
        degraded,
    }
}

/// Open loop: one task per request, launched at its intended time.
async fn open_loop<T: Transport>(
    shared: Arc<Shared<T>>,
    traffic: Traffic,
    seed: u64,
    stop: Arc<Notify>,
) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed_70c3);
    for at in Arrivals::new(&traffic, seed) {
        // `biased`: select!'s random branch order would make simulations irreproducible.
        tokio::select! {
            biased;
            () = tokio::time::sleep_until(shared.start + at) => {}
            () = stop.notified() => break,
        }
        if shared.stopped.load(Ordering::Relaxed) {
            break;
        }
        let request = shared.request(&traffic, &mut rng);
        let id = shared.launch(at);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move { shared.fire(id, at, request).await });
    }
}

/// Closed loop: `users` tasks, each sending, waiting for the answer, thinking, and again;
/// each user's first request comes at a random point of its first think time.
async fn closed_loop<T: Transport>(shared: Arc<Shared<T>>, traffic: Traffic, seed: u64) {
    let users = traffic.users.map_or(1, |u| u.0);
    let cap = traffic.requests.map_or(u64::MAX, |n| n.0 as u64);
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(users);
    for user in 0..users {
        let (shared, traffic, sent) = (Arc::clone(&shared), traffic.clone(), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(seed ^ (user as u64).wrapping_mul(0x9e37_79b9));
            // Users arrive spread over one think time, not all at the first instant.
            let think = traffic.think.unwrap_or_default();
            tokio::time::sleep(think.mul_f64(rand::Rng::random::<f64>(&mut rng))).await;
            loop {
                let at = shared.start.elapsed();
                if shared.stopped.load(Ordering::Relaxed)
                    || traffic.duration.is_some_and(|d| at >= d)
                    || sent.fetch_add(1, Ordering::Relaxed) >= cap
                {
                    break;
                }
                let request = shared.request(&traffic, &mut rng);
                let id = shared.launch(at);
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

/// Runs the scenario's traffic through `rotor`. `interrupt` completing stops it early.
pub async fn drive<T: Transport>(
    scenario: &Scenario,
    rotor: Rotor<T>,
    recorder: Recorder,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
) -> std::io::Result<Driven> {
    let traffic = scenario.traffic.clone();
    let start = Instant::now();
    let shared = Arc::new(Shared {
        rotor,
        model: scenario.target.model.clone(),
        stream: traffic.stream,
        start,
        books: Mutex::new(Books {
            recorder: Some(recorder),
            in_flight: HashMap::new(),
            error: None,
        }),
        wake: Notify::new(),
        next_id: AtomicU64::new(0),
        stopped: AtomicBool::new(false),
    });
    let stop = Arc::new(Notify::new());
    let mut sender = if traffic.arrival == Arrival::Closed {
        tokio::spawn(closed_loop(Arc::clone(&shared), traffic, scenario.seed))
    } else {
        tokio::spawn(open_loop(
            Arc::clone(&shared),
            traffic,
            scenario.seed,
            Arc::clone(&stop),
        ))
    };

    let mut incomplete = false;
    let mut sender_done = false;
    let mut grace_until: Option<Instant> = None;
    tokio::pin!(interrupt);
    loop {
        let (finished, succeeded, idle) = shared.tally();
        if sender_done && idle {
            break;
        }
        progress.update(finished, succeeded, start.elapsed());
        let grace = async {
            match grace_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        // `biased`: select!'s random branch order would perturb task scheduling, and with it
        // which simulated request reaches the mock first (simulations must replay exactly).
        tokio::select! {
            biased;
            () = shared.wake.notified() => {}
            _ = &mut sender, if !sender_done => sender_done = true,
            () = &mut interrupt, if grace_until.is_none() => {
                incomplete = true;
                shared.stopped.store(true, Ordering::Relaxed);
                stop.notify_waiters();
                grace_until = Some(Instant::now() + GRACE);
            }
            () = grace => break,
        }
    }
    sender.abort();
    let now = start.elapsed();
    let lost = || std::io::Error::other("a request panicked while recording");
    let (mut recorder, leftovers, error) = {
        let mut books = shared.books.lock().map_err(|_| lost())?;
        let leftovers: Vec<Duration> = books.in_flight.drain().map(|(_, at)| at).collect();
        (
            books.recorder.take().ok_or_else(lost)?,
            leftovers,
            books.error.take(),
        )
    };
    if let Some(e) = error {
        return Err(e);
    }
    // Whatever is still in flight is recorded as interrupted: nothing offered is lost.
    for intended in leftovers {
        incomplete = true;
        recorder.record(&RequestRecord {
            intended,
            latency: now.saturating_sub(intended),
            attempts: 0,
            keys: Vec::new(),
            limited_keys: Vec::new(),
            failover: None,
            tokens: 0,
            failure: Some("interrupted".to_owned()),
            degraded: false,
        })?;
    }
    recorder.finish()?;
    progress.update(recorder.offered, recorder.succeeded, start.elapsed());
    let span = recorder.last_end;
    Ok(Driven {
        recorder,
        span,
        incomplete,
    })
}
