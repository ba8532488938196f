//! `keyrotor claims`: the seed documents' claims, each checked by simulated runs against the
//! embedded mock, with a verdict (holds / fails / inconclusive), the measured figure, the
//! conditions it was measured under and why.
//!
//! The claims are checked twice: on the seeds' own date (2025-12, `llama-3.3-70b-versatile`,
//! the catalog of that day) and today, with Groq's recommended replacement model (ids end in
//! `-today`). Between the two sits a finding: the seeds' configuration as written, run on
//! today's catalog, where Groq answers every request naming the retired model 404.
//!
//! Every row states its own conditions: the catalog's day and the model, the limits (Groq's
//! published free tier from the dated catalog, or the seeds' own assumption of 30
//! requests/min and 6,000 requests/day per key), keys and organisations, policy, traffic, and
//! what one request costs in tokens (reserved at admission, settled on average as measured).
//! Claims of a steady rate are judged on the *sustained* capacity (budgets in steady state,
//! [`crate::sweep`]), with the burst from full budgets shown beside it.

mod apps;

use serde::{Deserialize, Serialize};

use crate::document::{Block, Tone};
use crate::driver::NoProgress;
use crate::engine::PolicyConfig;
use crate::report::{Figure, Report, Table};
use crate::run::{RunOptions, run};
use crate::scenario::Scenario;
use crate::sweep::{SweepPoint, capacity, steady_at_rate, sustained_capacity};

pub use apps::{AppOptions, AppRow, AppRows, SPAN_RANGE, Side, check as check_apps};

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The measurement supports the claim.
    Holds,
    /// The measurement contradicts it.
    Fails,
    /// The measurement cannot decide.
    Inconclusive,
}

/// What a row was measured under.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conditions {
    /// The day whose Groq catalog applied (which models exist, their limits).
    pub as_of: String,
    /// Limits per organisation and where they come from.
    pub limits: String,
    /// Model requested.
    pub model: String,
    /// Keys and their organisations.
    pub keys: String,
    /// Rotation policy.
    pub policy: String,
    /// Arrivals, rate and span.
    pub traffic: String,
    /// What one request costs in tokens.
    pub request: String,
    /// The client's network: the round trip every attempt pays.
    pub network: String,
}

impl Conditions {
    /// One line for tables.
    pub fn line(&self) -> String {
        format!(
            "catalog of {}; {}; {}; {}; policy {}; {}; {}; {}",
            self.as_of,
            self.limits,
            self.model,
            self.keys,
            self.policy,
            self.traffic,
            self.request,
            self.network
        )
    }
}

/// The measured figure as numbers.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Measured {
    /// The value the verdict rests on (`null`: no data; `"unbounded"`: never answered).
    pub value: Figure,
    /// Its unit.
    pub unit: String,
    /// How many samples it rests on (requests, failovers or simulated runs, as `unit` says).
    pub samples: u64,
}

impl Measured {
    /// The goodput rate of a run's requests: answered within the 5 s users wait.
    fn goodput(s: &crate::report::Summary) -> Self {
        Self {
            value: Figure::of(s.goodput_rate),
            unit: "goodput rate (answered within 5 s); samples = requests".to_owned(),
            samples: s.offered,
        }
    }
}

/// One checked claim.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Claim {
    /// Stable id.
    pub id: String,
    /// The claim as a seed states it.
    pub claim: String,
    /// Which seed says it.
    pub source: String,
    /// What it was measured under.
    pub conditions: Conditions,
    /// The measured figure, in words.
    pub measured: String,
    /// The measured figure, as numbers.
    pub figure: Measured,
    /// The verdict.
    pub verdict: Verdict,
    /// How it was measured and why the verdict.
    pub detail: String,
    /// Where the run this row rests on is written, relative to claims.json: its
    /// `scenario.toml` (`keyrotor run` on it replays the run exactly) and its reports. Rows
    /// found by a search over many runs (capacities) have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// That run, to be written there ([`Claims::write_runs`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub evidence: Option<Box<Evidence>>,
}

/// The run a claim rests on.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// What ran.
    pub scenario: Scenario,
    /// What it measured.
    pub report: Report,
}

impl Claim {
    /// The claim resting on this run ([`check`] names its folder once the id is final).
    fn with_run(mut self, scenario: &Scenario, report: &Report) -> Self {
        self.evidence = Some(Box::new(Evidence {
            scenario: scenario.clone(),
            report: report.clone(),
        }));
        self
    }
}

/// `claims.json`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Claims {
    /// Schema version.
    pub schema: u32,
    /// What every row shares.
    pub numbers: String,
    /// Wall seconds it took.
    pub wall_s: f64,
    /// The claims.
    pub claims: Vec<Claim>,
    /// The seeds' real apps beside their presets (`claims --apps`).
    #[serde(default)]
    pub apps: AppRows,
}

/// The two sets of limits claims are measured under.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limits {
    /// Groq's published free tier (the catalog's).
    Groq,
    /// The seeds' assumption: 30 requests/min and 6,000 requests/day per key.
    Seeds,
}

impl Limits {
    fn target(self) -> &'static str {
        match self {
            Limits::Groq => "",
            Limits::Seeds => "limits = { rpm = 30, rpd = 6000, tpm = 0, tpd = 0 }\n",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Limits::Groq => "",
            Limits::Seeds => "-seed-numbers",
        }
    }

    fn label(self, scenario: &Scenario) -> String {
        let t = &scenario.target;
        let (limits, source) = mock_groq::config::limits_in_force(&t.model, t.tier, t.limits);
        match self {
            Limits::Groq => format!("{source}: {limits}"),
            Limits::Seeds => {
                format!("the seeds' own 30 req/min and 6,000 req/day per key: {limits}")
            }
        }
    }
}

