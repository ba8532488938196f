//! Checks what parsing cannot: every number within its documented range ([`crate::spec::limits`]),
//! fields that go together, a run that must end and fit in memory. Errors name the field.

use std::time::Duration;

use super::*;
use crate::spec::limits;
use crate::spec::scenario::MAX_REPLICAS;

type Check = Result<(), Invalid>;

fn ensure(ok: bool, field: &str, message: impl Into<String>) -> Check {
    if ok {
        Ok(())
    } else {
        Err(Invalid {
            field: field.to_owned(),
            message: message.into(),
        })
    }
}

fn span_within(value: Option<Duration>, field: &str, min: Duration, max: Duration) -> Check {
    match value {
        Some(v) => ensure(
            v >= min && v <= max,
            field,
            format!(
                "must be between {} and {}, got {}",
                human(min),
                human(max),
                human(v)
            ),
        ),
        None => Ok(()),
    }
}

impl Scenario {
    /// [`Scenario::validate`] with the field that is wrong.
    pub fn check(&self) -> Result<(), Invalid> {
        // Keys first: the bounds below count time-series cells per key.
        self.check_keys()?;
        self.check_bounds()?;
        self.check_traffic()?;
        self.check_totals()?;
        self.check_engine()?;
        self.check_target()?;
        for (metric, threshold) in &self.thresholds {
            let field = format!("thresholds.{}", metric.name());
            ensure(
                threshold.value.is_finite(),
                &field,
                "the bound must be a finite number",
            )?;
        }
        Ok(())
    }

    /// A run must end: by time or count, each within its range, and its time series must
    /// fit in memory.
    fn check_bounds(&self) -> Check {
        let t = &self.traffic;
        ensure(
            t.duration.is_some() || t.requests.is_some() || t.trace().is_some(),
            "traffic.duration",
            "[traffic] needs `duration` or `requests` (or both): a run must be bounded",
        )?;
        span_within(
            t.duration,
            "traffic.duration",
            Duration::from_millis(1),
            limits::DURATION,
        )?;
        if let Some(n) = t.requests {
            ensure(
                (1..=limits::REQUESTS).contains(&n.0),
                "traffic.requests",
                format!("from 1 to {} requests, got {}", limits::REQUESTS, n.0),
            )?;
        }
        span_within(
            Some(t.interval),
            "traffic.interval",
            Duration::from_millis(10),
            limits::DURATION,
        )?;
        if t.trace().is_some() && t.duration.is_none() {
            // The trace's own span bounds it: checked by `series_fits` once it is read.
            return Ok(());
        }
        self.series_fits(self.horizon()?)
    }

    /// Whether the time series of a run lasting `horizon` fits in memory at the traffic's
    /// interval.
    pub fn series_fits(&self, horizon: Duration) -> Check {
        let t = &self.traffic;
        let buckets = horizon.as_nanos() / t.interval.as_nanos().max(1) + 1;
        let cells = buckets.saturating_mul(self.keys.count.0 as u128);
        ensure(
            buckets <= limits::BUCKETS && cells <= limits::SERIES_CELLS,
            "traffic.interval",
            format!(
                "{} of traffic at this interval is {buckets} time-series buckets (× {} keys); at most {} buckets and {} bucket-keys: raise `interval`",
                human(horizon),
                self.keys.count.0,
                limits::BUCKETS,
                limits::SERIES_CELLS
            ),
        )
    }

    /// What the run adds up to, once each setting is within its own range: arrivals at its
    /// fastest rate over its horizon (or its request count, when that stops it sooner),
    /// within what one run may send.
    fn check_totals(&self) -> Check {
        let t = &self.traffic;
        let horizon = self.horizon()?;
        if let Some(rpm) = t.shape.rate() {
            let fastest = t.shape.peak().map_or(rpm, |peak| peak.max(rpm));
            let arrivals = fastest * horizon.as_secs_f64() / 60.0;
            let arrivals = t.requests.map_or(arrivals, |n| arrivals.min(n.0 as f64));
            ensure(
                arrivals <= limits::REQUESTS as f64,
                "traffic.rate",
                format!(
                    "{fastest} req/min for {} is about {arrivals:.1e} requests; a run sends at most {} (lower the rate or the duration, or cap it with `requests`)",
                    human(horizon),
                    limits::REQUESTS
                ),
            )?;
        }
        Ok(())
    }

