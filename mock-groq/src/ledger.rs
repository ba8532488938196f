//! The rate-limit ledger of one organisation (project, account) and model: a bucket per
//! limited window — requests and tokens per minute, hour and day.
//!
//! Most windows refill continuously, as Groq's reset headers show them to behave
//! (shared/GROQ.md §2: reset = used × window / limit): a bucket of limit `L` over window `W`
//! drains its usage at `L / W` per second and admits a cost `c` while `used + c ≤ L`. Over any
//! interval of length `T` it therefore admits at most `L + L·T/W` — one full burst plus the
//! refill — and `L` per `W` sustained.
//!
//! A *fixed* window (Gemini's requests per day, OpenRouter's free daily cap) comes back whole
//! at a wall-clock time in a time zone ([`groq_wire::providers::Window::next_reset`]); until
//! then nothing refills. The ledger maps its clock to the wall clock from the `epoch` it is
//! given (the mock's start), so a scaled clock passes midnight Pacific when the scaled day
//! does, and a day across a daylight-saving change is 23 or 25 hours long.
//!
//! Tokens are reserved at admission (prompt estimate + `max_tokens`) and settled to the
//! actual usage when the response is complete ([`Ledger::settle`]).
//!
//! The ledger is pure: every method takes `now` (time since the mock started, on the mock's
//! possibly scaled clock), so real, scaled and paused clocks and property tests all drive the
//! same code.

use std::time::Duration;

use groq_wire::providers::{self, Dimension, Span};
use jiff::Timestamp;
use serde::Serialize;

use crate::catalog::Limits;