/// The client's round trip on every attempt: a user's app reaching Groq over the internet,
/// not loopback. Failover pays it once per failed key.
const RTT_MS: u64 = 80;

/// Tokens per request for the claims' scenarios.
const PROMPT: u64 = 200;
const MAX_TOKENS: u64 = 200;

/// When and with which model a set of rows is checked.
#[derive(Debug, Clone, Copy)]
struct Era {
    as_of: jiff::civil::Date,
    model: &'static str,
}

/// The model every seed names.
const SEED_MODEL: &str = "llama-3.3-70b-versatile";

impl Era {
    fn seeds() -> Self {
        Era {
            as_of: mock_groq::catalog::SEEDS_DATE,
            model: SEED_MODEL,
        }
    }

    fn today(day: jiff::civil::Date) -> Self {
        Era {
            as_of: day,
            model: mock_groq::catalog::RECOMMENDED,
        }
    }
}

/// The catalog's day of a scenario, in words.
fn day(scenario: &Scenario) -> String {
    let as_of = scenario.target.as_of();
    if as_of == mock_groq::catalog::SEEDS_DATE {
        format!("{as_of} (the seeds' date)")
    } else {
        as_of.to_string()
    }
}

/// The base scenario of the claims: `keys` keys, `policy`, Poisson `rate`/min for `span` (a
/// duration such as `"30m"`), on `era`'s day and model; `target` is extra `[target]` TOML
/// (limits, events).
fn base(
    era: &Era,
    name: &str,
    keys: usize,
    layout: &str,
    policy: &str,
    (rate, span): (f64, &str),
    target: &str,
) -> anyhow::Result<Scenario> {
    let text = format!(
        r#"name = "{name}"
seed = 42
[target]
rtt = "{RTT_MS}ms"
model = "{model}"
as_of = "{as_of}"
{target}
[keys]
count = {keys}
layout = "{layout}"
[engine]
policy = "{policy}"
[traffic]
arrival = "poisson"
rate = {rate}
duration = "{span}"
prompt_tokens = {PROMPT}
completion_tokens = {MAX_TOKENS}
interval = "10s"
"#,
        model = era.model,
        as_of = era.as_of,
    );
    Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("internal claims scenario {name}: {e}"))
}

fn report(s: &Scenario) -> anyhow::Result<Report> {
    Ok(run(s, RunOptions::default(), &NoProgress)?.report)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "no data".to_owned(), |x| format!("{:.2} %", x * 100.0))
}

/// A latency figure with its unit: "120 ms", "unbounded", "no data".
fn ms(figure: Figure) -> String {
    match figure {
        Figure::Value(v) => format!("{v:.0} ms"),
        other => other.show(0),
    }
}

/// Whether a success rate was measured and is at least `bound`.
fn at_least(x: Option<f64>, bound: f64) -> bool {
    x.is_some_and(|x| x >= bound)
}

/// The verdict on "99.9 % uptime": fails below it; holds at or above it only over at least
/// 1,000 requests (fewer cannot tell 99.9 % from 99 %), else inconclusive.
fn uptime(s: &crate::report::Summary) -> Verdict {
    match s.goodput_rate {
        None => Verdict::Inconclusive,
        Some(r) if r < 0.999 => Verdict::Fails,
        Some(_) if s.offered < 1000 => Verdict::Inconclusive,
        Some(_) => Verdict::Holds,
    }
}

/// The verdict on "every request answered within 5 s": inconclusive with no request.
fn all_answered(s: &crate::report::Summary) -> Verdict {
    match () {
        _ if s.offered == 0 => Verdict::Inconclusive,
        _ if s.goodput == s.offered => Verdict::Holds,
        _ => Verdict::Fails,
    }
}

/// Requests that failed on a rate limit (any window).
fn rate_limited_failures(r: &Report) -> u64 {
    r.failures
        .iter()
        .filter(|(k, _)| k.starts_with("rate_limited"))
        .map(|(_, v)| v)
        .sum()
}

/// The verdict on "rate limits eliminated": no upstream 429 and no request failed on a
/// rate limit; inconclusive with no request.
fn no_rate_limits(r: &Report) -> Verdict {
    match () {
        _ if r.summary.offered == 0 => Verdict::Inconclusive,
        _ if r.summary.upstream_429 == 0 && rate_limited_failures(r) == 0 => Verdict::Holds,
        _ => Verdict::Fails,
    }
}

/// The verdict on "failover < 200 ms": p99 under 200 ms over at least 10 requests whose
/// first attempt failed (one never answered counts as unbounded).
fn failover_verdict(f: &crate::report::Failover) -> Verdict {
    match f.p99.number() {
        _ if f.count + f.unanswered < 10 => Verdict::Inconclusive,
        Some(p99) if p99 < 200.0 => Verdict::Holds,
        _ => Verdict::Fails,
    }
}

/// The `max_tokens` a scenario's requests carry (the mean of a distribution).
fn max_tokens(scenario: &Scenario) -> u64 {
    match scenario.traffic.completion_tokens {
        crate::scenario::Tokens::Fixed(n) => n,
        other => other.mean().round() as u64,
    }
}

