//! `adaptive` — keyrotor's policy, built on what the seeds' users complain about:
//!
//! - Budgets: every answer's rate-limit headers update the key's known daily requests and
//!   minute tokens; keys learned to share one organisation ([`Pool`] docs) share one budget.
//!   A key whose group cannot fit the request (requests left < 1, tokens left < reserved) is
//!   not chosen, so calls are not spent on 429s.
//! - Pacing: the per-minute request limit (from a 429's "Limit N", or `rpm_hint`) is paced
//!   locally per group.
//! - Choice: among usable keys, the group with the most headroom; ties go to the key used
//!   least recently (so no primary is hammered).
//! - 429: the key's whole group cools exactly until the reset the answer states, per-minute
//!   (cooling) and per-day (exhausted) told apart; when it is back, one probe request at a
//!   time tests it (half-open), so the requests that waited do not all rush it. After a
//!   daily limit (which no header shows), each success rests the key for exactly the refill
//!   of what the request took.
//! - Nothing usable: wait for the earliest key, if it can answer (its return, the waiters
//!   ahead served one pacing slot each, plus a typical attempt) before the user's budget ends,
//!   the deadline, and `max_wait` from the request's start; otherwise fail with
//!   `no_key_available` at once, saying when a key is back (a truthful `retry-after`).
//! - Waiters are served first come, first served: a request that waits takes a ticket, and a
//!   usable key goes to the oldest ticket, not to whoever happens to run first.
//!
//! DESIGN NOTE (simulation = reality): without tickets, which waiter got a key that came back
//! depended on wake-up order. On tokio's paused clock every waiter woke exactly on time, before
//! any newcomer at that instant; in real time a waiter wakes a millisecond late and newcomers
//! in that millisecond took its slot. The same scenario then gave a median latency of 14 s
//! simulated and 0.9 s real (Poisson 400/min on 5 free keys). Any decision that depends on
//! which of two tasks runs first is a decision the simulation cannot reproduce: make the order
//! explicit (here, tickets), never leave it to the scheduler.
//! - 413 fails fast without rotating; 401 disables the key and says so; 5xx, 503, 498,
//!   timeouts and dropped connections retry on another key after a jittered backoff, up to
//!   `max_attempts` attempts.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{
    Answer, Attempts, GiveUp, Policy, Step, jittered_backoff, within, within_backoff_base,
};
use crate::failure::{Dimension, Failure, Scope};
use crate::pool::{Health, Pool};
use crate::request::reported_tokens;

/// Parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Longest a request waits for a key, counted from its start.
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
    /// Attempts per request.
    pub max_attempts: u32,
    /// First backoff after a server error or transport failure (doubles, full jitter, ≤ 2 s).
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    /// Requests per minute per organisation, when known in advance (else learned from 429s).
    pub rpm_hint: Option<u64>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_secs(30),
            max_attempts: 4,
            backoff_base: Duration::from_millis(100),
            rpm_hint: None,
        }
    }
}

impl Params {
    /// Checks each parameter against its range.
    pub fn validate(&self) -> Result<(), super::OutOfRange> {
        within(
            "max_wait",
            self.max_wait,
            Duration::ZERO,
            Duration::from_secs(3600),
        )?;
        within("max_attempts", self.max_attempts, 1, 100)?;
        within_backoff_base(self.backoff_base)?;
        match self.rpm_hint {
            Some(rpm) => within("rpm_hint", rpm, 1, 10_000_000),
            None => Ok(()),
        }
    }
}

/// The policy: its parameters and its queue of waiting requests.
#[derive(Debug)]
pub struct Adaptive {
    params: Params,
    queue: Mutex<Queue>,
    /// How many wait in `queue`, readable without its lock (the common case, nobody
    /// waiting, never takes it).
    waiting: AtomicUsize,
}

impl Adaptive {
    /// The policy with `params`.
    pub fn new(params: Params) -> Self {
        Self {
            params,
            queue: Mutex::new(Queue::default()),
            waiting: AtomicUsize::new(0),
        }
    }
}

/// Requests waiting for a key, oldest first.
#[derive(Debug, Default)]
struct Queue {
    next_ticket: u64,
    /// (ticket, when it plans to look again, when it stops waiting in any case).
    waiting: VecDeque<(u64, Instant, Instant)>,
}

impl Queue {
    /// Forgets tickets whose holders have stopped waiting (given up, or dropped mid-wait).
    fn purge(&mut self, now: Instant) {
        self.waiting.retain(|&(_, _, until)| until > now);
    }

