//! What a group of keys has left: the budgets the API's headers state ([`Observed`]), refilled
//! to the moment asked and less what is in flight ([`GroupBudget`]), and the pace a learned
//! per-minute limit sets. Worked out so a select divides nothing: the divisions are done when
//! an answer arrives.

use std::time::Duration;

use ::http::HeaderMap;
use groq_wire::header;
use tokio::time::Instant;

/// What the last response's headers said about a key's budgets, and which window each
/// counts (the [`crate::provider::Provider`] knows: Groq's request headers count a day).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    /// When the response arrived.
    pub at: Instant,
    /// Request limit (`x-ratelimit-limit-requests`) per `requests_window`.
    pub limit_requests: Option<u64>,
    /// Requests remaining of it.
    pub remaining_requests: Option<u64>,
    /// The window the request headers count.
    pub requests_window: Duration,
    /// Token limit (`x-ratelimit-limit-tokens`) per `tokens_window`.
    pub limit_tokens: Option<u64>,
    /// Tokens remaining of it.
    pub remaining_tokens: Option<u64>,
    /// The window the token headers count.
    pub tokens_window: Duration,
    /// Until the token budget is full.
    pub reset_tokens: Option<Duration>,
}

impl Observed {
    /// Reads the rate-limit headers, the request ones counting `requests_window` and the
    /// token ones `tokens_window`; `None` when there are none.
    pub fn read(
        headers: &HeaderMap,
        at: Instant,
        requests_window: Duration,
        tokens_window: Duration,
    ) -> Option<Self> {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let observed = Self {
            at,
            limit_requests: num(header::LIMIT_REQUESTS),
            remaining_requests: num(header::REMAINING_REQUESTS),
            requests_window,
            limit_tokens: num(header::LIMIT_TOKENS),
            remaining_tokens: num(header::REMAINING_TOKENS),
            tokens_window,
            reset_tokens: headers
                .get(header::RESET_TOKENS)
                .and_then(|v| v.to_str().ok())
                .and_then(groq_wire::goduration::parse),
        };
        (observed.remaining_requests.is_some() || observed.remaining_tokens.is_some())
            .then_some(observed)
    }

    /// Requests left at `now`: the observed value plus refill, capped at the limit.
    pub fn requests_at(&self, now: Instant) -> Option<f64> {
        Refilling::new(
            self.remaining_requests,
            self.limit_requests,
            self.requests_window,
        )
        .map(|r| r.at(now.saturating_duration_since(self.at).as_secs_f64()))
    }

    /// Tokens left at `now`: the observed value plus refill, capped at the limit.
    pub fn tokens_at(&self, now: Instant) -> Option<f64> {
        Refilling::new(self.remaining_tokens, self.limit_tokens, self.tokens_window)
            .map(|r| r.at(now.saturating_duration_since(self.at).as_secs_f64()))
    }
}

/// An observation's budgets with their divisions done when it arrives, not at every select
/// (a division costs more than the rest of a key's check).
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen {
    at: Instant,
    requests: Option<Refilling>,
    tokens: Option<Refilling>,
    limit_requests: Option<u64>,
    limit_tokens: Option<u64>,
    windows: (f64, f64),
}

/// A budget that refills at a steady rate up to its limit.
#[derive(Debug, Clone, Copy)]
struct Refilling {
    left: f64,
    /// The limit (infinite when unknown: no refill, no cap).
    limit: f64,
    per_sec: f64,
    /// 1 / limit, or 0 when the limit is unknown or 0 (no share to speak of).
    per_limit: f64,
}

impl Refilling {
    fn new(remaining: Option<u64>, limit: Option<u64>, window: Duration) -> Option<Self> {
        let left = remaining? as f64;
        Some(match limit {
            Some(limit) => Self {
                left,
                limit: limit as f64,
                per_sec: limit as f64 / window.as_secs_f64().max(1e-9),
                per_limit: if limit > 0 { 1.0 / limit as f64 } else { 0.0 },
            },
            None => Self {
                left,
                limit: f64::INFINITY,
                per_sec: 0.0,
                per_limit: 0.0,
            },
        })
    }

    /// What is left `elapsed` seconds after the observation.
    #[inline]
    fn at(&self, elapsed: f64) -> f64 {
        (self.left + elapsed * self.per_sec).min(self.limit)
    }
}