/// What one request costs with `max_tokens`: reserved at admission, and settled on average
/// when measured.
fn request_cost(max_tokens: u64, settled: Option<f64>) -> String {
    let reserved = PROMPT + max_tokens;
    match settled {
        Some(t) => format!(
            "a request: {PROMPT} prompt + max_tokens {max_tokens} = {reserved} tokens reserved, {t:.0} settled on average (measured)"
        ),
        None => format!(
            "a request: {PROMPT} prompt + max_tokens {max_tokens} = {reserved} tokens reserved, about {} settled (completions use 25–100 % of max_tokens)",
            PROMPT + max_tokens * 5 / 8
        ),
    }
}

/// The network condition, in words.
fn network(rtt: std::time::Duration) -> String {
    format!("{} ms round trip per attempt", rtt.as_millis())
}

/// The conditions of a run of `scenario` that produced `report`.
fn conditions(scenario: &Scenario, limits: Limits, report: &Report, traffic: String) -> Conditions {
    let s = &report.summary;
    let settled = (s.succeeded > 0).then(|| s.tokens as f64 / s.succeeded as f64);
    Conditions {
        as_of: day(scenario),
        limits: limits.label(scenario),
        model: scenario.target.model.clone(),
        keys: format!(
            "{} keys in {} organisations",
            report.setup.keys, report.setup.orgs
        ),
        policy: report.setup.policy.clone(),
        traffic,
        request: request_cost(max_tokens(scenario), settled),
        network: network(scenario.target.rtt),
    }
}

/// Collects the claims as they are checked.
struct Checker<'a> {
    progress: &'a mut dyn FnMut(&str),
    claims: Vec<Claim>,
    era: Era,
}

