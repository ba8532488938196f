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

mod bound;
mod confidence;
mod fitted;
mod provider;
mod render;
mod search;
mod tiers;

pub use bound::{Analytical, Bound, analytical};
pub use confidence::{Confidence, Share, wilson};
pub use fitted::fitted;
pub use search::Progress;
pub use tiers::{ORGANISATIONS_NOTE, TierOption, Tiers};

use std::time::Duration;

use anyhow::bail;
use mock_groq::catalog::{self, Limits, Tier};
use mock_groq::config::LimitsOverride;
use serde::{Deserialize, Serialize};

use crate::spec::metrics::Figure;

use crate::engine::PolicyConfig;
use crate::engine::provider::ProviderName;
use crate::engine::rotor::MAX_KEYS;
use crate::spec::scenario::{Layout, PolicySpec, Scenario, ScenarioBuilder, Tokens};

/// What the event looks like: the flags of `keyrotor plan` and the fields of its `--file`
/// TOML form (the same names, with underscores), with the same defaults.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
#[group(id = "event", multiple = true)]
pub struct PlanInput {
    /// Users.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Queries per user over the event.
    #[arg(long = "queries", value_name = "N", default_value_t = 10.0)]
    pub queries_per_user: f64,
    /// The event's length, e.g. 8h, 1d.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    #[arg(long, default_value = "24h", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub duration: Duration,
    /// Peak-hour factor: the busiest hour carries this many times the average (1 = flat).
    #[serde(default = "one")]
    #[arg(long, default_value_t = one())]
    pub peak_factor: f64,
    /// Relative load of each step, e.g. 1,1,2,4,2,1 (overrides the peak factor; repeats
    /// after the last).
    #[serde(default)]
    #[arg(long, value_delimiter = ',')]
    pub profile: Vec<f64>,
    /// How long each weight of the profile lasts: a divisor of an hour (e.g. `10m` for a
    /// keynote's spike, `1m` for waves of users) or whole hours dividing a day.
    #[serde(default = "default_step", with = "humantime_serde")]
    #[schemars(with = "String")]
    #[arg(long, default_value = "1h", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub profile_step: Duration,
    /// Prompt tokens per query.
    #[arg(long, default_value_t = 200)]
    pub prompt_tokens: u64,
    /// Completion tokens per query.
    #[arg(long, default_value_t = 200)]
    pub completion_tokens: u64,
    /// Model from the catalog (Groq's recommended one by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // The built-in catalog's `recommended`; a `--catalog` file may recommend another.
    #[schemars(with = "String", extend("default" = "openai/gpt-oss-120b"))]
    #[arg(long)]
    pub model: Option<String>,
    /// Whose API the keys are for: `groq`, `gemini`, `openrouter` or `cerebras`
    /// (docs/providers.md). Its limits belong to its scope (Gemini's project, OpenRouter's
    /// account, an organisation elsewhere); another provider than Groq needs `--model`, and
    /// explicit limits where it publishes no free figures.
    #[serde(default)]
    #[schemars(with = "String", extend("default" = "groq"))]
    #[arg(long, default_value = "groq", value_parser = crate::spec::flags::parse_provider)]
    pub provider: ProviderName,
    /// The day whose Groq catalog applies (which models exist, their limits); today when
    /// absent. On the command line it is the shared `--as-of`.
    #[serde(default)]
    #[arg(skip)]
    pub as_of: Option<jiff::civil::Date>,
    /// Groq's plan: `free` or `developer`.
    #[serde(default)]
    #[arg(long, default_value = "free", value_parser = parse_tier)]
    pub tier: Tier,
    /// Explicit limits per organisation (replace the catalog's where given; 0 = unlimited).
    /// On the command line: --rpm, --rpd, --tpm, --tpd.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, Option<u64>>>")]
    #[arg(skip)]
    pub limits: Option<LimitsOverride>,
    /// `separate` (a key per organisation) or `shared` (all keys in one).
    #[serde(default)]
    #[arg(long, default_value = "separate", value_parser = parse_layout)]
    pub layout: Layout,
    /// Goodput objective: the share of requests answered within the latency budget.
    #[serde(default = "default_objective")]
    #[arg(long, default_value_t = default_objective())]
    pub objective: f64,
    /// How long a user waits for an answer, e.g. 5s, 2s.
    #[serde(default = "default_latency_budget", with = "humantime_serde")]
    #[schemars(with = "String")]
    #[arg(long, default_value = "5s", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub latency_budget: Duration,
    /// Optional objective on the p99 latency of succeeded requests, ms.
    #[serde(default)]
    #[arg(long, value_name = "MS")]
    pub max_p99_ms: Option<f64>,
    /// Optional objective on the longest any answered user waited, ms.
    #[serde(default)]
    #[arg(long, value_name = "MS")]
    pub max_wait_ms: Option<f64>,
    /// Policy to size for, e.g. `adaptive` or `cooldown:cooldown=30s` (see `keyrotor
    /// policies`).
    #[serde(default)]
    #[arg(long, default_value = "adaptive")]
    pub policy: PolicySpec,
    /// Seed.
    #[serde(default)]
    #[arg(skip)]
    pub seed: u64,
    /// Largest key count the simulation tries.
    #[serde(default = "default_max_keys")]
    #[arg(long, default_value_t = default_max_keys())]
    pub max_keys: usize,
    /// Skip the simulations (analytical bound only).
    #[serde(default)]
    #[arg(long)]
    pub analytical_only: bool,
    /// The event's traffic goes on day after day (e.g. "N users every hour"): keys do not
    /// start it with full budgets but in steady state, so only the refill counts.
    #[serde(default)]
    #[arg(long)]
    pub steady: bool,
    /// The share of seeds whose simulated event must meet the objective for a count to be
    /// recommended, in (0, 1].
    #[serde(default = "default_confidence")]
    #[arg(long, default_value_t = default_confidence())]
    pub confidence: f64,
    /// Seeds simulated per key count around the answer, 0 to 1,000 (0: one seed, no
    /// confidence figure).
    #[serde(default = "default_seeds")]
    #[arg(long, default_value_t = default_seeds())]
    pub seeds: usize,
    /// Simulate every seed of every count examined. Without it a count stops once so many
    /// seeds have missed that it cannot reach the confidence (same recommendation, faster;
    /// that count's share is then over the seeds run).
    #[serde(default)]
    #[arg(long)]
    pub all_seeds: bool,
}

