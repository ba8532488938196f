//! The analytical lower bound of a plan: per limit, the organisations the event's busiest
//! hour (minute limits) or busiest day (day limits) needs at the least, by the bucket law, from
//! the same rate the simulation draws its arrivals at.

use std::time::Duration;

use mock_groq::catalog::Limits;
use serde::{Deserialize, Serialize};

use super::PlanInput;

/// One limit's bound.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bound {
    /// rpm, tpm, rpd or tpd.
    pub limit: String,
    /// Demand over the span the bound considers: the busiest hour for minute limits, the
    /// busiest day for day limits (requests or tokens).
    pub demand: f64,
    /// The limit per organisation.
    pub per_key: Option<u64>,
    /// Keys it needs.
    pub keys: u64,
}

/// The analytical part.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Analytical {
    /// The largest bound.
    pub min_keys: u64,
    /// Which limit sets it.
    pub binding: String,
    /// Each limit's bound.
    pub bounds: Vec<Bound>,
    /// Requests over the event.
    pub requests: f64,
    /// Requests per minute at the peak.
    pub peak_rpm: f64,
}

/// The analytical bounds. A bucket of limit `L` per window `W` admits at most `L·(1 + T/W)`
/// over a span `T` (a full budget at the start plus the refill), so over the busiest hour
/// (minute limits) and the event's busiest day (day limits) the demand needs at least
/// `⌈demand ÷ (L·(1 + T/W))⌉` organisations. This assumes keys start the event with full
/// budgets, as the simulation does; keys already spent that day need more. A `steady` event
/// (traffic day after day) gets only the refill, `L·T/W`. The binding limit is the one that
/// needs the most keys among those that limit at all ("none" when none does).
pub fn analytical(input: &PlanInput, limits: &Limits) -> Analytical {
    let requests = input.users as f64 * input.queries_per_user;
    let minutes = input.duration.as_secs_f64() / 60.0;
    let tokens = (input.prompt_tokens + input.completion_tokens) as f64;
    let demand = Demand::of(input);
    let peak_rpm = demand.peak_rpm();
    // Minute limits over the busiest hour (or the whole event, if shorter).
    let hour = minutes.min(60.0);
    let peak_span = demand.busiest(Duration::from_secs(3600));
    // Day limits over the busiest day (the whole event, if shorter).
    let day = minutes.min(1440.0);
    let per_day = demand.busiest(Duration::from_secs(86_400));
    let burst = if input.steady { 0.0 } else { 1.0 };
    let bound = |limit: &str, demand: f64, per_key: Option<u64>, span_windows: f64| Bound {
        limit: limit.to_owned(),
        demand,
        per_key,
        keys: per_key.map_or(1, |l| {
            ((demand / (l as f64 * (burst + span_windows))) - 1e-9)
                .ceil()
                .max(1.0) as u64
        }),
    };
    let bounds = vec![
        bound("rpm", peak_span, limits.rpm, hour),
        bound("tpm", peak_span * tokens, limits.tpm, hour),
        bound("rpd", per_day, limits.rpd, day / 1440.0),
        bound("tpd", per_day * tokens, limits.tpd, day / 1440.0),
    ];
    // The first of the limits that need the most keys; unlimited ones bind nothing.
    let binding = bounds
        .iter()
        .filter(|b| b.per_key.is_some())
        .rev()
        .max_by_key(|b| b.keys)
        .cloned()
        .unwrap_or_else(|| bound("none", 0.0, None, 1.0));
    Analytical {
        min_keys: binding.keys,
        binding: binding.limit.clone(),
        bounds,
        requests,
        peak_rpm,
    }
}

/// Expected requests per profile step of the event, from the rate the simulation draws its
/// arrivals at (the last step cut at the event's end).
struct Demand {
    step: Duration,
    /// Per step: its rate in requests per second, and how long it lasts within the event.
    steps: Vec<(f64, f64)>,
}

impl Demand {
    fn of(input: &PlanInput) -> Self {
        let built = input.builder(1, &input.policy);
        let traffic = &built.scenario().traffic;
        let step = input.step();
        let count = input.duration.as_nanos().div_ceil(step.as_nanos().max(1));
        let steps = (0..u32::try_from(count).unwrap_or(u32::MAX))
            .map(|i| {
                let start = step.saturating_mul(i);
                let span = step.min(input.duration.saturating_sub(start));
                let rate = crate::drive::workload::rate_at(traffic, start) / 60.0;
                (rate, span.as_secs_f64())
            })
            .collect();
        Demand { step, steps }
    }

    /// The highest rate of any step, requests per minute.
    fn peak_rpm(&self) -> f64 {
        self.steps.iter().map(|s| s.0).fold(0.0, f64::max) * 60.0
    }

    /// The most requests expected in any `window` of the event (all of it when shorter).
    /// Windows start on step boundaries, which finds the maximum when a step divides the
    /// window; a window no longer than a step is busiest inside the fastest step.
    fn busiest(&self, window: Duration) -> f64 {
        let window = window.as_secs_f64();
        if self.step.as_secs_f64() >= window {
            return self
                .steps
                .iter()
                .map(|&(rate, span)| rate * span.min(window))
                .fold(0.0, f64::max);
        }
        let n = ((window / self.step.as_secs_f64()).round() as usize).max(1);
        let demand: Vec<f64> = self.steps.iter().map(|&(rate, span)| rate * span).collect();
        let mut sum: f64 = demand.iter().take(n).sum();
        let mut best = sum;
        for i in n..demand.len() {
            sum += demand[i] - demand[i - n];
            best = best.max(sum);
        }
        best
    }
}