impl Seen {
    pub(super) fn of(o: &Observed) -> Self {
        Self {
            at: o.at,
            requests: Refilling::new(o.remaining_requests, o.limit_requests, o.requests_window),
            tokens: Refilling::new(o.remaining_tokens, o.limit_tokens, o.tokens_window),
            limit_requests: o.limit_requests,
            limit_tokens: o.limit_tokens,
            windows: (
                o.requests_window.as_secs_f64(),
                o.tokens_window.as_secs_f64(),
            ),
        }
    }

    /// The budget at `now`, less what is in flight.
    #[inline]
    pub(super) fn budget(
        &self,
        now: Instant,
        in_flight: u64,
        in_flight_tokens: u64,
    ) -> GroupBudget {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        let requests = self.requests.map(|r| r.at(elapsed) - in_flight as f64);
        let tokens = self.tokens.map(|t| t.at(elapsed) - in_flight_tokens as f64);
        let share = |left: Option<f64>, budget: Option<Refilling>| match (left, budget) {
            (Some(left), Some(b)) if b.per_limit > 0.0 => left * b.per_limit,
            _ => 1.0,
        };
        GroupBudget {
            requests,
            limit_requests: self.limit_requests,
            tokens,
            limit_tokens: self.limit_tokens,
            windows: self.windows,
            headroom: share(requests, self.requests).min(share(tokens, self.tokens)),
            pacing_secs: 0.0,
        }
    }
}

/// Seconds until a group paced by `paced` (requests counted, when) may send one more under
/// `rpm` a minute (0 when no limit is known).
pub(super) fn pacing_secs(rpm: Option<u64>, paced: (f64, Instant), now: Instant) -> f64 {
    let Some(rpm) = rpm.filter(|&r| r > 0) else {
        return 0.0;
    };
    let over = drained(paced, rpm, now) + 1.0 - rpm as f64;
    if over <= 0.0 {
        0.0
    } else {
        over * 60.0 / rpm as f64
    }
}

/// What is known of a group's budgets, each over the window the provider counts it in
/// (Groq: requests per day, tokens per minute); `None` where nothing was observed.
/// [`Pool::budget`] also works out what the adaptive choice asks of it: the share left and
/// the pacing wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupBudget {
    /// Requests left.
    pub requests: Option<f64>,
    /// Request limit.
    pub limit_requests: Option<u64>,
    /// Tokens left.
    pub tokens: Option<f64>,
    /// Token limit.
    pub limit_tokens: Option<u64>,
    /// Seconds the request and token windows last (the provider says which).
    windows: (f64, f64),
    headroom: f64,
    /// Set by [`super::Pool::budget`], which knows the group's pace.
    pub(super) pacing_secs: f64,
}

impl Default for GroupBudget {
    fn default() -> Self {
        Self::UNKNOWN
    }
}

impl GroupBudget {
    /// Nothing known: no budget observed, no pace learned.
    pub const UNKNOWN: GroupBudget = GroupBudget {
        requests: None,
        limit_requests: None,
        tokens: None,
        limit_tokens: None,
        windows: (0.0, 0.0),
        headroom: 1.0,
        pacing_secs: 0.0,
    };

    /// Seconds until the group's learned per-minute limit lets one more request go.
    pub fn pacing_secs(&self) -> f64 {
        self.pacing_secs
    }

    /// Seconds until one request reserving `tokens` fits the known budgets (zero if it does,
    /// or if nothing is known). A request larger than the whole minute budget is not held
    /// back: the API's 413 says more than a wait would.
    pub fn wait_secs(&self, tokens: u64) -> f64 {
        let mut wait: f64 = 0.0;
        if let (Some(left), Some(limit)) = (self.requests, self.limit_requests)
            && left < 1.0
            && limit > 0
        {
            wait = wait.max((1.0 - left) * self.windows.0 / limit as f64);
        }
        if let (Some(left), Some(limit)) = (self.tokens, self.limit_tokens)
            && (tokens as f64) > left
            && tokens <= limit
        {
            wait = wait.max((tokens as f64 - left) * self.windows.1 / limit as f64);
        }
        wait
    }

    /// Share of the budget left, the tighter of requests and tokens (1.0 when unknown).
    pub fn headroom(&self) -> f64 {
        self.headroom
    }
}

pub(super) fn drained((used, at): (f64, Instant), rpm: u64, now: Instant) -> f64 {
    (used - now.saturating_duration_since(at).as_secs_f64() * rpm as f64 / 60.0).max(0.0)
}