/// `--tier`: `free` or `developer`.
fn parse_tier(text: &str) -> Result<Tier, String> {
    match text {
        "free" => Ok(Tier::Free),
        "developer" => Ok(Tier::Developer),
        other => Err(format!("free or developer, not `{other}`")),
    }
}

/// `--layout`: `separate` or `shared`.
fn parse_layout(text: &str) -> Result<Layout, String> {
    match text {
        "separate" => Ok(Layout::Separate),
        "shared" => Ok(Layout::Shared),
        other => Err(format!("separate or shared, not `{other}`")),
    }
}

fn default_step() -> Duration {
    Duration::from_secs(3600)
}
fn default_confidence() -> f64 {
    0.95
}
fn default_seeds() -> usize {
    20
}

fn one() -> f64 {
    1.0
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

/// A simulated key count.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The run stopped once too many requests had gone unanswered for the objective to be
    /// met (a search that only needed that answer): its figures were not measured.
    #[serde(default)]
    pub settled_early: bool,
}

impl PlanInput {
    fn point(&self, keys: usize, report: &crate::measure::report::Report) -> Point {
        if report.incomplete {
            return Point {
                keys,
                success_rate: None,
                goodput_rate: None,
                p99_ms: Figure::NoData,
                max_ms: Figure::NoData,
                meets: false,
                settled_early: true,
            };
        }
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
            settled_early: false,
        }
    }
}

/// The simulated part for one policy.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Simulated {
    /// Policy.
    pub policy: String,
    /// Smallest key count meeting the objective, if one within `max_keys` does.
    pub min_keys: Option<usize>,
    /// Every count run.
    pub points: Vec<Point>,
}

/// The planner's answer (`--json`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Around the simulated minimum: the share of seeds meeting the objective per count.
    pub confidence: Option<Confidence>,
    /// Free-tier keys in separate organisations beside one developer-tier organisation,
    /// with the expected spend (absent with explicit limits).
    pub tiers: Option<Tiers>,
    /// What to use: the smallest count reaching the confidence (else the single-seed
    /// simulated minimum when no confidence was asked, or the bound when not simulated).
    pub recommended_keys: Option<u64>,
    /// Notes (e.g. why nothing works).
    pub notes: Vec<String>,
}

impl PlanInput {
    /// The day whose catalog applies: `as_of`, or today (UTC).
    pub fn as_of(&self) -> jiff::civil::Date {
        self.as_of.unwrap_or_else(catalog::today)
    }