/// Checks every claim on the seeds' date, then the seeds' configuration on `today`'s
/// catalog, then the claims again on `today` with Groq's recommended model (ids ending in
/// `-today`); with `apps`, then runs each seed's real app beside its preset (see
/// [`AppOptions`]). `progress` is told each claim as it starts.
pub fn check(
    today: jiff::civil::Date,
    apps: Option<&AppOptions>,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Claims> {
    let wall = std::time::Instant::now();
    let mut c = Checker {
        progress,
        claims: Vec::new(),
        era: Era::seeds(),
    };
    for limits in [Limits::Groq, Limits::Seeds] {
        c.capacity(limits)?;
        c.rated_load(limits)?;
    }
    c.failover()?;
    c.never_see_errors()?;
    c.zero_downtime()?;
    c.replicas()?;
    for limits in [Limits::Groq, Limits::Seeds] {
        c.sizing(limits)?;
    }
    c.seed_configuration_on(today)?;
    c.era = Era::today(today);
    let start = c.claims.len();
    c.capacity(Limits::Groq)?;
    c.rated_load(Limits::Groq)?;
    c.failover()?;
    c.never_see_errors()?;
    c.zero_downtime()?;
    c.sizing(Limits::Groq)?;
    for claim in &mut c.claims[start..] {
        claim.id.push_str("-today");
    }
    // Named by their final ids: each row's run has a folder of its own.
    for claim in &mut c.claims {
        claim.run = claim
            .evidence
            .as_ref()
            .map(|_| format!("runs/{}", claim.id));
    }
    let apps = match apps {
        Some(options) => apps::check(options, today, c.progress)?,
        None => AppRows::default(),
    };
    Ok(Claims {
        schema: crate::report::SCHEMA,
        numbers: "simulated time against the embedded mock (its latency model: 30 ms edge, 20 ms mean queue, Groq's published output speeds); Poisson arrivals; users wait 5 s for an answer (goodput counts answers within it, from the intended send); each row names its catalog day, model, limits, keys, policy, traffic and request cost".to_owned(),
        wall_s: wall.elapsed().as_secs_f64(),
        claims: c.claims,
        apps,
    })
}

impl Checker<'_> {
    fn step(&mut self, what: &str) {
        (self.progress)(what);
    }

    /// "5 keys give 5× the capacity", judged on sustained capacity, for keys in separate
    /// organisations and in one (Groq's limits), and with the seeds' numbers.
    fn capacity(&mut self, limits: Limits) -> anyhow::Result<()> {
        let layouts: &[&str] = match limits {
            Limits::Groq => &["separate", "shared"],
            Limits::Seeds => &["separate"],
        };
        for layout in layouts {
            self.step(&format!(
                "5× capacity, {layout} organisations, {}",
                limits.label_short()
            ));
            let scenario = base(
                &self.era,
                "capacity",
                1,
                layout,
                "round-robin",
                (30.0, "30m"),
                limits.target(),
            )?;
            let mut quiet = |_: usize, _: f64, _: f64| {};
            let (b1, b5) = (
                capacity(&scenario, 1, 0.99, &mut quiet)?,
                capacity(&scenario, 5, 0.99, &mut quiet)?,
            );
            let (s1, s5) = (
                sustained_capacity(&scenario, 1, 0.99, &mut quiet)?,
                sustained_capacity(&scenario, 5, 0.99, &mut quiet)?,
            );
            let ratio = |one: &SweepPoint, five: &SweepPoint| {
                (one.capacity_rpm > 0.0).then(|| five.capacity_rpm / one.capacity_rpm)
            };
            let (sustained, burst) = (ratio(&s1, &s5), ratio(&b1, &b5));
            let show = |r: Option<f64>| r.map_or("no data".to_owned(), |r| format!("{r:.2}×"));
            let shared_note = if *layout == "shared" {
                " Groq limits each organisation, not each key: keys of one account share one budget."
            } else {
                ""
            };
            self.claims.push(Claim {
                id: format!("capacity-5x-{layout}{}", limits.suffix()),
                claim: "5 keys give 5× the capacity of one (\"Requests/Min ~30 → ~150, 5x faster\")".to_owned(),
                source: "seed 000 (multi-key Groq system); seed 004 (\"5 API keys for 5x the quota\")".to_owned(),
                conditions: Conditions {
                    as_of: day(&scenario),
                    limits: limits.label(&scenario),
                    model: scenario.target.model.clone(),
                    keys: if *layout == "shared" {
                        "1 and 5 keys, all in one organisation".to_owned()
                    } else {
                        "1 and 5 keys, each its own organisation".to_owned()
                    },
                    policy: "round-robin (seed 000)".to_owned(),
                    traffic: "Poisson; sustained: runs of 1 h to 1 day begun in steady state; burst: 30 min from full budgets".to_owned(),
                    request: request_cost(max_tokens(&scenario), None),
                    network: network(scenario.target.rtt),
                },
                measured: format!(
                    "sustained {} ({:.2} vs {:.2} req/min); burst {} ({:.1} vs {:.1} req/min)",
                    show(sustained), s5.capacity_rpm, s1.capacity_rpm, show(burst), b5.capacity_rpm, b1.capacity_rpm
                ),
                figure: Measured {
                    value: Figure::of(sustained),
                    unit: "× one key's sustained capacity; samples = simulated runs".to_owned(),
                    samples: (s1.runs + s5.runs) as u64,
                },
                verdict: if sustained.is_some_and(|r| r >= 4.5) { Verdict::Holds } else { Verdict::Fails },
                detail: format!(
                    "Capacity = the highest Poisson rate with ≥ 99 % goodput (answers within 5 s), by bisection. The claim speaks of a steady rate, so it is judged on the sustained capacity (holds at ≥ 4.5×); the burst from full budgets is shown for comparison.{shared_note}"
                ),
                run: None,
                evidence: None,
            });
        }
        Ok(())
    }

    /// "5 keys handle ~150 req/min", and "99.9 % uptime" and "rate limits eliminated" at
    /// that load, in steady state.
    fn rated_load(&mut self, limits: Limits) -> anyhow::Result<()> {
        self.step(&format!(
            "150 req/min with 5 keys, {}",
            limits.label_short()
        ));
        let scenario = base(
            &self.era,
            "rated-load",
            5,
            "separate",
            "round-robin",
            (150.0, "30m"),
            limits.target(),
        )?;
        let mut quiet = |_: usize, _: f64, _: f64| {};
        let sustained = sustained_capacity(&scenario, 5, 0.99, &mut quiet)?;
        let burst = capacity(&scenario, 5, 0.99, &mut quiet)?;
        let suffix = limits.suffix();
        let base_conditions = |traffic: &str| Conditions {
            as_of: day(&scenario),
            limits: limits.label(&scenario),
            model: scenario.target.model.clone(),
            keys: "5 keys in 5 organisations".to_owned(),
            policy: "round-robin (seed 000)".to_owned(),
            traffic: traffic.to_owned(),
            request: request_cost(max_tokens(&scenario), None),
            network: network(scenario.target.rtt),
        };
        self.claims.push(Claim {
            id: format!("150-rpm-5-keys{suffix}"),
            claim: "5 keys handle ~150 requests per minute".to_owned(),
            source: "seed 000 (performance table); seed 002 (\"5 Keys … Capacity: 150 req/min\")".to_owned(),
            conditions: base_conditions("Poisson; sustained: runs begun in steady state; burst: 30 min from full budgets"),
            measured: format!(
                "sustained {:.1} req/min; burst {:.1} req/min (for 30 minutes from full budgets)",
                sustained.capacity_rpm, burst.capacity_rpm
            ),
            figure: Measured {
                value: Figure::Value(sustained.capacity_rpm),
                unit: "req/min sustained at ≥ 99 % goodput; samples = simulated runs".to_owned(),
                samples: sustained.runs as u64,
            },
            verdict: if sustained.capacity_rpm >= 142.5 { Verdict::Holds } else { Verdict::Fails },
            detail: "A steady rate is claimed: holds when the sustained capacity is within 5 % of 150 req/min or above.".to_owned(),
            run: None,
            evidence: None,
        });
        let steady = steady_at_rate(
            &base(
                &self.era,
                "rated-load",
                5,
                "separate",
                "round-robin",
                (150.0, "60m"),
                limits.target(),
            )?,
            5,
            150.0,
        );
        let r = report(&steady)?;
        let traffic = "Poisson 150 req/min for 60 simulated minutes, begun in steady state (daily budgets spent where 150/min outruns their refill)";
        let conditions = conditions(&steady, limits, &r, traffic.to_owned());
        let s = &r.summary;
        self.claims.push(
            Claim {
                id: format!("success-999-at-rated-load{suffix}"),
                claim: "99.9 %+ uptime with 5 keys".to_owned(),
                source: "seed 000 (\"Uptime 99.9%+\"); seed 004 (\"Zero downtime\")".to_owned(),
                conditions: conditions.clone(),
                measured: format!(
                    "{} of {} requests answered within 5 s ({} eventually)",
                    pct(s.goodput_rate),
                    s.offered,
                    pct(s.success_rate)
                ),
                figure: Measured::goodput(s),
                verdict: uptime(s),
                detail: format!(
                    "At the claimed 150 req/min; failures by reason: {:?}.",
                    r.failures
                ),
                run: None,
                evidence: None,
            }
            .with_run(&steady, &r),
        );
        let limited = rate_limited_failures(&r);
        self.claims.push(
            Claim {
                id: format!("rate-limits-eliminated{suffix}"),
                claim: "Rate limit issues: none (\"Eliminated\")".to_owned(),
                source: "seed 000 (performance table)".to_owned(),
                conditions,
                measured: format!(
                    "{} upstream 429s; {limited} requests failed on rate limits",
                    s.upstream_429
                ),
                figure: Measured {
                    value: Figure::Value(s.upstream_429 as f64),
                    unit: "upstream 429 answers; samples = requests".to_owned(),
                    samples: s.offered,
                },
                verdict: no_rate_limits(&r),
                detail: "The same run: holds only with no 429 at all.".to_owned(),
                run: None,
                evidence: None,
            }
            .with_run(&steady, &r),
        );
        Ok(())
    }
}

