//! `keyrotor plan`: how many keys an event needs.
//!
//! 1. Analytical lower bound per limit: RPM and TPM at the peak minute, RPD and TPD over the
//!    busiest day, each `⌈demand ÷ limit per key⌉`; the largest binds.
//! 2. Simulated minimum: the event itself (Poisson arrivals following its hourly shape) run in
//!    simulated time against the mock for growing key counts from the bound, until the
//!    success objective holds; the same for each seed policy, so the cost of a policy shows in
//!    keys.
//!
//! Requests ask for `max_tokens` = the completion size, and the mock answers with exactly that
//! many tokens, so prompt + completion is both what is reserved and what is spent.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::bail;
use mock_groq::catalog::{self, Limits, Tier};
use mock_groq::config::{CompletionConfig, LimitsOverride};
use serde::{Deserialize, Serialize};

use crate::report::Figure;

use crate::driver::NoProgress;
use crate::engine::PolicyConfig;
use crate::engine::rotor::MAX_KEYS;
use crate::run::{RunOptions, run};
use crate::scenario::{
    Arrival, Count, Engine, Keys, Layout, Mode, PolicySpec, Rate, Scenario, Target, Tokens, Traffic,
};

/// What the event looks like (also the `--file` TOML form).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// Users.
    pub users: u64,
    /// Queries per user over the event.
    pub queries_per_user: f64,
    /// The event's length.
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// Peak-hour factor: the busiest hour carries this many times the average (1 = flat).
    #[serde(default = "one")]
    pub peak_factor: f64,
    /// Relative load of each hour (overrides `peak_factor`).
    #[serde(default)]
    pub profile: Vec<f64>,
    /// Prompt tokens per query.
    pub prompt_tokens: u64,
    /// Completion tokens per query.
    pub completion_tokens: u64,
    /// Model from the catalog.
    #[serde(default = "default_model")]
    pub model: String,
    /// Plan.
    #[serde(default)]
    pub tier: Tier,
    /// Explicit limits per organisation (replace the catalog's where given; 0 = unlimited).
    #[serde(default)]
    pub limits: Option<LimitsOverride>,
    /// `separate` (a key per organisation) or `shared` (all keys in one).
    #[serde(default)]
    pub layout: Layout,
    /// Goodput objective: the share of requests answered within `latency_budget`.
    #[serde(default = "default_objective")]
    pub objective: f64,
    /// How long a user waits for an answer.
    #[serde(default = "default_latency_budget", with = "humantime_serde")]
    pub latency_budget: Duration,
    /// Optional objective on the p99 latency of succeeded requests, ms.
    #[serde(default)]
    pub max_p99_ms: Option<f64>,
    /// Optional objective on the longest any answered user waited, ms.
    #[serde(default)]
    pub max_wait_ms: Option<f64>,
    /// Policy to size for.
    #[serde(default)]
    pub policy: PolicySpec,
    /// Seed.
    #[serde(default)]
    pub seed: u64,
    /// Largest key count the simulation tries.
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
    /// Skip the simulations (analytical bound only).
    #[serde(default)]
    pub analytical_only: bool,
    /// The event's traffic goes on day after day (e.g. "N users every hour"): keys do not
    /// start it with full budgets but in steady state, so only the refill counts.
    #[serde(default)]
    pub steady: bool,
}

fn one() -> f64 {
    1.0
}
fn default_model() -> String {
    "llama-3.3-70b-versatile".to_owned()
}
fn default_latency_budget() -> Duration {
    Duration::from_secs(5)
}
fn default_objective() -> f64 {
    0.99
}
fn default_max_keys() -> usize {
    MAX_KEYS
}

/// One limit's bound.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// A simulated key count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// Keys.
    pub keys: usize,
    /// Measured success rate (`null`: nothing offered).
    pub success_rate: Option<f64>,
    /// Measured goodput rate: answered within the latency budget (`null`: nothing offered).
    pub goodput_rate: Option<f64>,
    /// p99 latency of succeeded requests, ms (`null`: none succeeded).
    pub p99_ms: Figure,
    /// Longest latency of a succeeded request, ms (`null`: none succeeded).
    pub max_ms: Figure,
    /// Whether every objective is met.
    pub meets: bool,
}