    /// The length of one weight: the profile's step, or an hour for `peak_factor`.
    fn step(&self) -> Duration {
        if self.profile.is_empty() {
            default_step()
        } else {
            self.profile_step
        }
    }

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

    /// The most keys the simulation tries: `max_keys`, within the engine's [`MAX_KEYS`].
    pub fn key_cap(&self) -> usize {
        self.max_keys.min(MAX_KEYS)
    }

    /// Checks every field's range, and that the model is served on the plan's day.
    fn validate(&self) -> anyhow::Result<()> {
        self.validate_event()?;
        self.validate_objective()?;
        self.validate_model()
    }

    /// The event: users, queries, length, tokens and load profile.
    fn validate_event(&self) -> anyhow::Result<()> {
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
        if self.users > 1_000_000_000 || self.queries_per_user > 1e6 {
            bail!("at most 1,000,000,000 users and 1,000,000 queries per user");
        }
        if self.duration > crate::spec::limits::DURATION {
            bail!("the event lasts at most 30 days");
        }
        if self.prompt_tokens > crate::spec::limits::TOKENS
            || self.completion_tokens > crate::spec::limits::TOKENS
        {
            bail!("prompt and completion tokens are at most 1,000,000 each");
        }
        let max_weight = crate::spec::limits::PROFILE.1;
        if !(self.peak_factor.is_finite() && (1.0..=max_weight).contains(&self.peak_factor)) {
            bail!("the peak factor is from 1 (flat) to 1,000,000");
        }
        // Each weight bounded, so their sum (and every rate made of it) stays finite.
        if !self.profile.is_empty()
            && (self
                .profile
                .iter()
                .any(|w| !w.is_finite() || !(0.0..=max_weight).contains(w))
                || self.profile.iter().sum::<f64>() <= 0.0)
        {
            bail!("a profile has one weight per step, each from 0 to 1,000,000, not all zero");
        }
        if self.profile.len() > crate::spec::limits::PROFILE.0 {
            bail!("a profile has at most 10,000 steps");
        }
        if !self.profile.is_empty() && !crate::spec::scenario::profile_step_ok(self.profile_step) {
            bail!(
                "a profile step divides an hour into whole seconds (1s … 1h, e.g. 10m) or is a whole number of hours dividing a day (2h, 3h, 4h, 6h, 8h, 12h, 24h)"
            );
        }
        Ok(())
    }

    /// What the plan must meet, and how far it searches.
    fn validate_objective(&self) -> anyhow::Result<()> {
        if !(self.objective > 0.0 && self.objective <= 1.0) {
            bail!("the objective is a goodput rate in (0, 1], e.g. 0.99");
        }
        if self.latency_budget.is_zero() || self.latency_budget > crate::spec::limits::TIMEOUT {
            bail!("the latency budget is between 1 ms and 1 h");
        }
        if self.max_p99_ms.is_some_and(|m| m.is_nan() || m <= 0.0)
            || self.max_wait_ms.is_some_and(|m| m.is_nan() || m <= 0.0)
        {
            bail!("latency objectives are milliseconds > 0");
        }
        if !(self.confidence > 0.0 && self.confidence <= 1.0) {
            bail!("the confidence is a share of seeds in (0, 1], e.g. 0.95");
        }
        if self.seeds > 1000 {
            bail!("at most 1,000 seeds per key count");
        }
        if !(1..=MAX_KEYS).contains(&self.max_keys) {
            bail!("max keys is between 1 and {MAX_KEYS}");
        }
        Ok(())
    }

    /// The model planned for: the one named, or on Groq the catalog's recommended one
    /// (empty for another provider when none is named).
    pub fn model(&self) -> &str {
        match (&self.model, self.provider) {
            (Some(model), _) => model,
            (None, ProviderName::Groq) => &catalog::current().recommended,
            (None, _) => "",
        }
    }

    /// The model: served on the plan's day, or unknown to the catalog but with explicit
    /// limits.
    fn validate_model(&self) -> anyhow::Result<()> {
        if self.provider != ProviderName::Groq {
            return self.validate_provider();
        }
        let as_of = self.as_of();
        let catalog = catalog::current();
        match catalog.model(self.model()) {
            Some(model) => {
                let availability = model.availability(as_of);
                if availability != catalog::Availability::Served {
                    bail!(
                        "model `{}` is {availability} as of {as_of}: Groq answers every request naming it 404 model_not_found, so no number of keys serves the event. Plan for a model served that day ({}), or pass --as-of to plan for an earlier day",
                        self.model(),
                        catalog.served_ids(as_of)
                    );
                }
            }
            None if self.limits.is_none() => bail!(
                "model `{}` is not in the catalog ({}); give explicit limits (--rpm, --rpd, --tpm, --tpd)",
                self.model(),
                catalog.ids()
            ),
            None => {}
        }
        Ok(())
    }