impl Limits {
    fn label_short(self) -> &'static str {
        match self {
            Limits::Groq => "Groq's published limits",
            Limits::Seeds => "the seeds' 30 req/min per key",
        }
    }
}

impl Checker<'_> {
    /// "Failover < 200 ms", per policy, under load above capacity; a request that failed over
    /// and was never answered counts as unbounded.
    fn failover(&mut self) -> anyhow::Result<()> {
        for preset in PolicyConfig::presets() {
            self.step(&format!("failover < 200 ms, {}", preset.name));
            let scenario = base(
                &self.era,
                "failover",
                5,
                "separate",
                preset.name,
                (200.0, "5m"),
                "",
            )?;
            let r = report(&scenario)?;
            let f = &r.failover_ms;
            let samples = f.count + f.unanswered;
            let verdict = failover_verdict(f);
            let why = match verdict {
                Verdict::Inconclusive => {
                    format!("Inconclusive: {samples} failovers, fewer than 10.")
                }
                _ if f.unanswered > 0 => format!(
                    "{} requests failed over and never got an answer: their failover time is unbounded, so the p99 is {} whatever the round trip.",
                    f.unanswered,
                    ms(f.p99)
                ),
                _ => match break_even_rtt(&scenario)? {
                    Some(rtt) => format!(
                        "Every request that failed over was answered; the claim holds up to a round trip of {rtt} ms per attempt."
                    ),
                    None => "Every request that failed over was answered, but the claim fails even with no network delay.".to_owned(),
                },
            };
            self.claims.push(Claim {
                id: format!("failover-200ms-{}", preset.name),
                claim: format!("Failover between keys takes < 200 ms (policy {})", preset.name),
                source: "seed 000 (\"Failover Time <200ms\", \"Sub-second failover\")".to_owned(),
                conditions: conditions(&scenario, Limits::Groq, &r, "Poisson 200 req/min for 5 simulated minutes from full budgets (a third over the 5 keys' 150 req/min, so keys hit their limits)".to_owned()),
                measured: format!(
                    "p50 {}, p99 {}, max {} over {samples} failovers ({} answered, {} never)",
                    ms(f.p50), ms(f.p99), ms(f.max), f.count, f.unanswered
                ),
                figure: Measured { value: f.p99, unit: "ms, p99 failover; samples = requests whose first attempt failed".to_owned(), samples },
                verdict,
                detail: format!(
                    "Failover = end-to-end latency minus the successful attempt (waits included) for requests whose first attempt failed; every attempt pays the round trip and the mock's 30 ms edge time. {why} {} of all requests succeeded.",
                    pct(r.summary.success_rate)
                ),
                run: None,
                evidence: None,
            }
            .with_run(&scenario, &r));
        }
        Ok(())
    }

    /// "Users never see API errors" when some or all keys run out.
    fn never_see_errors(&mut self) -> anyhow::Result<()> {
        let three = (0..3)
            .map(|o| {
                format!("[[target.events]]\nkind = \"exhaust_daily\"\norg = {o}\nat = \"2m\"\n")
            })
            .collect::<String>();
        let all = "[[target.events]]\nkind = \"exhaust_daily\"\nat = \"2m\"\n".to_owned();
        let some_out = "3 of 5 keys run out of their daily quota 2 minutes in; 40 req/min, which the other 2 keys (60 req/min between them) can serve";
        let all_out = "every key runs out of its daily quota 2 minutes in; 40 req/min, which no key can serve from then on";
        for (policy, events, label, case) in [
            ("sticky-failover", &three, some_out, "some-out"),
            ("adaptive", &three, some_out, "some-out"),
            ("sticky-failover", &all, all_out, "all-out"),
        ] {
            self.step(&format!("users never see API errors, {case}, {policy}"));
            let scenario = base(
                &self.era,
                "keys-run-out",
                5,
                "separate",
                policy,
                (40.0, "5m"),
                events,
            )?;
            let r = report(&scenario)?;
            let s = &r.summary;
            self.claims.push(Claim {
                id: format!("never-see-errors-{case}-{policy}"),
                claim: format!("Users never see API errors (policy {policy})"),
                source: "seed 004 (\"Users never see API errors\", \"Seamless failover during rate limits\")".to_owned(),
                conditions: conditions(&scenario, Limits::Groq, &r, format!("Poisson for 5 simulated minutes; {label}")),
                measured: format!("{} of {} requests not answered within 5 s ({} got the fallback message)", s.offered.saturating_sub(s.goodput), s.offered, s.degraded),
                figure: Measured { value: Figure::Value((s.offered.saturating_sub(s.goodput)) as f64), unit: "requests not answered within 5 s; samples = requests".to_owned(), samples: s.offered },
                verdict: all_answered(s),
                detail: format!(
                    "A fallback message is no answer either: holds only if every request is answered within 5 s. Failures: {:?}.",
                    r.failures
                ),
                run: None,
                evidence: None,
            }
            .with_run(&scenario, &r));
        }
        Ok(())
    }

    /// "Zero downtime during key rotation": a key revoked mid-run.
    fn zero_downtime(&mut self) -> anyhow::Result<()> {
        for policy in ["round-robin", "cooldown", "adaptive"] {
            self.step(&format!("zero downtime during rotation, {policy}"));
            let events = "[[target.events]]\nkind = \"revoke_key\"\nkey = 0\nat = \"1m\"\n";
            let scenario = base(
                &self.era,
                "rotation",
                5,
                "separate",
                policy,
                (60.0, "5m"),
                events,
            )?;
            let r = report(&scenario)?;
            let s = &r.summary;
            self.claims.push(Claim {
                id: format!("zero-downtime-{policy}"),
                claim: format!("Zero downtime during key rotation (policy {policy})"),
                source: "seed 000 (\"Zero downtime during key rotation\"); seed 002 (\"Auto-Failover … Zero downtime\")".to_owned(),
                conditions: conditions(&scenario, Limits::Groq, &r, "Poisson 60 req/min (40 % of the 5 keys' 150 req/min) for 5 simulated minutes; key 0 revoked 1 minute in".to_owned()),
                measured: format!("{} failed of {}; {} answered within 5 s", s.failed, s.offered, pct(s.goodput_rate)),
                figure: Measured::goodput(s),
                verdict: all_answered(s),
                detail: format!("Holds only if every request is answered within 5 s. Failures: {:?}.", r.failures),
                run: None,
                evidence: None,
            }
            .with_run(&scenario, &r));
        }
        Ok(())
    }
}