impl PlanInput {
    fn point(&self, keys: usize, report: &crate::report::Report) -> Point {
        let (p99, max) = (report.latency_ms.p99, report.latency_ms.max);
        // An objective on a figure without data is not met.
        let within = |limit: Option<f64>, figure: Figure| {
            limit.is_none_or(|m| figure.number().is_some_and(|v| v <= m))
        };
        Point {
            keys,
            success_rate: report.summary.success_rate,
            goodput_rate: report.summary.goodput_rate,
            p99_ms: p99,
            max_ms: max,
            meets: report
                .summary
                .goodput_rate
                .is_some_and(|s| s >= self.objective)
                && within(self.max_p99_ms, p99)
                && within(self.max_wait_ms, max),
        }
    }
}

/// The simulated part for one policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Simulated {
    /// Policy.
    pub policy: String,
    /// Smallest key count meeting the objective, if one within `max_keys` does.
    pub min_keys: Option<usize>,
    /// Every count run.
    pub points: Vec<Point>,
}

/// The planner's answer (`--json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The input.
    pub input: PlanInput,
    /// Limits per organisation used, and their source.
    pub limits: Limits,
    /// Where the limits come from.
    pub limits_source: String,
    /// Lower bounds.
    pub analytical: Analytical,
    /// The chosen policy's simulated minimum.
    pub simulated: Simulated,
    /// Each seed policy's simulated minimum.
    pub by_policy: Vec<Simulated>,
    /// What to use: the simulated minimum (or the bound when not simulated).
    pub recommended_keys: Option<u64>,
    /// Notes (e.g. why nothing works).
    pub notes: Vec<String>,
}