/// One limited window; serialized by its [`Window::name`].
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
    /// Requests per hour (Cerebras).
    Rph,
    /// Tokens per hour (Cerebras).
    Tph,
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Window {
    /// All windows, in the ledger's bucket order (Groq's four first).
    pub const ALL: [Window; 6] = [
        Window::Rpm,
        Window::Rpd,
        Window::Tpm,
        Window::Tpd,
        Window::Rph,
        Window::Tph,
    ];

    /// The window counting `dimension` over `span`.
    pub fn of(dimension: Dimension, span: Span) -> Window {
        match (dimension, span) {
            (Dimension::Requests, Span::Minute) => Window::Rpm,
            (Dimension::Requests, Span::Hour) => Window::Rph,
            (Dimension::Requests, Span::Day) => Window::Rpd,
            (Dimension::Tokens, Span::Minute) => Window::Tpm,
            (Dimension::Tokens, Span::Hour) => Window::Tph,
            (Dimension::Tokens, Span::Day) => Window::Tpd,
        }
    }

    /// What it counts.
    pub fn dimension(self) -> Dimension {
        match self {
            Window::Rpm | Window::Rph | Window::Rpd => Dimension::Requests,
            Window::Tpm | Window::Tph | Window::Tpd => Dimension::Tokens,
        }
    }

    /// Over how long.
    pub fn span(self) -> Span {
        match self {
            Window::Rpm | Window::Tpm => Span::Minute,
            Window::Rph | Window::Tph => Span::Hour,
            Window::Rpd | Window::Tpd => Span::Day,
        }
    }

    /// Its name as the admin view and the metrics spell it: `rpm`, `rpd`, `tpm`, `tpd`,
    /// `rph`, `tph`.
    pub fn name(self) -> &'static str {
        match self {
            Window::Rpm => "rpm",
            Window::Rpd => "rpd",
            Window::Tpm => "tpm",
            Window::Tpd => "tpd",
            Window::Rph => "rph",
            Window::Tph => "tph",
        }
    }

    /// Length of the window in seconds.
    pub fn seconds(self) -> f64 {
        match self.span() {
            Span::Minute => 60.0,
            Span::Hour => 3_600.0,
            Span::Day => 86_400.0,
        }
    }

    /// The phrase Groq's 429 message uses, e.g. `tokens per minute (TPM)`.
    pub fn phrase(self) -> &'static str {
        match self {
            Window::Rpm => "requests per minute (RPM)",
            Window::Rpd => "requests per day (RPD)",
            Window::Tpm => "tokens per minute (TPM)",
            Window::Tpd => "tokens per day (TPD)",
            Window::Rph => "requests per hour (RPH)",
            Window::Tph => "tokens per hour (TPH)",
        }
    }

    /// The error `type` Groq sends: `requests` or `tokens`.
    pub fn kind(self) -> &'static str {
        match self.dimension() {
            Dimension::Requests => "requests",
            Dimension::Tokens => "tokens",
        }
    }

    fn limit_of(self, limits: &Limits) -> Option<u64> {
        match self {
            Window::Rpm => limits.rpm,
            Window::Rpd => limits.rpd,
            Window::Tpm => limits.tpm,
            Window::Tpd => limits.tpd,
            Window::Rph | Window::Tph => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// When a fixed window comes back: its schedule, the wall-clock time of the ledger's zero,
/// and its next reset on the ledger's clock.
#[derive(Debug, Clone, PartialEq)]
struct Fixed {
    schedule: providers::Window,
    epoch: Timestamp,
    next: f64,
}

impl Fixed {
    /// The first reset after `now` (ledger seconds), a day on if the schedule says none.
    fn after(&self, now: f64) -> f64 {
        let wall = Duration::try_from_secs_f64(now.max(0.0))
            .ok()
            .and_then(|d| self.epoch.checked_add(d).ok());
        let next = wall.and_then(|w| self.schedule.next_reset(w));
        match next.and_then(|n| n.duration_since(self.epoch).try_into().ok()) {
            Some(since) => Duration::as_secs_f64(&since),
            None => now + 86_400.0,
        }
    }

    /// The reset in force at `now`: the cached one, or the next if it has passed.
    fn at(&self, now: f64) -> f64 {
        if now < self.next {
            self.next
        } else {
            self.after(now)
        }
    }
}

/// A bucket: `used` drains at `limit / window` per second, or, when `fixed`, all comes back
/// at the next reset.
#[derive(Debug, Clone, PartialEq)]
struct Bucket {
    limit: f64,
    window: f64,
    used: f64,
    at: f64,
    fixed: Option<Fixed>,
}

impl Bucket {
    fn new(limit: u64, window: f64) -> Self {
        Self {
            limit: limit as f64,
            window,
            used: 0.0,
            at: 0.0,
            fixed: None,
        }
    }

    fn used_at(&self, now: f64) -> f64 {
        match &self.fixed {
            Some(f) if now >= f.next => 0.0,
            Some(_) => self.used,
            None => {
                let elapsed = (now - self.at).max(0.0);
                (self.used - elapsed * self.limit / self.window).max(0.0)
            }
        }
    }

    /// Seconds until `cost` fits; zero when it fits now.
    fn wait_for(&self, now: f64, cost: f64) -> f64 {
        let over = self.used_at(now) + cost - self.limit;
        match &self.fixed {
            _ if over <= 0.0 => 0.0,
            Some(f) => f.at(now) - now,
            None => over * self.window / self.limit,
        }
    }

    fn add(&mut self, now: f64, amount: f64) {
        let used = self.used_at(now);
        if let Some(f) = &mut self.fixed
            && now >= f.next
        {
            f.next = f.after(now);
        }
        self.used = (used + amount).max(0.0);
        self.at = now.max(self.at);
    }

    /// Empties the bucket at `now` (or fills it, `full`).
    fn set(&mut self, now: f64, full: bool) {
        self.used = if full { self.limit } else { 0.0 };
        self.at = now;
        if let Some(f) = &mut self.fixed {
            f.next = f.after(now);
        }
    }

    /// Seconds until the budget is whole again: a refilling bucket's drain, a fixed
    /// window's next reset.
    fn reset_in(&self, now: f64) -> f64 {
        match &self.fixed {
            Some(f) => f.at(now) - now,
            None => self.used_at(now) * self.window / self.limit,
        }
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

/// One window's figures at one moment, as rate-limit headers show them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Its limit.
    pub limit: u64,
    /// What remains, rounded down.
    pub remaining: u64,
    /// Until it is whole again (ledger clock).
    pub reset: Duration,
}

/// Every limited window's figures at one moment (ledger clock).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Snapshot {
    views: [Option<View>; 6],
}

impl Snapshot {
    /// The figures of `window`, if it is limited.
    pub fn of(&self, window: Window) -> Option<View> {
        self.views[window.index()]
    }
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
    buckets: [Option<Bucket>; 6],
    too_large: bool,
    exhaust_daily_at: Option<f64>,
}

impl Ledger {
    /// A fresh ledger with Groq's four refilling windows at `limits`, all budgets full; a
    /// request larger than the whole TPM is refused as too large (413), as Groq does.
    pub fn new(limits: Limits) -> Self {
        Self {
            buckets: Window::ALL.map(|w| w.limit_of(&limits).map(|l| Bucket::new(l, w.seconds()))),
            too_large: true,
            exhaust_daily_at: None,
        }
    }

    /// A fresh ledger with no limit; windows come with [`Ledger::with_limit`].
    pub fn unlimited() -> Self {
        Self::new(Limits::NONE)
    }

    /// The same with `window` limited to `limit` (refilling), or unlimited for `None`.
    pub fn with_limit(mut self, window: Window, limit: Option<u64>) -> Self {
        self.buckets[window.index()] = limit.map(|l| Bucket::new(l, window.seconds()));
        self
    }

    /// The same with `window` (if limited) coming back whole on `schedule`'s resets instead
    /// of refilling; `epoch` is the wall-clock time of the ledger's zero.
    pub fn with_fixed(
        mut self,
        window: Window,
        schedule: &providers::Window,
        epoch: Timestamp,
    ) -> Self {
        if let Some(bucket) = &mut self.buckets[window.index()] {
            let mut fixed = Fixed {
                schedule: schedule.clone(),
                epoch,
                next: 0.0,
            };
            fixed.next = fixed.after(0.0);
            bucket.fixed = Some(fixed);
        }
        self
    }

    /// The same answering a request larger than the whole TPM as a 429 that waits, not as
    /// a 413 (providers other than Groq have no such answer).
    pub fn without_too_large(mut self) -> Self {
        self.too_large = false;
        self
    }

    /// Marks the daily budgets (RPD, TPD) as spent at `at`; they refill from then on.
    pub fn exhaust_daily_at(&mut self, at: Duration) {
        self.exhaust_daily_at = Some(at.as_secs_f64());
    }

    /// Empties every bucket, keeping any scheduled exhaustion still to come.
    pub fn reset(&mut self, now: Duration) {
        let now = now.as_secs_f64();
        for bucket in self.buckets.iter_mut().flatten() {
            bucket.set(now, false);
        }
    }

    fn apply_events(&mut self, now: f64) {
        if let Some(at) = self.exhaust_daily_at.filter(|at| *at <= now) {
            for window in [Window::Rpd, Window::Tpd] {
                if let Some(bucket) = &mut self.buckets[window.index()] {
                    bucket.set(at, true);
                }
            }
            self.exhaust_daily_at = None;
        }
    }

    /// Admits one request reserving `tokens`, or says why not. Nothing is spent on refusal.
    pub fn admit(&mut self, now: Duration, tokens: u64) -> Result<(), Denial> {
        let now = now.as_secs_f64();
        self.apply_events(now);
        let tpm = self.buckets[Window::Tpm.index()]
            .as_ref()
            .map(|b| b.limit as u64);
        if let Some(tpm) = tpm.filter(|tpm| self.too_large && tokens > *tpm) {
            return Err(Denial::TooLarge {
                limit: tpm,
                requested: tokens,
            });
        }
        let mut worst: Option<(Window, &Bucket, f64)> = None;
        for window in Window::ALL {
            if let Some(bucket) = &self.buckets[window.index()] {
                let wait = bucket.wait_for(now, cost(window, tokens));
                if wait > 0.0 && worst.is_none_or(|(_, _, w)| wait > w) {
                    worst = Some((window, bucket, wait));
                }
            }
        }
        if let Some((window, bucket, wait)) = worst {
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
        for window in [Window::Tpm, Window::Tph, Window::Tpd] {
            if let Some(bucket) = &mut self.buckets[window.index()] {
                bucket.add(now, delta);
            }
        }
    }

    /// Every limited window's figures at `now`.
    pub fn snapshot(&mut self, now: Duration) -> Snapshot {
        let now = now.as_secs_f64();
        self.apply_events(now);
        Snapshot {
            views: self.buckets.each_ref().map(|bucket| {
                bucket.as_ref().map(|b| View {
                    limit: b.limit as u64,
                    remaining: (b.limit - b.used_at(now)).max(0.0).floor() as u64,
                    reset: Duration::from_secs_f64(b.reset_in(now).max(0.0)),
                })
            }),
        }
    }

    /// Usage of every limited window at `now`.
    pub fn usage(&mut self, now: Duration) -> Vec<WindowUsage> {
        let now_s = now.as_secs_f64();
        self.apply_events(now_s);
        Window::ALL
            .iter()
            .filter_map(|&window| {
                self.buckets[window.index()].as_ref().map(|b| {
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
    match window.dimension() {
        Dimension::Requests => 1.0,
        Dimension::Tokens => tokens as f64,
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
        assert_eq!(
            ledger
                .snapshot(secs(0.0))
                .of(Window::Tpm)
                .map(|v| v.remaining),
            Some(6000)
        );
    }

    #[test]
    fn headers_follow_groq_formula() {
        // 1 request of 14,400/day → reset 6 s; 182 tokens of 7,000/min → 1.56 s.
        let mut ledger = Ledger::new(limits(30, 14_400, 7_000, 500_000));
        assert_eq!(ledger.admit(secs(0.0), 182), Ok(()));
        let snap = ledger.snapshot(secs(0.0));
        let (Some(rpd), Some(tpm)) = (snap.of(Window::Rpd), snap.of(Window::Tpm)) else {
            panic!("both windows are limited: {snap:?}");
        };
        assert_eq!(rpd.remaining, 14_399);
        assert_eq!(tpm.remaining, 6_818);
        assert!((rpd.reset.as_secs_f64() - 6.0).abs() < 1e-9);
        assert!((tpm.reset.as_secs_f64() - 1.56).abs() < 1e-9);
    }

    #[test]
    fn settle_refunds_unused_reservation() {
        let mut ledger = Ledger::new(limits(30, 1000, 1000, 100_000));
        assert_eq!(ledger.admit(secs(0.0), 900), Ok(()));
        assert!(ledger.admit(secs(0.0), 200).is_err());
        ledger.settle(secs(0.0), 900, 300);
        assert_eq!(
            ledger
                .snapshot(secs(0.0))
                .of(Window::Tpm)
                .map(|v| v.remaining),
            Some(700)
        );
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

    /// Gemini's daily window: all back at midnight Pacific, nothing before; the day after
    /// the spring-forward change is 23 hours long.
    #[test]
    fn a_fixed_window_comes_back_whole_at_its_reset_and_not_before() {
        let profiles = groq_wire::providers::Profiles::builtin();
        let Some(daily) = profiles
            .find("gemini")
            .and_then(|p| p.window(Dimension::Requests, Span::Day))
        else {
            panic!("gemini has a daily window");
        };
        // Noon PST on 2026-03-07; midnight comes 12 h later, then a 23-hour day (DST).
        let epoch: Timestamp = "2026-03-07T20:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut ledger = Ledger::unlimited()
            .with_limit(Window::Rpm, Some(100))
            .with_limit(Window::Rpd, Some(3))
            .with_fixed(Window::Rpd, daily, epoch)
            .without_too_large();
        for _ in 0..3 {
            assert_eq!(ledger.admit(secs(0.0), 10), Ok(()));
        }
        let wait_of = |denial| match denial {
            Err(Denial::Limited {
                window,
                wait,
                limit,
                ..
            }) => {
                assert_eq!((window, limit), (Window::Rpd, 3));
                wait.as_secs_f64()
            }
            other => panic!("expected an RPD denial, got {other:?}"),
        };
        assert!((wait_of(ledger.admit(secs(0.0), 10)) - 43_200.0).abs() < 1e-6);
        // Eleven hours on, a refilling window would have given back most of it; this gives none.
        assert!((wait_of(ledger.admit(secs(39_600.0), 10)) - 3_600.0).abs() < 1e-6);
        let snap = ledger.snapshot(secs(39_600.0));
        assert_eq!(
            snap.of(Window::Rpd).map(|v| (v.remaining, v.reset)),
            Some((0, Duration::from_secs(3_600)))
        );
        // At midnight all three come back at once.
        for _ in 0..3 {
            assert_eq!(ledger.admit(secs(43_200.0), 10), Ok(()));
        }
        // The next midnight is 23 hours on (clocks spring forward on 2026-03-08).
        assert!((wait_of(ledger.admit(secs(43_201.0), 10)) - (82_800.0 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn other_providers_answer_a_request_over_the_tpm_with_a_wait_not_413() {
        let mut ledger = Ledger::unlimited()
            .with_limit(Window::Tpm, Some(1_000))
            .without_too_large();
        assert!(matches!(
            ledger.admit(secs(0.0), 1_500),
            Err(Denial::Limited {
                window: Window::Tpm,
                ..
            })
        ));
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
                let view = |s: &Snapshot, w| s.of(w).unwrap_or(View { limit: 0, remaining: 0, reset: Duration::ZERO });
                let (rpd, tpm) = (view(&snap, Window::Rpd), view(&snap, Window::Tpm));
                let used_requests = 200.0 * rpd.reset.as_secs_f64() / 86_400.0;
                let used_tokens = 3000.0 * tpm.reset.as_secs_f64() / 60.0;
                prop_assert!((200.0 - used_requests).floor() as u64 == rpd.remaining
                    || ((200.0 - used_requests) - rpd.remaining as f64).abs() < 1e-6);
                prop_assert!((3000.0 - used_tokens).floor() as u64 == tpm.remaining
                    || ((3000.0 - used_tokens) - tpm.remaining as f64).abs() < 1e-6);
                let mut probe = ledger.clone();
                let full = probe.snapshot(secs(now + tpm.reset.as_secs_f64().max(rpd.reset.as_secs_f64()) + 1e-6));
                prop_assert_eq!(view(&full, Window::Tpm).remaining, 3000);
                prop_assert_eq!(view(&full, Window::Rpd).remaining, 200);
            }
        }
    }
}