impl Checker<'_> {
    /// The row the seeds never considered: seed 000's round-robin, whose rotation lives in a
    /// serverless route (`api/chat.js`), run as 4 replicas and as serverless instances (a
    /// fresh one per request), each with its own state or sharing one store, at 100 req/min
    /// (two thirds of the 5 keys' 150) for 5 minutes (within every daily budget):
    /// "Rate limit issues: none".
    fn replicas(&mut self) -> anyhow::Result<()> {
        use crate::replicas::{ColdStart, StateKind};
        let deployments = [
            (
                "4-replicas",
                "4 replicas behind a round-robin load balancer",
                None,
            ),
            (
                "serverless",
                "4 serverless replicas, each a fresh instance per request (a cold start)",
                Some(ColdStart::Requests(1)),
            ),
        ];
        for (id, deployment, cold_start) in deployments {
            for state in [StateKind::Local, StateKind::Memory] {
                let shared = if state.shared() { "shared" } else { "local" };
                self.step(&format!("no rate limits on {deployment}, {shared} state"));
                let mut scenario = base(
                    &self.era,
                    "replicas",
                    5,
                    "separate",
                    "round-robin",
                    (100.0, "5m"),
                    Limits::Groq.target(),
                )?;
                scenario.engine.replicas = 4;
                scenario.engine.state = state;
                scenario.engine.cold_start = cold_start;
                let r = report(&scenario)?;
                let s = &r.summary;
                let seen = r.replicas.as_ref();
                let repeats = seen.map_or(0, |x| x.repeat_429);
                let state_words = match state {
                    StateKind::Local => {
                        "each replica keeps its own key state (as the seed's module-level index does)"
                    }
                    _ => "the replicas share one key state (keyrotor's store; Redis in production)",
                };
                let traffic = format!(
                    "Poisson 100 req/min for 5 simulated minutes over {deployment}; {state_words}"
                );
                let mut conditions = conditions(&scenario, Limits::Groq, &r, traffic);
                conditions.policy = format!("round-robin (seed 000), {} state", shared);
                self.claims.push(Claim {
                    id: format!("rate-limits-eliminated-{id}-{shared}-state"),
                    claim: format!("Rate limit issues: none (\"Eliminated\"), on {deployment}"),
                    source: "seed 000 (performance table; its rotation runs in the serverless route api/chat.js)".to_owned(),
                    conditions,
                    measured: format!(
                        "{} upstream 429s ({repeats} on a key another replica had already met within its wait); {} of {} requests answered within 5 s",
                        s.upstream_429,
                        pct(s.goodput_rate),
                        s.offered
                    ),
                    figure: Measured {
                        value: Figure::Value(s.upstream_429 as f64),
                        unit: "upstream 429 answers; samples = requests".to_owned(),
                        samples: s.offered,
                    },
                    verdict: no_rate_limits(&r),
                    detail: format!(
                        "Holds only with no 429 at all. Each cold instance's index starts at key 0 again unless the rotation's position is shared. Failures: {:?}.",
                        r.failures
                    ),
                    run: None,
                    evidence: None,
                }
                .with_run(&scenario, &r));
            }
        }
        Ok(())
    }
}

/// Whether failover p99 is under 200 ms over at least 10 failovers with `rtt` per attempt.
fn failover_holds(scenario: &Scenario, rtt_ms: u64) -> anyhow::Result<bool> {
    let mut s = scenario.clone();
    s.target.rtt = std::time::Duration::from_millis(rtt_ms);
    Ok(failover_verdict(&report(&s)?.failover_ms) == Verdict::Holds)
}