    fn position(&self, ticket: Option<u64>) -> Option<usize> {
        ticket.and_then(|t| self.waiting.iter().position(|w| w.0 == t))
    }

    fn leave(&mut self, ticket: Option<u64>) {
        if let Some(i) = self.position(ticket) {
            self.waiting.remove(i);
        }
    }
}

/// Waits used when a 429 states none.
const DEFAULT_MINUTE_WAIT: Duration = Duration::from_secs(2);
const DEFAULT_DAY_WAIT: Duration = Duration::from_secs(600);
const BACKOFF_CAP: Duration = Duration::from_secs(2);
const DAY: Duration = Duration::from_secs(86_400);
/// How often a request waiting on a probing key looks again.
const PROBE_POLL: Duration = Duration::from_millis(100);

impl Adaptive {
    /// The best usable key, and else the earliest instant one becomes usable.
    fn choose(
        &self,
        pool: &mut Pool,
        request: &Attempts,
        now: Instant,
        allow_tried: bool,
    ) -> (Option<usize>, Option<Instant>) {
        let mut best: Option<(f64, Option<Instant>, usize)> = None;
        let mut earliest: Option<Instant> = None;
        for k in 0..pool.len() {
            if !pool.is_ready(k) || (!allow_tried && request.tried(k)) {
                continue;
            }
            // Half-open: a key back from a 429 takes one probe at a time, so requests that
            // waited for it do not all rush it at once.
            let key = &pool.keys[k];
            if (key.limited || key.day_limited.is_some()) && key.in_flight > 0 {
                let at = now + PROBE_POLL;
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
                continue;
            }
            let budget = pool.budget(k, now);
            // Seconds as f64 on this hot path: a Duration conversion per key costs more than
            // the rest of the check.
            let wait = budget
                .wait_secs(request.reserved_tokens)
                .max(budget.pacing_secs());
            if wait > 0.0 {
                // A wait beyond what an Instant holds means never (no panic on odd budgets).
                let at = Duration::try_from_secs_f64(wait)
                    .ok()
                    .and_then(|w| now.checked_add(w));
                if let Some(at) = at {
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
                continue;
            }
            let headroom = budget.headroom();
            let last_used = pool.keys[k].last_used;
            let better = match best {
                None => true,
                Some((h, used, _)) => {
                    headroom > h + 1e-9 || ((headroom - h).abs() <= 1e-9 && last_used < used)
                }
            };
            if better {
                best = Some((headroom, last_used, k));
            }
        }
        match best {
            Some((_, _, k)) => (Some(k), None),
            // Only needed when nothing is usable now: when do resting keys come back?
            None => {
                let resting = pool.earliest_ready();
                (None, earliest.into_iter().chain(resting).min())
            }
        }
    }
}

impl Adaptive {
    /// The step when the queue is involved: someone waits, this request holds a ticket, or
    /// no key is usable. First come, first served: a usable key goes to the oldest waiter.
    fn queued_step(
        &self,
        pool: &Pool,
        request: &mut Attempts,
        queue: &mut Queue,
        (chosen, earliest): (Option<usize>, Option<Instant>),
        now: Instant,
    ) -> Step {
        let ahead = queue
            .position(request.ticket)
            .unwrap_or(queue.waiting.len());
        if let Some(k) = chosen
            && ahead == 0
        {
            queue.leave(request.ticket);
            request.ticket = None;
            return Step::Try(k);
        }
        // Wait only for a key that can still answer before the user stops waiting: its
        // return, a pacing slot for each waiter ahead, and a typical attempt must fit the
        // budget (and the deadline, and max_wait).
        let limit = request
            .deadline
            .min(request.budget_end)
            .min(request.started + self.params.max_wait);
        let service = pool.service_estimate();
        let queued =
            Duration::try_from_secs_f64(pool.slot_secs() * ahead as f64).unwrap_or(Duration::MAX);
        let back = if chosen.is_some() {
            Some(now)
        } else {
            earliest
        };
        match back.and_then(|at| at.checked_add(queued)) {
            Some(at) if at.checked_add(service).is_some_and(|end| end <= limit) => {
                // Look again when the key is back, or when the waiter ahead plans to.
                let look = match ahead {
                    0 => at,
                    n => queue.waiting[n - 1].1.max(back.unwrap_or(now)),
                }
                .max(now + Duration::from_millis(1));
                match queue.position(request.ticket) {
                    Some(i) => queue.waiting[i].1 = look,
                    None => {
                        let ticket = queue.next_ticket;
                        queue.next_ticket += 1;
                        queue.waiting.push_back((ticket, look, limit));
                        request.ticket = Some(ticket);
                    }
                }
                Step::Wait(look.saturating_duration_since(now))
            }
            at => {
                queue.leave(request.ticket);
                request.ticket = None;
                request.retry_after = at.map(|at| at.saturating_duration_since(now));
                Step::Fail(GiveUp::NoKeyAvailable)
            }
        }
    }
}

impl Policy for Adaptive {
    fn paces(&self) -> bool {
        true
    }