    /// The limits per organisation (the provider's scope) and where they come from.
    pub fn limits(&self) -> (Limits, String) {
        match self.provider {
            ProviderName::Groq => {
                mock_groq::config::limits_in_force(self.model(), self.tier, self.limits)
            }
            other => mock_groq::provider::limits_in_force(other.id(), self.limits),
        }
    }

    /// The event as a simulated scenario with `keys` keys and `policy`.
    pub fn scenario(&self, keys: usize, policy: &PolicySpec) -> anyhow::Result<Scenario> {
        Ok(self.builder(keys, policy).build()?)
    }

    /// [`PlanInput::scenario`] before it is checked.
    pub(crate) fn builder(&self, keys: usize, policy: &PolicySpec) -> ScenarioBuilder {
        let requests = self.users as f64 * self.queries_per_user;
        let minutes = self.duration.as_secs_f64() / 60.0;
        // The simulated model uses a known model's speeds; explicit limits are what matter.
        let catalog = catalog::current();
        let model = match catalog.model(self.model()) {
            _ if self.provider != ProviderName::Groq => self.model(),
            Some(known) => known.id.as_str(),
            None => catalog.recommended.as_str(),
        };
        let (limits, _) = self.limits();
        let zero_is_unlimited = |v: Option<u64>| Some(v.unwrap_or(0));
        let mut b = Scenario::builder("plan")
            .seed(self.seed)
            .provider(self.provider)
            .model(model)
            .as_of(self.as_of())
            .tier(self.tier)
            .limits(match self.provider {
                // Every window stated, so no catalog figure comes back under the plan's.
                ProviderName::Groq => Some(LimitsOverride {
                    rpm: zero_is_unlimited(limits.rpm),
                    rpd: zero_is_unlimited(limits.rpd),
                    tpm: zero_is_unlimited(limits.tpm),
                    tpd: zero_is_unlimited(limits.tpd),
                    ..LimitsOverride::default()
                }),
                // The profile's own windows, with what the user stated over them.
                _ => self.limits,
            })
            .full_completions()
            .keys(keys.max(1))
            .layout(if self.layout == Layout::Shared {
                Layout::Shared
            } else {
                Layout::Separate
            })
            .policy(policy.clone())
            .profile((requests / minutes).max(1e-6), self.weights(), self.step())
            .duration(self.duration)
            .tokens(
                Tokens::Fixed(self.prompt_tokens),
                Tokens::Fixed(self.completion_tokens),
            )
            .interval(Duration::from_secs(600))
            .latency_budget(self.latency_budget);
        if self.steady && self.outruns_daily_refill(keys) {
            b = b.event(crate::spec::scenario::TargetEvent::ExhaustDaily {
                at: Duration::ZERO,
                org: None,
            });
        }
        b
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

/// Plans an event; `progress` is told each simulated count (policy, keys, success rate).
pub fn plan(mut input: PlanInput, progress: &mut search::Progress<'_>) -> anyhow::Result<Plan> {
    // The plan names the model it sized, also when the catalog chose it.
    if input.provider == ProviderName::Groq {
        input.model = Some(input.model().to_owned());
    }
    input.validate()?;
    let (limits, limits_source) = input.limits();
    let analytical = analytical(&input, &limits);
    unservable(&input, &limits, &analytical)?;
    let mut notes: Vec<String> = match input.provider {
        ProviderName::Groq => catalog::current()
            .staleness(input.as_of())
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    notes.extend(input.provider_notes());
    let from = analytical.min_keys as usize;
    let cap = input.key_cap();
    let too_many = from > cap;
    if too_many {
        notes.push(format!(
            "the analytical bound ({from} keys) exceeds the simulation's cap ({cap} keys): not simulated"
        ));
    }
    let progress = std::sync::Mutex::new(progress);
    let (simulated, by_policy, confidence) = if input.analytical_only || too_many {
        let none = Simulated {
            policy: input.policy.text().to_owned(),
            min_keys: None,
            points: Vec::new(),
        };
        (none, Vec::new(), None)
    } else {
        simulate(&input, from, &progress, &mut notes)?
    };
    let tiers = tiers::compare(&input, &simulated, &progress)?;
    let recommended_keys = match (&confidence, &simulated.min_keys) {
        (Some(c), _) => c.recommended.map(|k| k as u64),
        (None, Some(k)) => Some(*k as u64),
        (None, None) if input.analytical_only || too_many => Some(analytical.min_keys),
        (None, None) => None,
    };
    Ok(Plan {
        input,
        limits,
        limits_source,
        analytical,
        simulated,
        by_policy,
        confidence,
        tiers,
        recommended_keys,
        notes,
    })
}

/// Refuses an event no key count can serve: one request larger than the minute's tokens,
/// or a load one organisation's limits cannot carry when every key is in that organisation.
fn unservable(input: &PlanInput, limits: &Limits, analytical: &Analytical) -> anyhow::Result<()> {
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
        let (scope, scopes) = input.scope_nouns();
        bail!(
            "no key count can serve this event: all keys are in one {scope}, which shares one set of limits, and one {scope}'s {} is {}× too small; use keys of separate {scopes}",
            analytical.binding.to_uppercase(),
            analytical.min_keys
        );
    }
    Ok(())
}

/// The simulated search from the analytical bound `from`: the chosen policy's fewest keys
/// (with a few counts below the bound for context), every other preset's, and how
/// confident the recommendation is over seeds; what it could not find goes into `notes`.
fn simulate(
    input: &PlanInput,
    from: usize,
    progress: &std::sync::Mutex<&mut search::Progress<'_>>,
    notes: &mut Vec<String>,
) -> anyhow::Result<(Simulated, Vec<Simulated>, Option<Confidence>)> {
    let cap = input.key_cap();
    let mut others = Vec::new();
    for preset in PolicyConfig::presets()
        .iter()
        .filter(|p| p.name != input.policy.config.name())
    {
        others.push(preset.name.parse()?);
    }
    // Context for the table and plot: a few counts below the bound.
    let mut below: Vec<usize> = [from / 4, from / 2, from.saturating_sub(1)]
        .into_iter()
        .filter(|k| *k >= 1)
        .collect();
    below.dedup();
    let found = search::search_policies(input, &input.policy, &others, from, &below, progress)?;
    let (simulated, by_policy) = (found.chosen, found.others);
    let confidence = match simulated.min_keys {
        Some(keys) if input.seeds > 0 => {
            Some(confidence::examine(input, keys, from, cap, progress)?)
        }
        _ => None,
    };
    if let Some(c) = &confidence
        && c.recommended.is_none()
    {
        let counts: Vec<String> = c.counts.iter().map(|s| s.keys.to_string()).collect();
        notes.push(format!(
            "no count examined ({}) met the objective in {} % of {} seeds",
            counts.join(", "),
            c.level * 100.0,
            c.seeds
        ));
    }
    if simulated.min_keys.is_none() {
        notes.push(format!(
            "no key count up to {cap} met the objective (goodput ≥ {} within {}{}{})",
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
    Ok((simulated, by_policy, confidence))
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
    fn weights_that_would_overflow_are_refused() {
        for extra in [
            "profile = [1e308, 1e308]",
            "profile = [1.0, 2e6]",
            "peak_factor = 1e308",
        ] {
            let error = input(extra).validate().err().map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains("1,000,000")),
                "{extra}: {error:?}"
            );
        }
        assert!(input("profile = [1.0, 4.0, 1.0]").validate().is_ok());
    }

    #[test]
    fn bounds_per_limit_and_the_binding_one() {
        let i = input("");
        let (limits, _) = i.limits();
        let a = analytical(&i, &limits);
        // 10,000 requests over a day; a day's bucket gives its limit twice over a day (full +
        // refill): RPD 1,000 → 5 keys; TPD 200,000 (openai/gpt-oss-120b) at 400 tokens → 10.
        assert_eq!(
            a.bounds.iter().find(|b| b.limit == "rpd").map(|b| b.keys),
            Some(5)
        );
        assert_eq!(
            a.bounds.iter().find(|b| b.limit == "tpd").map(|b| b.keys),
            Some(10)
        );
        assert_eq!((a.min_keys, a.binding.as_str()), (10, "tpd"));
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
                    model: Some("gpt-9".into()),
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