/// The largest round trip (ms, to 5 ms, up to 400) at which the failover claim (p99 under
/// 200 ms over at least 10 failovers) still holds for `scenario`; `None` when it fails even
/// at 0.
pub fn break_even_rtt(scenario: &Scenario) -> anyhow::Result<Option<u64>> {
    if !failover_holds(scenario, 0)? {
        return Ok(None);
    }
    let (mut good, mut bad) = (0, 400);
    if failover_holds(scenario, bad)? {
        return Ok(Some(bad));
    }
    while bad - good > 5 {
        let mid = (good + bad) / 2;
        if failover_holds(scenario, mid)? {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(Some(good))
}

/// A sizing claim: users × queries over a span need at most `keys` keys.
struct Sizing {
    id: String,
    claim: String,
    source: String,
    users: u64,
    queries: f64,
    /// How the seed's figures become a day of traffic.
    assumption: String,
    keys: usize,
    /// Traffic that goes on day after day: budgets in steady state, not full.
    steady: bool,
}

fn sizings() -> Vec<Sizing> {
    let mut rows = vec![
        Sizing {
            id: "1000-users".into(),
            claim: "1,000 users × 10 queries need 2–3 keys".into(),
            source: "seed 004 (\"For Aurora Fest\")".into(),
            users: 1000,
            queries: 10.0,
            assumption: "1,000 users × 10 queries over one day, from full budgets".into(),
            keys: 3,
            steady: false,
        },
        Sizing {
            id: "10000-users".into(),
            claim: "10,000 users × 20 queries need ~34 keys".into(),
            source: "seed 004 (\"For Large Events\")".into(),
            users: 10_000,
            queries: 20.0,
            assumption: "10,000 users × 20 queries over one day, from full budgets".into(),
            keys: 34,
            steady: false,
        },
        Sizing {
            id: "5-keys-30000-per-day".into(),
            claim: "5 keys = 30,000 requests/day".into(),
            source: "seed 004 (\"5 keys × 6,000\")".into(),
            users: 6000,
            queries: 5.0,
            assumption: "30,000 requests a day, day after day (steady state)".into(),
            keys: 5,
            steady: true,
        },
    ];
    // Seed 002's table: its capacity column (30 req/min per key) at the top of each user
    // range implies at most 9 queries per user and hour (5 keys, 150/min, 1,000 users/hour).
    for (users, keys) in [(100u64, 1usize), (500, 3), (1000, 5), (2000, 10)] {
        rows.push(Sizing {
            id: format!("users-per-hour-{users}"),
            claim: format!("{users} users/hour need {keys} key(s)"),
            source: "seed 002 (\"Scaling Strategy\" table)".into(),
            users: users * 24,
            queries: 9.0,
            assumption: format!(
                "{users} users every hour, day after day (steady state), 9 queries per user and hour (what the seed's own capacity column implies at most)"
            ),
            keys,
            steady: true,
        });
    }
    rows
}

impl Checker<'_> {
    /// The sizing claims: a key count is enough only if the analytical bound allows it and
    /// a day of the event, simulated with that many keys, answers 99 % within 5 s.
    fn sizing(&mut self, limits: Limits) -> anyhow::Result<()> {
        let seeds = Some(mock_groq::config::LimitsOverride {
            rpm: Some(30),
            rpd: Some(6000),
            tpm: Some(0),
            tpd: Some(0),
        });
        for row in sizings() {
            self.step(&format!("{}, {}", row.claim, limits.label_short()));
            let input: crate::plan::PlanInput = toml::from_str(&format!(
                "users = {}\nqueries_per_user = {}\nduration = \"24h\"\nprompt_tokens = {PROMPT}\ncompletion_tokens = {MAX_TOKENS}\nseed = 42\n",
                row.users, row.queries
            ))?;
            let input = crate::plan::PlanInput {
                limits: if limits == Limits::Seeds { seeds } else { None },
                steady: row.steady,
                model: self.era.model.to_owned(),
                as_of: Some(self.era.as_of),
                ..input
            };
            let (lim, source) = input.limits();
            let bound = crate::plan::analytical(&input, &lim);
            let mut scenario = input.scenario(row.keys, &input.policy);
            scenario.target.rtt = std::time::Duration::from_millis(RTT_MS);
            let cost = format!(
                "a request: {PROMPT} prompt + {MAX_TOKENS} completion tokens, all of max_tokens used: {} tokens reserved and settled",
                PROMPT + MAX_TOKENS
            );
            let mut conditions = Conditions {
                as_of: day(&scenario),
                limits: format!("{source}: {lim}"),
                model: scenario.target.model.clone(),
                keys: format!("{} keys, each its own organisation", row.keys),
                policy: input.policy.text().to_owned(),
                traffic: format!("{}; Poisson, flat", row.assumption),
                request: cost,
                network: network(scenario.target.rtt),
            };
            if limits == Limits::Seeds {
                conditions.limits =
                    format!("the seeds' own 30 req/min and 6,000 req/day per key: {lim}");
            }
            let (measured, figure, verdict) = if bound.min_keys as usize > row.keys {
                (
                    format!(
                        "at least {} keys ({} binds)",
                        bound.min_keys,
                        bound.binding.to_uppercase()
                    ),
                    Measured {
                        value: Figure::Value(bound.min_keys as f64),
                        unit: "keys, analytical lower bound".to_owned(),
                        samples: 0,
                    },
                    Verdict::Fails,
                )
            } else {
                let r = report(&scenario)?;
                let s = &r.summary;
                (
                    format!(
                        "{} keys answer {} of {} within 5 s ({})",
                        row.keys,
                        s.goodput,
                        s.offered,
                        pct(s.goodput_rate)
                    ),
                    Measured::goodput(s),
                    if at_least(s.goodput_rate, 0.99) {
                        Verdict::Holds
                    } else {
                        Verdict::Fails
                    },
                )
            };
            self.claims.push(Claim {
                id: format!("{}{}", row.id, limits.suffix()),
                claim: row.claim,
                source: row.source,
                conditions,
                measured,
                figure,
                verdict,
                detail: format!(
                    "Fails when the analytical lower bound already exceeds the claimed keys (a bucket gives at most {} over the span); otherwise the day is simulated with the claimed keys{} and holds when ≥ 99 % are answered within 5 s.",
                    if row.steady { "its refill, as traffic goes on day after day" } else { "its limit plus its refill" },
                    if row.steady { ", begun in steady state" } else { "" }
                ),
                run: None,
                evidence: None,
            });
        }
        Ok(())
    }
}

impl Checker<'_> {
    /// The finding between the two dates: the seeds' configuration as written (5 keys,
    /// round-robin, naming `llama-3.3-70b-versatile`) at its rated 150 req/min, on `today`'s
    /// catalog. Once the model is decommissioned, Groq answers every request 404.
    fn seed_configuration_on(&mut self, today: jiff::civil::Date) -> anyhow::Result<()> {
        self.step("the seeds' configuration on today's catalog");
        let era = Era {
            as_of: today,
            model: SEED_MODEL,
        };
        let scenario = base(
            &era,
            "seeds-today",
            5,
            "separate",
            "round-robin",
            (150.0, "10m"),
            "",
        )?;
        let r = report(&scenario)?;
        let s = &r.summary;
        let status = scenario.target.model_status();
        let refused = r.failures.get("bad_request").copied().unwrap_or(0);
        self.claims.push(Claim {
            id: "seed-configuration-today".to_owned(),
            claim: format!("99.9 %+ uptime with 5 keys, the seeds' code as written (model {SEED_MODEL}), run today"),
            source: "seed 000 (\"Uptime 99.9%+\"); every seed hard-codes llama-3.3-70b-versatile".to_owned(),
            conditions: conditions(&scenario, Limits::Groq, &r, "Poisson 150 req/min for 10 simulated minutes from full budgets".to_owned()),
            measured: format!(
                "{} of {} requests answered within 5 s; {refused} refused as bad requests (404 model_not_found)",
                pct(s.goodput_rate),
                s.offered
            ),
            figure: Measured::goodput(s),
            verdict: uptime(s),
            detail: format!(
                "On {today} the model is {status}. An app that still names it gets Groq's 404 model_not_found for every request, on every key: no rotation helps. Failures: {:?}.",
                r.failures
            ),
            run: None,
            evidence: None,
        }
        .with_run(&scenario, &r));
        Ok(())
    }
}