    /// How long the traffic can last: its `duration`, else the time its `requests` take at
    /// its slowest rate (closed loops and profiles need a `duration`).
    fn horizon(&self) -> Result<Duration, Invalid> {
        let t = &self.traffic;
        if let Some(d) = t.duration {
            return Ok(d);
        }
        if t.trace().is_some() {
            // A trace's offsets are at most this far (checked as it is read).
            return Ok(limits::DURATION);
        }
        let requests = t.requests.map_or(0, |n| n.0) as f64;
        let slowest = match (&t.shape, t.shape.rate(), t.shape.peak()) {
            (Shape::Closed { .. } | Shape::Profile { .. }, _, _) => None,
            (_, Some(rate), Some(peak)) => Some(rate.min(peak)),
            (_, rate, _) => rate,
        };
        let horizon =
            slowest.and_then(|rpm| Duration::try_from_secs_f64(requests / rpm * 60.0).ok());
        match horizon {
            Some(h) if h <= limits::DURATION => Ok(h),
            _ => Err(Invalid {
                field: "traffic.duration".to_owned(),
                message: format!(
                    "without `duration` the run must end within {} by its `requests` at its slowest rate (closed loops and profiles always need `duration`)",
                    human(limits::DURATION)
                ),
            }),
        }
    }

    fn check_traffic(&self) -> Check {
        let t = &self.traffic;
        for (field, rate) in [
            ("traffic.rate", t.shape.rate()),
            ("traffic.peak", t.shape.peak()),
        ] {
            if let Some(r) = rate {
                let (lo, hi) = limits::RATE;
                ensure(
                    (lo..=hi).contains(&r),
                    field,
                    format!("requests per minute between {lo} and {hi}, got {r}"),
                )?;
            }
        }
        check_shape(&t.shape, t.duration)?;
        span_within(
            Some(t.latency_budget),
            "traffic.latency_budget",
            Duration::from_millis(1),
            limits::TIMEOUT,
        )?;
        check_tokens(&t.prompt_tokens, "traffic.prompt_tokens")?;
        check_tokens(&t.completion_tokens, "traffic.completion_tokens")
    }

    fn check_keys(&self) -> Check {
        let k = &self.keys;
        ensure(
            (1..=limits::KEYS).contains(&k.count.0),
            "keys.count",
            format!("from 1 to {} keys, got {}", limits::KEYS, k.count.0),
        )?;
        if k.layout == Layout::Explicit {
            ensure(
                k.orgs.len() == k.count.0,
                "keys.orgs",
                "layout = \"explicit\" needs `orgs` with one organisation index per key",
            )?;
            ensure(
                k.orgs.iter().all(|&o| o < k.count.0),
                "keys.orgs",
                format!(
                    "organisation indexes go from 0 to {} (one per key at most)",
                    k.count.0 - 1
                ),
            )
        } else {
            ensure(
                k.orgs.is_empty(),
                "keys.orgs",
                "`orgs` goes with layout = \"explicit\"",
            )
        }
    }

    fn check_engine(&self) -> Check {
        let e = &self.engine;
        let ms = Duration::from_millis(1);
        span_within(
            Some(e.connect_timeout),
            "engine.connect_timeout",
            ms,
            limits::TIMEOUT,
        )?;
        span_within(
            Some(e.request_timeout),
            "engine.request_timeout",
            ms,
            limits::TIMEOUT,
        )?;
        span_within(Some(e.deadline), "engine.deadline", ms, limits::TIMEOUT)?;
        ensure(
            (1..=MAX_REPLICAS).contains(&e.replicas),
            "engine.replicas",
            format!("from 1 to {MAX_REPLICAS}"),
        )?;
        ensure(
            e.redis_url.is_none() || e.state == StateKind::Redis,
            "engine.redis_url",
            "goes with state = \"redis\"",
        )?;
        ensure(
            e.state != StateKind::Redis || self.mode == Mode::Real,
            "engine.state",
            "redis runs in real time: use mode = \"real\" (or --real), or state = \"memory\" for the same sharing in simulation",
        )?;
        let replicated = e.replicas > 1 || e.state.shared() || e.cold_start.is_some();
        ensure(
            !replicated || self.target.app().is_none(),
            "engine.replicas",
            "replicas, shared state and cold starts are the engine's: an app under test runs its own code",
        )
    }

    fn check_target(&self) -> Check {
        let target = &self.target;
        let t = &self.traffic;
        match &target.upstream {
            Upstream::App { app, .. } => {
                if let Some((field, why)) = app.problem() {
                    ensure(false, field, why)?;
                }
                ensure(
                    self.mode == Mode::Real,
                    "mode",
                    "an app under test runs in real time: use mode = \"real\" (or --real)",
                )?;
            }
            Upstream::Url { .. } => {
                ensure(
                    self.mode == Mode::Real,
                    "mode",
                    "a scenario with [target] url must use mode = \"real\"",
                )?;
                ensure(
                    t.duration.is_some() && t.requests.is_some(),
                    "traffic.requests",
                    "a real endpoint needs both `duration` and `requests` as hard caps",
                )?;
            }
            Upstream::Mock { .. } => {}
        }
        span_within(
            Some(target.rtt()),
            "target.rtt",
            Duration::ZERO,
            Duration::from_secs(10),
        )?;
        if let Some(mock) = target.mock() {
            let groq = target.provider == crate::engine::provider::ProviderName::Groq;
            ensure(
                !groq || mock_groq::catalog::current().model(&target.model).is_some(),
                "target.model",
                format!("model `{}` is not in the mock's catalog", target.model),
            )?;
            self.check_mock(mock)?;
        }
        Ok(())
    }