impl PlanInput {
    fn weights(&self) -> Vec<f64> {
        if !self.profile.is_empty() {
            return self.profile.clone();
        }
        let hours = (self.duration.as_secs_f64() / 3600.0).ceil().max(1.0) as usize;
        if hours == 1 || self.peak_factor <= 1.0 {
            return vec![1.0; hours];
        }
        // One peak hour in the middle carrying `peak_factor` × the mean; the rest share what is left.
        let f = self.peak_factor.min(hours as f64);
        let rest = (hours as f64 - f) / (hours as f64 - 1.0);
        (0..hours)
            .map(|h| if h == hours / 2 { f } else { rest })
            .collect()
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.users == 0 {
            bail!("users must be at least 1");
        }
        if !(self.queries_per_user.is_finite() && self.queries_per_user > 0.0) {
            bail!("queries per user must be > 0");
        }
        if self.duration < Duration::from_secs(60) {
            bail!("the event must last at least a minute");
        }
        if self.prompt_tokens == 0 || self.completion_tokens == 0 {
            bail!("prompt and completion tokens must be at least 1");
        }
        if !(self.objective > 0.0 && self.objective <= 1.0) {
            bail!("the objective is a goodput rate in (0, 1], e.g. 0.99");
        }
        if self.latency_budget.is_zero() || self.latency_budget > crate::scenario::limits::TIMEOUT {
            bail!("the latency budget is between 1 ms and 1 h");
        }
        if self.max_p99_ms.is_some_and(|m| m.is_nan() || m <= 0.0)
            || self.max_wait_ms.is_some_and(|m| m.is_nan() || m <= 0.0)
        {
            bail!("latency objectives are milliseconds > 0");
        }
        if !(self.peak_factor.is_finite() && self.peak_factor >= 1.0) {
            bail!("the peak factor is ≥ 1 (1 = flat)");
        }
        if !self.profile.is_empty()
            && (self.profile.iter().any(|w| !w.is_finite() || *w < 0.0)
                || self.profile.iter().sum::<f64>() <= 0.0)
        {
            bail!("a profile has one weight ≥ 0 per hour, not all zero");
        }
        if self.users > 1_000_000_000 || self.queries_per_user > 1e6 {
            bail!("at most 1,000,000,000 users and 1,000,000 queries per user");
        }
        if self.duration > crate::scenario::limits::DURATION {
            bail!("the event lasts at most 30 days");
        }
        if self.prompt_tokens > crate::scenario::limits::TOKENS
            || self.completion_tokens > crate::scenario::limits::TOKENS
        {
            bail!("prompt and completion tokens are at most 1,000,000 each");
        }
        if !(1..=MAX_KEYS).contains(&self.max_keys) {
            bail!("max keys is between 1 and {MAX_KEYS}");
        }
        if self.profile.len() > crate::scenario::limits::PROFILE.0 {
            bail!("a profile has at most 10,000 hours");
        }
        if catalog::find(&self.model).is_none() && self.limits.is_none() {
            bail!(
                "model `{}` is not in the catalog ({}); give explicit limits (--rpm, --rpd, --tpm, --tpd)",
                self.model,
                catalog::MODELS
                    .iter()
                    .map(|m| m.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(())
    }

    /// The limits per organisation and where they come from.
    pub fn limits(&self) -> (Limits, String) {
        mock_groq::config::limits_in_force(&self.model, self.tier, self.limits)
    }

    /// The event as a simulated scenario with `keys` keys and `policy`.
    pub fn scenario(&self, keys: usize, policy: &PolicySpec) -> Scenario {
        let requests = self.users as f64 * self.queries_per_user;
        let minutes = self.duration.as_secs_f64() / 60.0;
        // The simulated model uses a known model's speeds; explicit limits are what matter.
        let model = if catalog::find(&self.model).is_some() {
            self.model.clone()
        } else {
            default_model()
        };
        let (limits, _) = self.limits();
        let zero_is_unlimited = |v: Option<u64>| Some(v.unwrap_or(0));
        let mut scenario = Scenario {
            name: "plan".to_owned(),
            description: String::new(),
            mode: Mode::Sim,
            seed: self.seed,
            target: Target {
                model,
                tier: self.tier,
                limits: Some(LimitsOverride {
                    rpm: zero_is_unlimited(limits.rpm),
                    rpd: zero_is_unlimited(limits.rpd),
                    tpm: zero_is_unlimited(limits.tpm),
                    tpd: zero_is_unlimited(limits.tpd),
                }),
                completion: Some(CompletionConfig {
                    min_fraction: 1.0,
                    max_fraction: 1.0,
                }),
                ..Target::default()
            },
            keys: Keys {
                count: Count(keys.max(1)),
                layout: if self.layout == Layout::Shared {
                    Layout::Shared
                } else {
                    Layout::Separate
                },
                orgs: Vec::new(),
            },
            engine: Engine {
                policy: policy.clone(),
                ..Engine::default()
            },
            traffic: Traffic {
                arrival: Arrival::Profile,
                rate: Some(Rate((requests / minutes).max(1e-6))),
                peak: None,
                change_at: None,
                spike_for: None,
                users: None,
                think: None,
                duration: Some(self.duration),
                requests: None,
                prompt_tokens: Tokens::Fixed(self.prompt_tokens),
                completion_tokens: Tokens::Fixed(self.completion_tokens),
                stream: false,
                interval: Duration::from_secs(600),
                latency_budget: self.latency_budget,
                profile: self.weights(),
            },
            thresholds: Default::default(),
        };
        if self.steady && self.outruns_daily_refill(keys) {
            scenario
                .target
                .events
                .push(crate::scenario::TargetEvent::ExhaustDaily {
                    at: Duration::ZERO,
                    org: None,
                });
        }
        scenario
    }

    /// Whether the event's daily demand per organisation, with `keys` keys, exceeds a day's
    /// refill of RPD or TPD: in steady state those budgets are then spent.
    fn outruns_daily_refill(&self, keys: usize) -> bool {
        let (limits, _) = self.limits();
        let orgs = if self.layout == Layout::Shared {
            1
        } else {
            keys.max(1)
        } as f64;
        let days = self.duration.as_secs_f64() / 86_400.0;
        let per_org_day = self.users as f64 * self.queries_per_user / days.max(1.0) / orgs;
        let tokens = (self.prompt_tokens + self.completion_tokens) as f64;
        limits.rpd.is_some_and(|l| per_org_day > l as f64)
            || limits.tpd.is_some_and(|l| per_org_day * tokens > l as f64)
    }
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
    let weights = input.weights();
    let mean = weights.iter().sum::<f64>() / weights.len() as f64;
    let peak_share = weights.iter().copied().fold(0.0, f64::max) / mean;
    let peak_rpm = requests / minutes * peak_share;
    let tokens = (input.prompt_tokens + input.completion_tokens) as f64;
    // Minute limits over the busiest hour (or the whole event, if shorter).
    let hour = minutes.min(60.0);
    let peak_span = peak_rpm * hour;
    // Day limits over the busiest day (the whole event, if shorter).
    let day = minutes.min(1440.0);
    let per_day = requests * day / minutes;
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

fn simulate(
    input: &PlanInput,
    policy: &PolicySpec,
    from: usize,
    progress: &mut dyn FnMut(&str, usize, f64),
) -> anyhow::Result<Simulated> {
    let mut points = Vec::new();
    let mut min_keys = None;
    let mut keys = from.max(1);
    while keys <= input.max_keys.min(MAX_KEYS) {
        let report = run(
            &input.scenario(keys, policy),
            RunOptions::default(),
            &NoProgress,
        )?
        .report;
        progress(
            policy.text(),
            keys,
            report.summary.success_rate.unwrap_or(0.0),
        );
        let point = input.point(keys, &report);
        let meets = point.meets;
        points.push(point);
        if meets {
            min_keys = Some(keys);
            break;
        }
        // Step by about 10 % once counts are large.
        keys += (keys / 10).max(1);
    }
    if let Some(found) = min_keys
        && found > from
    {
        // A coarse step may have jumped past the minimum: walk back down.
        let mut k = found - 1;
        while k >= from.max(1) && !points.iter().any(|p| p.keys == k) {
            let report = run(
                &input.scenario(k, policy),
                RunOptions::default(),
                &NoProgress,
            )?
            .report;
            progress(policy.text(), k, report.summary.success_rate.unwrap_or(0.0));
            let point = input.point(k, &report);
            let meets = point.meets;
            points.push(point);
            if !meets {
                break;
            }
            min_keys = Some(k);
            if k == 1 {
                break;
            }
            k -= 1;
        }
    }
    points.sort_by_key(|p| p.keys);
    Ok(Simulated {
        policy: policy.text().to_owned(),
        min_keys,
        points,
    })
}

/// Plans an event.
pub fn plan(input: PlanInput, progress: &mut dyn FnMut(&str, usize, f64)) -> anyhow::Result<Plan> {
    input.validate()?;
    let (limits, limits_source) = input.limits();
    let analytical = analytical(&input, &limits);
    let mut notes = Vec::new();
    if let Some(tpm) = limits.tpm
        && input.prompt_tokens + input.completion_tokens > tpm
    {
        bail!(
            "no key count can serve this event: one request ({} prompt + {} completion tokens) is larger than the whole per-minute token limit ({tpm} TPM), so Groq answers every request 413",
            input.prompt_tokens,
            input.completion_tokens
        );
    }
    if input.layout == Layout::Shared && analytical.min_keys > 1 {
        bail!(
            "no key count can serve this event: all keys are in one organisation, which shares one set of limits, and one organisation's {} is {}× too small; use keys of separate organisations",
            analytical.binding.to_uppercase(),
            analytical.min_keys
        );
    }
    let empty = |policy: &str| Simulated {
        policy: policy.to_owned(),
        min_keys: None,
        points: Vec::new(),
    };
    let from = analytical.min_keys as usize;
    let too_many = from > input.max_keys.min(MAX_KEYS);
    if too_many {
        notes.push(format!("the analytical bound ({from} keys) exceeds the simulation's cap ({} keys): not simulated", input.max_keys.min(MAX_KEYS)));
    }
    let (simulated, by_policy) = if input.analytical_only || too_many {
        (empty(input.policy.text()), Vec::new())
    } else {
        let mut simulated = simulate(&input, &input.policy, from, progress)?;
        // Context for the table and plot: a few counts below the bound.
        for keys in [from / 4, from / 2, from.saturating_sub(1)] {
            if keys >= 1 && !simulated.points.iter().any(|p| p.keys == keys) {
                let report = run(
                    &input.scenario(keys, &input.policy),
                    RunOptions::default(),
                    &NoProgress,
                )?
                .report;
                progress(
                    input.policy.text(),
                    keys,
                    report.summary.success_rate.unwrap_or(0.0),
                );
                simulated.points.push(input.point(keys, &report));
            }
        }
        simulated.points.sort_by_key(|p| p.keys);
        let mut by_policy = Vec::new();
        for preset in PolicyConfig::presets()
            .iter()
            .filter(|p| p.name != input.policy.config.name())
        {
            let spec: PolicySpec = preset
                .name
                .parse()
                .map_err(|e: String| anyhow::anyhow!(e))?;
            by_policy.push(simulate(&input, &spec, from, progress)?);
        }
        if simulated.min_keys.is_none() {
            notes.push(format!(
                "no key count up to {} met the objective (goodput ≥ {} within {}{}{})",
                input.max_keys.min(MAX_KEYS),
                input.objective,
                humantime_serde::re::humantime::format_duration(input.latency_budget),
                input
                    .max_p99_ms
                    .map_or(String::new(), |m| format!(", p99 ≤ {m} ms")),
                input
                    .max_wait_ms
                    .map_or(String::new(), |m| format!(", longest wait ≤ {m} ms"))
            ));
        }
        (simulated, by_policy)
    };
    let recommended_keys = match (&simulated.min_keys, input.analytical_only || too_many) {
        (Some(k), _) => Some(*k as u64),
        (None, true) => Some(analytical.min_keys),
        (None, false) => None,
    };
    Ok(Plan {
        input,
        limits,
        limits_source,
        analytical,
        simulated,
        by_policy,
        recommended_keys,
        notes,
    })
}

impl Plan {
    /// The objective as stated: success, and the latency objectives that were set.
    fn objective_text(&self) -> String {
        let i = &self.input;
        let mut text = format!(
            "≥ {} of requests answered within {}",
            i.objective,
            humantime_serde::re::humantime::format_duration(i.latency_budget)
        );
        if let Some(m) = i.max_p99_ms {
            let _ = write!(text, ", p99 ≤ {m} ms");
        }
        if let Some(m) = i.max_wait_ms {
            let _ = write!(text, ", longest wait ≤ {m} ms");
        }
        text
    }

    /// What the waits were at the recommended count when no objective bounded them, so the
    /// answer does not pass off long waits as met.
    fn waits_at_minimum(&self) -> String {
        let i = &self.input;
        let Some(point) = self
            .simulated
            .min_keys
            .and_then(|k| self.simulated.points.iter().find(|p| p.keys == k))
        else {
            return String::new();
        };
        if i.max_p99_ms.is_some() && i.max_wait_ms.is_some() {
            return String::new();
        }
        format!(
            " No objective bounded how long users wait: at {} keys the p99 was {} ms and the longest answered request waited {} ms (size for waits with --max-p99-ms and --max-wait-ms).",
            point.keys,
            point.p99_ms.show(0),
            point.max_ms.show(0)
        )
    }

    /// The markdown answer.
    pub fn markdown(&self) -> String {
        let i = &self.input;
        let a = &self.analytical;
        let mut out = format!(
            "# Key plan\n\n{} users × {} queries over {} ({:.0} requests; peak {:.1} req/min), {} prompt + {} completion tokens, `{}`; limits per organisation: {} ({}).\n\n",
            i.users,
            i.queries_per_user,
            humantime_serde::re::humantime::format_duration(i.duration),
            a.requests,
            a.peak_rpm,
            i.prompt_tokens,
            i.completion_tokens,
            i.model,
            self.limits,
            self.limits_source
        );
        out.push_str("| limit | demand | per key | keys needed |\n|---|---:|---:|---:|\n");
        for b in &a.bounds {
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} | {}{} |",
                b.limit.to_uppercase(),
                b.demand,
                b.per_key.map_or("unlimited".to_owned(), |v| v.to_string()),
                b.keys,
                if b.limit == a.binding {
                    " ← binds"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(
            out,
            "\nAnalytical lower bound: **{} keys** ({} binds).\n",
            a.min_keys,
            a.binding.to_uppercase()
        );
        let show = |s: &Simulated| s.min_keys.map_or("not met".to_owned(), |k| k.to_string());
        if !self.simulated.points.is_empty() {
            let _ = writeln!(
                out,
                "Simulated minimum with `{}` ({}): **{} keys**.{}\n\n| policy | keys needed |\n|---|---:|\n| {} | {} |",
                self.simulated.policy,
                self.objective_text(),
                show(&self.simulated),
                self.waits_at_minimum(),
                self.simulated.policy,
                show(&self.simulated)
            );
            for s in &self.by_policy {
                let _ = writeln!(out, "| {} | {} |", s.policy, show(s));
            }
            out.push_str("\n| keys | success rate | p99 (ms) | longest (ms) | meets objective |\n|---:|---:|---:|---:|---|\n");
            for p in &self.simulated.points {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    p.keys,
                    Figure::of(p.success_rate).show(4),
                    p.p99_ms.show(0),
                    p.max_ms.show(0),
                    if p.meets { "yes" } else { "no" }
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nNote: {note}");
        }
        let _ = writeln!(
            out,
            "\nRecommended: {}",
            self.recommended_keys
                .map_or("no key count meets the objective".to_owned(), |k| format!(
                    "{k} keys"
                ))
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(extra: &str) -> PlanInput {
        let text = format!(
            "users = 1000\nqueries_per_user = 10\nduration = \"24h\"\nprompt_tokens = 200\ncompletion_tokens = 200\n{extra}"
        );
        toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn bounds_per_limit_and_the_binding_one() {
        let i = input("");
        let (limits, _) = i.limits();
        let a = analytical(&i, &limits);
        // 10,000 requests over a day; a day's bucket gives its limit twice over a day (full +
        // refill): RPD 1,000 → 5 keys; TPD 100,000 at 400 tokens → 20 keys.
        assert_eq!(
            a.bounds.iter().find(|b| b.limit == "rpd").map(|b| b.keys),
            Some(5)
        );
        assert_eq!(
            a.bounds.iter().find(|b| b.limit == "tpd").map(|b| b.keys),
            Some(20)
        );
        assert_eq!((a.min_keys, a.binding.as_str()), (20, "tpd"));
        let seeds = input("limits = { rpm = 30, rpd = 6000, tpm = 0, tpd = 0 }");
        let (limits, _) = seeds.limits();
        assert_eq!(
            analytical(&seeds, &limits).min_keys,
            1,
            "6,000/day twice over: one key"
        );
    }

    #[test]
    fn an_unlimited_dimension_never_binds_and_steady_counts_only_the_refill() {
        // The developer tier publishes no TPD: a light event binds nothing or a real limit.
        let dev = PlanInput {
            users: 10,
            queries_per_user: 1.0,
            ..input("tier = \"developer\"")
        };
        let (limits, _) = dev.limits();
        assert_eq!(limits.tpd, None);
        let a = analytical(&dev, &limits);
        assert_ne!(a.binding, "tpd", "{a:?}");
        let unlimited = input("limits = { rpm = 0, rpd = 0, tpm = 0, tpd = 0 }");
        let (limits, _) = unlimited.limits();
        assert_eq!(analytical(&unlimited, &limits).binding, "none");
        // 30,000 requests a day at 6,000 a day per key: 3 keys from full budgets (two days'
        // worth over one day), 5 in steady state.
        let burst = PlanInput {
            users: 30_000,
            queries_per_user: 1.0,
            ..input("limits = { rpm = 30, rpd = 6000, tpm = 0, tpd = 0 }")
        };
        let steady = PlanInput {
            steady: true,
            ..burst.clone()
        };
        let (limits, _) = burst.limits();
        assert_eq!(analytical(&burst, &limits).min_keys, 3);
        assert_eq!(analytical(&steady, &limits).min_keys, 5);
    }

    #[test]
    fn peak_factor_raises_the_minute_bounds() {
        let flat = input("");
        let peaked = PlanInput {
            peak_factor: 3.0,
            ..flat.clone()
        };
        let (limits, _) = flat.limits();
        let (a, b) = (analytical(&flat, &limits), analytical(&peaked, &limits));
        assert!(
            (b.peak_rpm / a.peak_rpm - 3.0).abs() < 1e-9,
            "{} vs {}",
            a.peak_rpm,
            b.peak_rpm
        );
        let rpm = |x: &Analytical| x.bounds[0].demand;
        assert!((rpm(&b) / rpm(&a) - 3.0).abs() < 1e-9);
        let weights = peaked.weights();
        assert!(
            (weights.iter().sum::<f64>() - weights.len() as f64).abs() < 1e-9,
            "the profile keeps the total"
        );
    }

    #[test]
    fn bad_inputs_are_explained() {
        let mut quiet = |_: &str, _: usize, _: f64| {};
        let cases = [
            (
                PlanInput {
                    users: 0,
                    ..input("")
                },
                "users",
            ),
            (
                PlanInput {
                    prompt_tokens: 0,
                    ..input("")
                },
                "tokens",
            ),
            (
                PlanInput {
                    model: "gpt-9".into(),
                    ..input("")
                },
                "explicit limits",
            ),
            (
                PlanInput {
                    prompt_tokens: 20_000,
                    analytical_only: true,
                    ..input("")
                },
                "larger than the whole per-minute token limit",
            ),
            (
                PlanInput {
                    layout: Layout::Shared,
                    analytical_only: true,
                    ..input("")
                },
                "one organisation",
            ),
            (
                PlanInput {
                    objective: 1.5,
                    ..input("")
                },
                "objective",
            ),
        ];
        for (i, needle) in cases {
            let err = plan(i, &mut quiet)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }
}
