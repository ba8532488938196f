//! The rate-limit ledger of one organisation and model: four continuously refilling
//! buckets (RPM, RPD, TPM, TPD), as Groq's reset headers show them to behave
//! (shared/GROQ.md §2: reset = used × window / limit).
//!
//! A bucket of limit `L` over window `W` drains its usage at `L / W` per second and admits a
//! cost `c` while `used + c ≤ L`. Over any interval of length `T` it therefore admits at most
//! `L + L·T/W` — one full burst plus the refill — and `L` per `W` sustained.
//!
//! Tokens are reserved at admission (prompt estimate + `max_tokens`) and settled to the
//! actual usage when the response is complete ([`Ledger::settle`]).
//!
//! The ledger is pure: every method takes `now` (time since the mock started, on the mock's
//! possibly scaled clock), so real, scaled and paused clocks and property tests all drive the
//! same code.

use std::time::Duration;

use serde::Serialize;

use crate::catalog::Limits;

/// One of the four limit dimensions; serialized by its [`Window::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Requests per minute.
    Rpm,
    /// Requests per day.
    Rpd,
    /// Tokens per minute.
    Tpm,
    /// Tokens per day.
    Tpd,
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Window {
    /// All windows, in the ledger's bucket order.
    pub const ALL: [Window; 4] = [Window::Rpm, Window::Rpd, Window::Tpm, Window::Tpd];

    /// Its name as the admin view and the metrics spell it: `rpm`, `rpd`, `tpm`, `tpd`.
    pub fn name(self) -> &'static str {
        match self {
            Window::Rpm => "rpm",
            Window::Rpd => "rpd",
            Window::Tpm => "tpm",
            Window::Tpd => "tpd",
        }
    }

    /// Length of the window in seconds.
    pub fn seconds(self) -> f64 {
        match self {
            Window::Rpm | Window::Tpm => 60.0,
            Window::Rpd | Window::Tpd => 86_400.0,
        }
    }

    /// The phrase Groq's 429 message uses, e.g. `tokens per minute (TPM)`.
    pub fn phrase(self) -> &'static str {
        match self {
            Window::Rpm => "requests per minute (RPM)",
            Window::Rpd => "requests per day (RPD)",
            Window::Tpm => "tokens per minute (TPM)",
            Window::Tpd => "tokens per day (TPD)",
        }
    }

    /// The error `type` Groq sends: `requests` or `tokens`.
    pub fn kind(self) -> &'static str {
        match self {
            Window::Rpm | Window::Rpd => "requests",
            Window::Tpm | Window::Tpd => "tokens",
        }
    }

    fn limit_of(self, limits: &Limits) -> Option<u64> {
        match self {
            Window::Rpm => limits.rpm,
            Window::Rpd => limits.rpd,
            Window::Tpm => limits.tpm,
            Window::Tpd => limits.tpd,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A continuously refilling bucket: `used` drains at `limit / window` per second.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    limit: f64,
    window: f64,
    used: f64,
    at: f64,
}

impl Bucket {
    fn new(limit: u64, window: f64) -> Self {
        Self {
            limit: limit as f64,
            window,
            used: 0.0,
            at: 0.0,
        }
    }

    fn used_at(&self, now: f64) -> f64 {
        let elapsed = (now - self.at).max(0.0);
        (self.used - elapsed * self.limit / self.window).max(0.0)
    }

    /// Seconds until `cost` fits; zero when it fits now.
    fn wait_for(&self, now: f64, cost: f64) -> f64 {
        let over = self.used_at(now) + cost - self.limit;
        if over <= 0.0 {
            0.0
        } else {
            over * self.window / self.limit
        }
    }

    fn add(&mut self, now: f64, amount: f64) {
        self.used = (self.used_at(now) + amount).max(0.0);
        self.at = now.max(self.at);
    }

    /// Seconds until the bucket is empty (full budget again).
    fn reset_in(&self, now: f64) -> f64 {
        self.used_at(now) * self.window / self.limit
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Denial {
    /// One request needs more tokens than the whole per-minute budget: Groq answers 413.
    TooLarge {
        /// The TPM limit.
        limit: u64,
        /// Tokens the request would reserve.
        requested: u64,
    },
    /// A window's budget is spent: Groq answers 429.
    Limited {
        /// The window that ran out (the one with the longest wait when several did).
        window: Window,
        /// Its limit.
        limit: u64,
        /// Usage at the time of the request, rounded up.
        used: u64,
        /// What the request asked for (1 request, or its reserved tokens).
        requested: u64,
        /// Time (on the ledger's clock) until the request would fit.
        wait: Duration,
    },
}

/// The values of the rate-limit headers at one moment (ledger clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// RPD limit (`x-ratelimit-limit-requests`).
    pub limit_requests: Option<u64>,
    /// RPD remaining, rounded down.
    pub remaining_requests: u64,
    /// Until the RPD bucket is full again.
    pub reset_requests: Duration,
    /// TPM limit (`x-ratelimit-limit-tokens`).
    pub limit_tokens: Option<u64>,
    /// TPM remaining, rounded down.
    pub remaining_tokens: u64,
    /// Until the TPM bucket is full again.
    pub reset_tokens: Duration,
}

/// Usage of one window, for the admin view.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowUsage {
    /// Which window.
    pub window: Window,
    /// Its limit.
    pub limit: u64,
    /// Current usage.
    pub used: f64,
    /// Current remaining budget.
    pub remaining: f64,
}

/// The ledger of one organisation for one model.
#[derive(Debug, Clone)]
pub struct Ledger {
    limits: Limits,
    buckets: [Option<Bucket>; 4],
    exhaust_daily_at: Option<f64>,
}

impl Ledger {
    /// A fresh ledger with all budgets full.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buckets: Window::ALL.map(|w| w.limit_of(&limits).map(|l| Bucket::new(l, w.seconds()))),
            exhaust_daily_at: None,
        }
    }

    /// The limits this ledger enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Marks the daily budgets (RPD, TPD) as spent at `at`; they refill from then on.
    pub fn exhaust_daily_at(&mut self, at: Duration) {
        self.exhaust_daily_at = Some(at.as_secs_f64());
    }

    /// Empties every bucket, keeping any scheduled exhaustion still to come.
    pub fn reset(&mut self, now: Duration) {
        let now = now.as_secs_f64();
        for bucket in self.buckets.iter_mut().flatten() {
            bucket.used = 0.0;
            bucket.at = now;
        }
    }

    fn apply_events(&mut self, now: f64) {
        if let Some(at) = self.exhaust_daily_at.filter(|at| *at <= now) {
            for window in [Window::Rpd, Window::Tpd] {
                if let Some(bucket) = &mut self.buckets[window.index()] {
                    bucket.used = bucket.limit;
                    bucket.at = at;
                }
            }
            self.exhaust_daily_at = None;
        }
    }

    /// Admits one request reserving `tokens`, or says why not. Nothing is spent on refusal.
    pub fn admit(&mut self, now: Duration, tokens: u64) -> Result<(), Denial> {
        let now = now.as_secs_f64();
        self.apply_events(now);
        if let Some(tpm) = self.limits.tpm.filter(|tpm| tokens > *tpm) {
            return Err(Denial::TooLarge {
                limit: tpm,
                requested: tokens,
            });
        }
        let mut worst: Option<(Window, f64)> = None;
        for window in Window::ALL {
            if let Some(bucket) = &self.buckets[window.index()] {
                let wait = bucket.wait_for(now, cost(window, tokens));
                if wait > 0.0 && worst.is_none_or(|(_, w)| wait > w) {
                    worst = Some((window, wait));
                }
            }
        }
        if let Some((window, wait)) = worst {
            let bucket = self.buckets[window.index()].unwrap_or(Bucket::new(0, 1.0));
            return Err(Denial::Limited {
                window,
                limit: bucket.limit as u64,
                used: bucket.used_at(now).ceil() as u64,
                requested: cost(window, tokens) as u64,
                wait: Duration::from_secs_f64(wait),
            });
        }
        for window in Window::ALL {
            if let Some(bucket) = &mut self.buckets[window.index()] {
                bucket.add(now, cost(window, tokens));
            }
        }
        Ok(())
    }

    /// Settles a request admitted with `reserved` tokens that really used `actual`.
    pub fn settle(&mut self, now: Duration, reserved: u64, actual: u64) {
        let now = now.as_secs_f64();
        let delta = actual as f64 - reserved as f64;
        for window in [Window::Tpm, Window::Tpd] {
            if let Some(bucket) = &mut self.buckets[window.index()] {
                bucket.add(now, delta);
            }
        }
    }

    /// The rate-limit header values at `now`.
    pub fn snapshot(&mut self, now: Duration) -> Snapshot {
        let now = now.as_secs_f64();
        self.apply_events(now);
        let view = |window: Window| -> (Option<u64>, u64, Duration) {
            match &self.buckets[window.index()] {
                Some(b) => (
                    Some(b.limit as u64),
                    (b.limit - b.used_at(now)).max(0.0).floor() as u64,
                    Duration::from_secs_f64(b.reset_in(now)),
                ),
                None => (None, 0, Duration::ZERO),
            }
        };
        let (limit_requests, remaining_requests, reset_requests) = view(Window::Rpd);
        let (limit_tokens, remaining_tokens, reset_tokens) = view(Window::Tpm);
        Snapshot {
            limit_requests,
            remaining_requests,
            reset_requests,
            limit_tokens,
            remaining_tokens,
            reset_tokens,
        }
    }

    /// Usage of every limited window at `now`.
    pub fn usage(&mut self, now: Duration) -> Vec<WindowUsage> {
        let now_s = now.as_secs_f64();
        self.apply_events(now_s);
        Window::ALL
            .iter()
            .filter_map(|&window| {
                self.buckets[window.index()].map(|b| {
                    let used = b.used_at(now_s);
                    WindowUsage {
                        window,
                        limit: b.limit as u64,
                        used,
                        remaining: (b.limit - used).max(0.0),
                    }
                })
            })
            .collect()
    }
}