    /// The mock's events and faults: within the run's clock, naming keys and organisations
    /// that exist; then the mock's own checks.
    fn check_mock(&self, mock: &MockSettings) -> Check {
        let orgs = self.keys.org_of_each().iter().max().map_or(0, |m| m + 1);
        for event in &mock.events {
            let (at, ok, what) = match event {
                TargetEvent::RevokeKey { at, key } => (
                    at,
                    *key < self.keys.count.0,
                    "revoke_key names a key index beyond `count`",
                ),
                TargetEvent::ExhaustDaily { at, org } => (
                    at,
                    org.is_none_or(|o| o < orgs),
                    "exhaust_daily names an organisation that has no key",
                ),
            };
            ensure(ok, "target.events", what)?;
            span_within(Some(*at), "target.events", Duration::ZERO, limits::DURATION)?;
        }
        for fault in &mock.faults {
            for span in [fault.from, fault.until, Some(fault.duration)] {
                span_within(span, "target.faults", Duration::ZERO, limits::DURATION)?;
            }
        }
        let keys = crate::spec::scenario::mock_keys(self.keys.count.0);
        crate::spec::scenario::mock_config(self, &keys)
            .validate()
            .map_err(|e| Invalid {
                field: "target".to_owned(),
                message: e.to_string(),
            })
    }
}

/// The fields of the arrival shape: users and think time of a closed loop, a ramp's
/// duration, the step's and spike's times, a profile's weights and step.
fn check_shape(shape: &Shape, duration: Option<Duration>) -> Check {
    match shape {
        Shape::Closed { users, think } => {
            ensure(
                (1..=limits::USERS).contains(&users.0),
                "traffic.users",
                format!("from 1 to {} users", limits::USERS),
            )?;
            span_within(
                Some(*think),
                "traffic.think",
                Duration::ZERO,
                limits::TIMEOUT,
            )?;
        }
        Shape::Ramp { .. } => ensure(
            duration.is_some(),
            "traffic.duration",
            "a ramp needs `duration`",
        )?,
        Shape::Step { change_at, .. } => span_within(
            Some(*change_at),
            "traffic.change_at",
            Duration::ZERO,
            limits::DURATION,
        )?,
        Shape::Spike {
            change_at,
            spike_for,
            ..
        } => {
            span_within(
                Some(*change_at),
                "traffic.change_at",
                Duration::ZERO,
                limits::DURATION,
            )?;
            span_within(
                Some(*spike_for),
                "traffic.spike_for",
                Duration::from_millis(1),
                limits::DURATION,
            )?;
        }
        Shape::Profile { weights, step, .. } => {
            let (hours, weight) = limits::PROFILE;
            ensure(
                !weights.is_empty()
                    && weights.len() <= hours
                    && weights.iter().all(|w| (0.0..=weight).contains(w))
                    && weights.iter().sum::<f64>() > 0.0,
                "traffic.profile",
                format!(
                    "arrival = \"profile\" needs `profile`: 1 to {hours} weights, each between 0 and {weight}, not all zero"
                ),
            )?;
            ensure(
                profile_step_ok(*step),
                "traffic.profile_step",
                "a profile step divides an hour into whole seconds (1s … 1h, e.g. 10m) or is a whole number of hours dividing a day (2h, 3h, 4h, 6h, 8h, 12h, 24h)",
            )?;
        }
        Shape::Trace(trace) => {
            ensure(
                crate::spec::trace::SPEED.contains(&trace.speed),
                "traffic.speed",
                "a replay speed from 0.001 to 1000",
            )?;
            ensure(
                crate::spec::trace::SCALE.contains(&trace.scale),
                "traffic.scale",
                "a scale from 0.001 to 1000 (copies of each row)",
            )?;
            ensure(
                !trace.path.as_os_str().is_empty(),
                "traffic.trace",
                "the trace file",
            )?;
        }
        Shape::Constant { .. } | Shape::Poisson { .. } => {}
    }
    Ok(())
}

fn check_tokens(tokens: &Tokens, field: &str) -> Check {
    let max = limits::TOKENS;
    let ok = match *tokens {
        Tokens::Fixed(v) => (1..=max).contains(&v),
        Tokens::Uniform { min, max: hi } => min >= 1 && min <= hi && hi <= max,
        Tokens::Normal { mean, sd } => {
            (1.0..=max as f64).contains(&mean) && (0.0..=max as f64).contains(&sd)
        }
        // A trace's sizes are checked as it is read (1 to TOKENS each).
        Tokens::Trace(ref sample) => !sample.trace.as_os_str().is_empty(),
    };
    ensure(
        ok,
        field,
        format!(
            "tokens between 1 and {max} (and min ≤ max; a normal's mean in [1, {max}], sd in [0, {max}])"
        ),
    )
}