impl Claims {
    /// The markdown table: each row with its conditions, then the details.
    pub fn markdown(&self) -> String {
        crate::document::markdown(&self.blocks())
    }

    /// Writes each row's run under `dir/<run>` (`runs/<id>`): its `scenario.toml`, which
    /// `keyrotor run` replays exactly, and its report.json, report.md and report.html.
    pub fn write_runs(&self, dir: &std::path::Path) -> std::io::Result<()> {
        for claim in &self.claims {
            let (Some(run), Some(evidence)) = (&claim.run, &claim.evidence) else {
                continue;
            };
            let at = dir.join(run);
            std::fs::create_dir_all(&at)?;
            let toml = toml::to_string(&evidence.scenario).map_err(std::io::Error::other)?;
            std::fs::write(
                at.join("scenario.toml"),
                format!(
                    "# The run behind claim `{}` (keyrotor claims); `keyrotor run` on this file replays it.\n{toml}",
                    claim.id
                ),
            )?;
            evidence.report.write_summary(&at)?;
            crate::html::write_run(&at, &evidence.report, &[])?;
        }
        Ok(())
    }

    /// The claims as document blocks (claims.md and claims.html): the tally first, coloured
    /// by the worst verdict, then one row per claim with its conditions, the details, and the
    /// seeds' real code.
    pub fn blocks(&self) -> Vec<Block> {
        let count = |v: Verdict| self.claims.iter().filter(|c| c.verdict == v).count();
        let (holds, fails, open) = (
            count(Verdict::Holds),
            count(Verdict::Fails),
            count(Verdict::Inconclusive),
        );
        let tone = match (fails, open) {
            (0, 0) if holds > 0 => Tone::Pass,
            (0, _) => Tone::Inconclusive,
            _ => Tone::Fail,
        };
        let mut blocks = vec![
            Block::Heading(1, "The seeds' claims, measured".to_owned()),
            Block::Verdict(
                tone,
                format!(
                    "Of {} claims checked, {holds} hold, {fails} fail and {open} are inconclusive.",
                    self.claims.len()
                ),
            ),
            Block::Paragraph(format!("All rows: {}.", self.numbers)),
            Block::Table(Table {
                head: Table::heads(&[
                    "claim",
                    "source",
                    "conditions",
                    "measured",
                    "verdict",
                    "run",
                ]),
                rows: self
                    .claims
                    .iter()
                    .map(|c| {
                        vec![
                            c.claim.clone(),
                            c.source.clone(),
                            c.conditions.line(),
                            c.measured.clone(),
                            format!("**{:?}**", c.verdict),
                            c.run.as_ref().map_or_else(
                                || "a search over many runs".to_owned(),
                                |run| format!("[{run}]({run}/report.html)"),
                            ),
                        ]
                    })
                    .collect(),
            }),
            Block::Heading(2, "Details".to_owned()),
            Block::List(
                self.claims
                    .iter()
                    .map(|c| format!("`{}` — {:?}: {}", c.id, c.verdict, c.detail))
                    .collect(),
            ),
        ];
        blocks.extend(self.apps.blocks());
        blocks
    }
}