    fn next(&self, pool: &mut Pool, request: &mut Attempts, now: Instant) -> Step {
        if let Some(hint) = self.params.rpm_hint {
            for key in pool.keys.iter_mut().filter(|k| k.rpm_limit.is_none()) {
                key.rpm_limit = Some(hint);
            }
        }
        let tired = request.count >= self.params.max_attempts;
        let (mut chosen, mut earliest) = (None, None);
        if !tired {
            (chosen, earliest) = self.choose(pool, request, now, false);
            if chosen.is_none() && request.count > 0 {
                (chosen, earliest) = self.choose(pool, request, now, true);
            }
            // The common case touches no queue: a usable key, nobody waiting, no ticket.
            if let Some(k) = chosen
                && request.ticket.is_none()
                && self.waiting.load(Ordering::Relaxed) == 0
            {
                return Step::Try(k);
            }
        }
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.purge(now);
        let step = if tired {
            queue.leave(request.ticket);
            request.ticket = None;
            Step::Fail(GiveUp::AllKeysFailed)
        } else {
            self.queued_step(pool, request, &mut queue, (chosen, earliest), now)
        };
        self.waiting.store(queue.waiting.len(), Ordering::Relaxed);
        step
    }

    fn observe(
        &self,
        pool: &mut Pool,
        request: &mut Attempts,
        key: usize,
        answer: Answer<'_>,
        now: Instant,
    ) {
        let Some(failure) = answer.failure else {
            pace_spent_day(pool, key, answer.body, request.reserved_tokens, now);
            return;
        };
        match failure {
            Failure::RateLimited {
                scope: Scope::Day,
                dimension: Some(dimension),
                limit: Some(limit),
                wait,
                ..
            } => {
                pool.keys[key].day_limited = Some((*dimension, *limit, now));
                pool.set_group_health(
                    key,
                    Health::Exhausted {
                        until: now + wait.unwrap_or(DEFAULT_DAY_WAIT),
                    },
                );
            }
            Failure::RateLimited { scope, wait, .. } => {
                let health = match scope {
                    Scope::Minute => Health::Cooling {
                        until: now + wait.unwrap_or(DEFAULT_MINUTE_WAIT),
                    },
                    Scope::Day => Health::Exhausted {
                        until: now + wait.unwrap_or(DEFAULT_DAY_WAIT),
                    },
                };
                pool.set_group_health(key, health);
            }
            Failure::TooLarge | Failure::BadRequest { .. } => {
                request.stop = Some(GiveUp::NotRetryable)
            }
            Failure::Unauthorized => {
                pool.keys[key].health = Health::Disabled {
                    reason: "401: the API rejected the key (invalid or revoked)".to_owned(),
                    until: None,
                };
            }
            Failure::OverCapacity { .. }
            | Failure::ServerError { .. }
            | Failure::StreamError
            | Failure::MalformedAnswer
            | Failure::Timeout
            | Failure::Connection => {
                request.wait_next = Some(jittered_backoff(
                    self.params.backoff_base,
                    request.count.saturating_sub(1),
                    BACKOFF_CAP,
                    &mut pool.rng,
                ));
            }
        }
    }
}

/// After a success on a key whose daily budget ran out within the day: a rest for exactly
/// the refill of what this request took, since no header will say when the next one fits
/// (`reserved` tokens when the answer does not report its usage). A day after the 429 the
/// key is paced no more.
fn pace_spent_day(pool: &mut Pool, key: usize, body: &[u8], reserved: u64, now: Instant) {
    let Some((dimension, limit, since)) = pool.keys[key].day_limited else {
        return;
    };
    if now.saturating_duration_since(since) >= DAY {
        pool.keys[key].day_limited = None;
        return;
    }
    if limit == 0 {
        return;
    }
    let cost = match dimension {
        Dimension::Requests => 1.0,
        Dimension::Tokens => reported_tokens(body).unwrap_or(reserved) as f64,
    };
    let rest = Duration::from_secs_f64(cost * DAY.as_secs_f64() / limit as f64);
    pool.set_group_health(key, Health::Exhausted { until: now + rest });
}