fn cost(window: Window, tokens: u64) -> f64 {
    match window {
        Window::Rpm | Window::Rpd => 1.0,
        Window::Tpm | Window::Tpd => tokens as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(rpm: u64, rpd: u64, tpm: u64, tpd: u64) -> Limits {
        Limits {
            rpm: Some(rpm),
            rpd: Some(rpd),
            tpm: Some(tpm),
            tpd: Some(tpd),
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn rpm_burst_then_429_with_wait_until_one_refills() {
        let mut ledger = Ledger::new(limits(5, 1000, 100_000, 1_000_000));
        for _ in 0..5 {
            assert_eq!(ledger.admit(secs(0.0), 10), Ok(()));
        }
        match ledger.admit(secs(0.0), 10) {
            Err(Denial::Limited {
                window,
                limit,
                used,
                requested,
                wait,
            }) => {
                assert_eq!(window, Window::Rpm);
                assert_eq!((limit, used, requested), (5, 5, 1));
                // One request refills in 60/5 = 12 s.
                assert!((wait.as_secs_f64() - 12.0).abs() < 1e-6, "{wait:?}");
            }
            other => panic!("expected RPM denial, got {other:?}"),
        }
        assert!(ledger.admit(secs(11.9), 10).is_err());
        assert_eq!(ledger.admit(secs(12.0), 10), Ok(()));
    }

    #[test]
    fn too_large_is_413_not_429() {
        let mut ledger = Ledger::new(limits(30, 1000, 6000, 500_000));
        assert_eq!(
            ledger.admit(secs(0.0), 12_328),
            Err(Denial::TooLarge {
                limit: 6000,
                requested: 12_328
            })
        );
        // Nothing was spent.
        assert_eq!(ledger.snapshot(secs(0.0)).remaining_tokens, 6000);
    }

    #[test]
    fn headers_follow_groq_formula() {
        // 1 request of 14,400/day → reset 6 s; 182 tokens of 7,000/min → 1.56 s.
        let mut ledger = Ledger::new(limits(30, 14_400, 7_000, 500_000));
        assert_eq!(ledger.admit(secs(0.0), 182), Ok(()));
        let snap = ledger.snapshot(secs(0.0));
        assert_eq!(snap.remaining_requests, 14_399);
        assert_eq!(snap.remaining_tokens, 6_818);
        assert!((snap.reset_requests.as_secs_f64() - 6.0).abs() < 1e-9);
        assert!((snap.reset_tokens.as_secs_f64() - 1.56).abs() < 1e-9);
    }

    #[test]
    fn settle_refunds_unused_reservation() {
        let mut ledger = Ledger::new(limits(30, 1000, 1000, 100_000));
        assert_eq!(ledger.admit(secs(0.0), 900), Ok(()));
        assert!(ledger.admit(secs(0.0), 200).is_err());
        ledger.settle(secs(0.0), 900, 300);
        assert_eq!(ledger.snapshot(secs(0.0)).remaining_tokens, 700);
        assert_eq!(ledger.admit(secs(0.0), 200), Ok(()));
    }

    #[test]
    fn daily_exhaustion_applies_at_its_time_and_names_the_day_window() {
        let mut ledger = Ledger::new(limits(30, 1000, 12_000, 100_000));
        ledger.exhaust_daily_at(secs(60.0));
        assert_eq!(ledger.admit(secs(59.0), 10), Ok(()));
        match ledger.admit(secs(61.0), 10) {
            Err(Denial::Limited { window, wait, .. }) => {
                // TPD waits 10 tokens × 86400/100000 - refill; RPD waits for 1 request (86.4 s - 1 s).
                assert!(matches!(window, Window::Rpd | Window::Tpd), "{window:?}");
                assert!(wait.as_secs_f64() > 1.0);
            }
            other => panic!("expected a daily denial, got {other:?}"),
        }
    }

    #[derive(Debug, Clone)]
    struct Step {
        dt: f64,
        tokens: u64,
        actual_fraction: f64,
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        prop::collection::vec(
            (0.0f64..3.0, 1u64..800, 0.0f64..=1.0).prop_map(|(dt, tokens, actual_fraction)| Step {
                dt,
                tokens,
                actual_fraction,
            }),
            1..400,
        )
    }

    proptest! {
        /// Over any interval of length T a bucket admits at most L + L·T/W: no organisation
        /// gets more than its limit plus what refilled during the interval.
        #[test]
        fn never_admits_more_than_limit_plus_refill(steps in steps(), rpm in 1u64..40, tpm in 500u64..5000) {
            let lim = limits(rpm, 1_000_000, tpm, 100_000_000);
            let mut ledger = Ledger::new(lim);
            let mut now = 0.0;
            let mut admitted: Vec<(f64, u64)> = Vec::new(); // (time, settled tokens)
            for step in &steps {
                now += step.dt;
                if ledger.admit(secs(now), step.tokens).is_ok() {
                    let actual = (step.tokens as f64 * step.actual_fraction).round() as u64;
                    ledger.settle(secs(now), step.tokens, actual);
                    admitted.push((now, actual));
                }
            }
            for (i, &(start, _)) in admitted.iter().enumerate() {
                let mut requests = 0.0;
                let mut tokens = 0.0;
                for &(t, used) in &admitted[i..] {
                    requests += 1.0;
                    tokens += used as f64;
                    let span = t - start;
                    let max_requests = rpm as f64 * (1.0 + span / 60.0) + 1e-6;
                    let max_tokens = tpm as f64 * (1.0 + span / 60.0) + 1e-6;
                    prop_assert!(requests <= max_requests, "{requests} requests in {span}s, rpm {rpm}");
                    prop_assert!(tokens <= max_tokens, "{tokens} tokens in {span}s, tpm {tpm}");
                }
            }
        }

        /// The reset headers agree with the buckets: after waiting `reset`, the budget is full;
        /// and a refused request retried after its `wait` is admitted.
        #[test]
        fn reset_headers_and_waits_match_bucket_state(steps in steps()) {
            let lim = limits(10, 200, 3000, 20_000);
            let mut ledger = Ledger::new(lim);
            let mut now = 0.0;
            for step in &steps {
                now += step.dt;
                match ledger.admit(secs(now), step.tokens) {
                    Ok(()) => {}
                    Err(Denial::Limited { wait, .. }) => {
                        let mut probe = ledger.clone();
                        let later = now + wait.as_secs_f64() + 1e-6;
                        prop_assert_eq!(probe.admit(secs(later), step.tokens), Ok(()));
                    }
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
                let snap = ledger.snapshot(secs(now));
                let used_requests = 200.0 * snap.reset_requests.as_secs_f64() / 86_400.0;
                let used_tokens = 3000.0 * snap.reset_tokens.as_secs_f64() / 60.0;
                prop_assert!((200.0 - used_requests).floor() as u64 == snap.remaining_requests
                    || ((200.0 - used_requests) - snap.remaining_requests as f64).abs() < 1e-6);
                prop_assert!((3000.0 - used_tokens).floor() as u64 == snap.remaining_tokens
                    || ((3000.0 - used_tokens) - snap.remaining_tokens as f64).abs() < 1e-6);
                let mut probe = ledger.clone();
                let full = probe.snapshot(secs(now + snap.reset_tokens.as_secs_f64().max(snap.reset_requests.as_secs_f64()) + 1e-6));
                prop_assert_eq!(full.remaining_tokens, 3000);
                prop_assert_eq!(full.remaining_requests, 200);
            }
        }
    }
}
