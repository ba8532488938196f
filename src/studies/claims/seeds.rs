//! The seeds' claims that one run can check, as a table of data ([`ClaimSpec`]): the claim,
//! its source, the scenario, the metric and the rule. The claims that need a search over many
//! runs (capacities, sizing) are in `searches`.
//!
//! Each row is checked on the seeds' own date with their model, and again today with Groq's
//! recommended model (ids end in `-today`); between the two sits the seeds' configuration as
//! written, run on today's catalog.

use std::time::Duration;

use mock_groq::config::LimitsOverride;

use super::{Claim, ClaimSpec, Verdict};
use crate::engine::PolicyConfig;
use crate::spec::metrics::{Metric, Threshold};
use crate::spec::scenario::ColdStart;
use crate::spec::scenario::StateKind;
use crate::spec::scenario::{Layout, Scenario, ScenarioBuilder, TargetEvent};

/// The client's round trip on every attempt: a user's app reaching Groq over the internet,
/// not loopback. Failover pays it once per failed key.
pub(super) const RTT_MS: u64 = 80;

/// Tokens per request for the claims' scenarios.
pub(super) const PROMPT: u64 = 200;
/// `max_tokens` per request for the claims' scenarios.
pub(super) const MAX_TOKENS: u64 = 200;

/// The model every seed names.
const SEED_MODEL: &str = "llama-3.3-70b-versatile";

/// The two sets of limits claims are measured under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limits {
    /// Groq's published free tier (the catalog's).
    Groq,
    /// The numbers of the seed that states the claim ([`Seed`]): each seed's claims are
    /// checked on that seed's own numbers, never another's.
    Seeds,
}

/// A seed that states limits of its own, and those limits per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seed {
    /// Seed 000: "Requests/Min ~30" per key; no daily limit stated.
    S000,
    /// Seed 002: "30 requests/min per key", "Very generous daily limit".
    S002,
    /// Seed 004: "Groq free tier: 6,000/day per key"; no per-minute limit stated.
    S004,
}

impl Seed {
    /// The first of these seeds a row's source names (seed 000 when it names none).
    pub(super) fn of(source: &str) -> Self {
        [
            ("seed 000", Seed::S000),
            ("seed 002", Seed::S002),
            ("seed 004", Seed::S004),
        ]
        .into_iter()
        .filter_map(|(name, seed)| source.find(name).map(|at| (at, seed)))
        .min_by_key(|(at, _)| *at)
        .map_or(Seed::S000, |(_, seed)| seed)
    }

    /// Its limits for the mock, per key (0: not limited, as the seed states none).
    fn limits(self) -> LimitsOverride {
        let (rpm, rpd) = match self {
            Seed::S000 | Seed::S002 => (30, 0),
            Seed::S004 => (0, 6000),
        };
        LimitsOverride {
            rpm: Some(rpm),
            rpd: Some(rpd),
            tpm: Some(0),
            tpd: Some(0),
            ..LimitsOverride::default()
        }
    }

    /// Its numbers in words, with where the seed states them.
    fn words(self) -> &'static str {
        match self {
            Seed::S000 => {
                "seed 000's own numbers: ~30 req/min per key (its performance table), no daily limit stated"
            }
            Seed::S002 => {
                "seed 002's own numbers: 30 req/min per key, \"Very generous daily limit\" (none applied)"
            }
            Seed::S004 => {
                "seed 004's own numbers: 6,000 requests/day per key (\"Groq free tier\"), no per-minute limit stated"
            }
        }
    }
}

impl Limits {
    /// The mock's limits for every organisation, for a row whose claim `source` states.
    pub(super) fn set(self, source: &str) -> Option<LimitsOverride> {
        match self {
            Limits::Groq => None,
            Limits::Seeds => Some(Seed::of(source).limits()),
        }
    }

    /// What ids of rows under these limits end with.
    pub(super) fn suffix(self) -> &'static str {
        match self {
            Limits::Groq => "",
            Limits::Seeds => "-seed-numbers",
        }
    }

    /// The limits in force for `scenario`, in words, with their source (for a row whose
    /// claim `claimed_by` states).
    pub(super) fn label(self, scenario: &Scenario, claimed_by: &str) -> String {
        let (limits, source) = scenario.target.limits_in_force();
        match self {
            Limits::Groq => format!("{source}: {limits}"),
            Limits::Seeds => format!("{}: {limits}", Seed::of(claimed_by).words()),
        }
    }

    /// The limits in a few words, for progress lines.
    pub(super) fn label_short(self) -> &'static str {
        match self {
            Limits::Groq => "Groq's published limits",
            Limits::Seeds => "each seed's own numbers",
        }
    }
}

/// When and with which model a set of rows is checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Era {
    /// The catalog's day.
    pub(super) as_of: jiff::civil::Date,
    /// The model requested.
    pub(super) model: &'static str,
    /// "Today", for the row that runs the seeds' configuration on today's catalog.
    today: jiff::civil::Date,
}

impl Era {
    /// The seeds' own date and model.
    pub(super) fn seeds(today: jiff::civil::Date) -> Self {
        Era {
            as_of: mock_groq::catalog::SEEDS_DATE,
            model: SEED_MODEL,
            today,
        }
    }

    /// `today`, with Groq's recommended model.
    pub(super) fn today(today: jiff::civil::Date) -> Self {
        Era {
            as_of: today,
            model: mock_groq::catalog::current().recommended.as_str(),
            today,
        }
    }

    /// The same model on `day`'s catalog.
    pub(super) fn on(self, day: jiff::civil::Date) -> Self {
        Era { as_of: day, ..self }
    }

    fn is_seeds(&self) -> bool {
        self.model == SEED_MODEL && self.as_of == mock_groq::catalog::SEEDS_DATE
    }

    /// What ids of this era's rows end with.
    pub(super) fn suffix(&self) -> &'static str {
        if self.is_seeds() { "" } else { "-today" }
    }

    /// The limits rows are checked under: Groq's and the seeds' own on the seeds' date,
    /// Groq's today.
    pub(super) fn limit_sets(&self) -> &'static [Limits] {
        if self.is_seeds() {
            &[Limits::Groq, Limits::Seeds]
        } else {
            &[Limits::Groq]
        }
    }

    /// The claims' base scenario on this era's day and model: `keys` keys in `layout`,
    /// `policy`, Poisson `rpm` for `span`, 200 + 200 tokens a request, an 80 ms round trip.
    pub(super) fn base(
        &self,
        name: &str,
        (keys, layout): (usize, Layout),
        policy: &str,
        (rpm, span): (f64, Duration),
        limits: Option<LimitsOverride>,
    ) -> anyhow::Result<ScenarioBuilder> {
        let tokens = crate::spec::scenario::Tokens::Fixed;
        Ok(Scenario::builder(name)
            .seed(42)
            .rtt(Duration::from_millis(RTT_MS))
            .model(self.model)
            .as_of(self.as_of)
            .limits(limits)
            .keys(keys)
            .layout(layout)
            .policy(policy.parse()?)
            .poisson(rpm)
            .duration(span)
            .tokens(tokens(PROMPT), tokens(MAX_TOKENS)))
    }

    /// [`Era::base`] with 5 keys, each its own organisation, under Groq's limits: the
    /// seeds' configuration.
    fn five_keys(
        &self,
        name: &str,
        policy: &str,
        traffic: (f64, Duration),
    ) -> anyhow::Result<ScenarioBuilder> {
        self.base(name, (5, Layout::Separate), policy, traffic, None)
    }
}

const MINUTE: Duration = Duration::from_secs(60);

fn rule(text: &str) -> anyhow::Result<Threshold> {
    Threshold::try_from(text.to_owned()).map_err(|e| anyhow::anyhow!("internal rule: {e}"))
}

/// A row of the table: the parts that differ from claim to claim.
struct Row<'a> {
    id: String,
    claim: String,
    source: &'a str,
    scenario: Scenario,
    judged: (Metric, &'a str, u64),
    detail: &'a str,
    traffic: String,
    /// The limits in words, when not Groq's published ones.
    limits: Option<String>,
}

impl Row<'_> {
    fn spec(self, era: &Era) -> anyhow::Result<ClaimSpec> {
        let (metric, rule_text, min_samples) = self.judged;
        Ok(ClaimSpec {
            id: format!("{}{}", self.id, era.suffix()),
            claim: self.claim,
            source: self.source.to_owned(),
            scenario: self.scenario,
            metric,
            rule: rule(rule_text)?,
            min_samples,
            detail: self.detail.to_owned(),
            traffic: Some(self.traffic),
            limits: self.limits,
        })
    }
}

/// "Every request answered within the 5 s users wait".
pub(super) const ALL_ANSWERED: (Metric, &str, u64) = (Metric::GoodputRate, ">= 1", 1);
/// "99.9 % uptime": a fail below it; a hold only over at least 1,000 requests (fewer cannot
/// tell 99.9 % from 99 %).
pub(super) const UPTIME: (Metric, &str, u64) = (Metric::GoodputRate, ">= 0.999", 1000);
/// "Rate limits eliminated": not one 429.
pub(super) const NO_429: (Metric, &str, u64) = (Metric::Upstream429, "<= 0", 1);
/// "Failover < 200 ms": p99 under 200 ms over at least 10 requests that failed over (one
/// never answered counts as unbounded).
pub(super) const FAILOVER: (Metric, &str, u64) = (Metric::FailoverP99Ms, "< 200", 10);

/// The table of the seeds' single-run claims for `era`, in reading order.
pub(super) fn table(era: &Era) -> anyhow::Result<Vec<ClaimSpec>> {
    let mut rows = Vec::new();
    for limits in era.limit_sets() {
        rows.extend(at_rated_load(era, *limits)?);
    }
    rows.extend(failover(era)?);
    rows.extend(keys_run_out(era)?);
    rows.extend(zero_downtime(era)?);
    if era.is_seeds() {
        rows.extend(replicas(era)?);
        rows.push(seed_configuration_today(era)?);
    }
    rows.into_iter().map(|row| row.spec(era)).collect()
}

/// "99.9 % uptime" and "rate limits eliminated" at the claimed 150 req/min with 5 keys, for
/// 60 minutes begun in steady state (daily budgets spent where 150/min outruns their refill).
fn at_rated_load(era: &Era, limits: Limits) -> anyhow::Result<Vec<Row<'static>>> {
    // Both claims are seed 000's (the uptime claim seed 004's too): its numbers apply.
    let seed = "seed 000";
    let base = era
        .base(
            "rated-load",
            (5, Layout::Separate),
            "round-robin",
            (150.0, 60 * MINUTE),
            limits.set(seed),
        )?
        .build()?;
    let label = (limits == Limits::Seeds).then(|| limits.label(&base, seed));
    let steady = crate::studies::sweep::steady_at_rate(&base, 5, 150.0)?;
    let traffic = "Poisson 150 req/min for 60 simulated minutes, begun in steady state (daily budgets spent where 150/min outruns their refill)";
    let suffix = limits.suffix();
    Ok(vec![
        Row {
            id: format!("success-999-at-rated-load{suffix}"),
            claim: "99.9 %+ uptime with 5 keys".to_owned(),
            source: "seed 000 (\"Uptime 99.9%+\"); seed 004 (\"Zero downtime\")",
            scenario: steady.clone(),
            judged: UPTIME,
            detail: "At the claimed 150 req/min: uptime is what users see, answers within the 5 s they wait; it fails below 99.9 % and holds only over at least 1,000 requests.",
            traffic: traffic.to_owned(),
            limits: label.clone(),
        },
        Row {
            id: format!("rate-limits-eliminated{suffix}"),
            claim: "Rate limit issues: none (\"Eliminated\")".to_owned(),
            source: "seed 000 (performance table)",
            scenario: steady,
            judged: NO_429,
            detail: "The same run: holds only with no 429 at all.",
            traffic: traffic.to_owned(),
            limits: label,
        },
    ])
}

/// What `keys` keys of `scenario` allow per minute, in words from its model's limits: `the 5
/// keys' 150 req/min (RPM binds)`.
fn allow(scenario: &Scenario, keys: usize) -> String {
    match crate::studies::sweep::minute_bound(scenario, keys) {
        Some((rpm, binding)) => format!(
            "the {}' {rpm:.0} req/min ({binding} binds)",
            crate::spec::scenario::plural(keys as u64, "key", "keys")
        ),
        None => format!("{keys} keys with no per-minute limit"),
    }
}

/// "Failover < 200 ms", per policy, under load above what the 5 keys allow per minute.
fn failover(era: &Era) -> anyhow::Result<Vec<Row<'static>>> {
    PolicyConfig::presets()
        .iter()
        .map(|preset| {
            let scenario = era
                .five_keys("failover", preset.name, (200.0, 5 * MINUTE))?
                .build()?;
            let traffic = format!(
                "Poisson 200 req/min for 5 simulated minutes from full budgets (over {}, so keys hit their limits)",
                allow(&scenario, 5)
            );
            Ok(Row {
                id: format!("failover-200ms-{}", preset.name),
                claim: format!("Failover between keys takes < 200 ms (policy {})", preset.name),
                source: "seed 000 (\"Failover Time <200ms\", \"Sub-second failover\")",
                scenario,
                judged: FAILOVER,
                detail: "Failover = end-to-end latency minus the successful attempt (waits included) for requests whose first attempt failed; one never answered counts as unbounded; every attempt pays the round trip and the mock's 30 ms edge time.",
                traffic,
                limits: None,
            })
        })
        .collect()
}

/// "Users never see API errors" when some or all keys run out of their daily quota.
fn keys_run_out(era: &Era) -> anyhow::Result<Vec<Row<'static>>> {
    let two = era
        .five_keys("keys-run-out", "round-robin", (40.0, 5 * MINUTE))?
        .build()?;
    let some_out = format!(
        "3 of 5 keys run out of their daily quota 2 minutes in; 40 req/min, against {} left",
        allow(&two, 2)
    );
    let some_out = some_out.as_str();
    let all_out = "every key runs out of its daily quota 2 minutes in; 40 req/min, which no key can serve from then on";
    let (three, all): (&[Option<usize>], &[Option<usize>]) =
        (&[Some(0), Some(1), Some(2)], &[None]);
    let mut rows = Vec::new();
    for (policy, orgs, label, case) in [
        ("sticky-failover", three, some_out, "some-out"),
        ("adaptive", three, some_out, "some-out"),
        ("sticky-failover", all, all_out, "all-out"),
    ] {
        let mut b = era.five_keys("keys-run-out", policy, (40.0, 5 * MINUTE))?;
        for org in orgs {
            b = b.event(TargetEvent::ExhaustDaily {
                at: 2 * MINUTE,
                org: *org,
            });
        }
        rows.push(Row {
            id: format!("never-see-errors-{case}-{policy}"),
            claim: format!("Users never see API errors (policy {policy})"),
            source: "seed 004 (\"Users never see API errors\", \"Seamless failover during rate limits\")",
            scenario: b.build()?,
            judged: ALL_ANSWERED,
            detail: "A fallback message is no answer either: holds only if every request is answered within 5 s.",
            traffic: format!("Poisson for 5 simulated minutes; {label}"),
            limits: None,
        });
    }
    Ok(rows)
}

/// "Zero downtime during key rotation": key 0 revoked a minute in.
fn zero_downtime(era: &Era) -> anyhow::Result<Vec<Row<'static>>> {
    ["round-robin", "cooldown", "adaptive"]
        .into_iter()
        .map(|policy| {
            let scenario = era
                .five_keys("rotation", policy, (60.0, 5 * MINUTE))?
                .event(TargetEvent::RevokeKey { at: MINUTE, key: 0 })
                .build()?;
            Ok(Row {
                id: format!("zero-downtime-{policy}"),
                claim: format!("Zero downtime during key rotation (policy {policy})"),
                source: "seed 000 (\"Zero downtime during key rotation\"); seed 002 (\"Auto-Failover … Zero downtime\")",
                judged: ALL_ANSWERED,
                detail: "Holds only if every request is answered within 5 s.",
                traffic: format!(
                    "Poisson 60 req/min (under {}) for 5 simulated minutes; key 0 revoked 1 minute in",
                    allow(&scenario, 5)
                ),
                scenario,
                limits: None,
            })
        })
        .collect()
}

/// The row the seeds never considered: seed 000's round-robin, whose rotation lives in a
/// serverless route (`api/chat.js`), run as 4 replicas and as serverless instances (a fresh
/// one per request), each with its own state or sharing one store, at 100 req/min (two
/// thirds of the 5 keys' 150) for 5 minutes (within every daily budget).
fn replicas(era: &Era) -> anyhow::Result<Vec<Row<'static>>> {
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
    let mut rows = Vec::new();
    for (id, deployment, cold_start) in deployments {
        for state in [StateKind::Local, StateKind::Memory] {
            let (shared, state_words) = match state {
                StateKind::Local => (
                    "local",
                    "each replica keeps its own key state (as the seed's module-level index does)",
                ),
                _ => (
                    "shared",
                    "the replicas share one key state (keyrotor's store; Redis in production)",
                ),
            };
            rows.push(Row {
                id: format!("rate-limits-eliminated-{id}-{shared}-state"),
                claim: format!("Rate limit issues: none (\"Eliminated\"), on {deployment}"),
                source: "seed 000 (performance table; its rotation runs in the serverless route api/chat.js)",
                scenario: era
                    .five_keys("replicas", "round-robin", (100.0, 5 * MINUTE))?
                    .replicas(4, state)
                    .cold_start(cold_start)
                    .build()?,
                judged: NO_429,
                detail: "Holds only with no 429 at all. Each cold instance's index starts at key 0 again unless the rotation's position is shared.",
                traffic: format!(
                    "Poisson 100 req/min for 5 simulated minutes over {deployment}; {state_words}"
                ),
                limits: None,
            });
        }
    }
    Ok(rows)
}

/// The finding between the two dates: the seeds' configuration as written (5 keys,
/// round-robin, naming `llama-3.3-70b-versatile`) at its rated 150 req/min, on today's
/// catalog. Once the model is decommissioned, Groq answers every request 404.
fn seed_configuration_today(era: &Era) -> anyhow::Result<Row<'static>> {
    let scenario = era
        .on(era.today)
        .five_keys("seeds-today", "round-robin", (150.0, 10 * MINUTE))?
        .build()?;
    Ok(Row {
        id: "seed-configuration-today".to_owned(),
        claim: format!(
            "99.9 %+ uptime with 5 keys, the seeds' code as written (model {SEED_MODEL}), run today"
        ),
        source: "seed 000 (\"Uptime 99.9%+\"); every seed hard-codes llama-3.3-70b-versatile",
        scenario,
        judged: UPTIME,
        detail: "An app that still names a decommissioned model gets Groq's 404 model_not_found for every request, on every key: no rotation helps.",
        traffic: "Poisson 150 req/min for 10 simulated minutes from full budgets".to_owned(),
        limits: None,
    })
}

/// A failover row's cost in words: how many failovers were answered within the claim's
/// 200 ms, what one failed key cost, the requests refused without a second key.
fn failover_cost(finished: &crate::run::Finished) -> String {
    let (f, answered) = (&finished.report.failover_ms, &finished.recorder.failover);
    let tried = f.count + f.unanswered;
    let mut text = String::new();
    if tried > 0 {
        let within = answered.count_between(0, 200_000);
        text.push_str(&format!(
            "; {within} of {tried} failovers ({:.1} %) answered within 200 ms",
            within as f64 * 100.0 / tried as f64
        ));
    }
    if f.failed_key_ms.p50 == crate::spec::metrics::Figure::NoData {
        text.push_str("; one failed key's cost: no data (no attempt failed)");
    }
    if let crate::spec::metrics::Figure::Value(ms) = f.failed_key_ms.p50 {
        // Failover time is the failed keys' time (and any wait): k keys fit when k × cost < 200.
        let fit = if ms > 0.0 {
            ((200.0 / ms).ceil() - 1.0).max(0.0)
        } else {
            f64::INFINITY
        };
        let fits = if fit < 1.0 {
            "no failover fits in 200 ms".to_owned()
        } else if fit.is_finite() {
            format!(
                "a failover fits in 200 ms when it skips at most {}",
                crate::spec::scenario::plural(fit as u64, "key", "keys")
            )
        } else {
            "any number of skipped keys fits in 200 ms".to_owned()
        };
        text.push_str(&format!(
            "; one failed key cost {ms:.0} ms (median: its round trip and the API's answer), so {fits}"
        ));
    }
    if f.refused > 0 {
        text.push_str(&format!(
            "; {} refused after a failed key without trying another (not failovers)",
            f.refused
        ));
    }
    text
}

/// What a checked row needs beyond its rule: a failover claim that fails with every request
/// answered says up to which round trip it would hold; the seeds' configuration today says
/// what became of its model.
pub(super) fn explain(mut claim: Claim) -> anyhow::Result<Claim> {
    let Some(evidence) = claim.evidence.as_deref() else {
        return Ok(claim);
    };
    let scenario = &evidence.scenario;
    if claim.id.starts_with("failover-") {
        claim.measured.push_str(&failover_cost(&evidence.finished));
    }
    if claim.id.starts_with("failover-")
        && claim.verdict == Verdict::Fails
        && evidence.finished.report.failover_ms.unanswered == 0
    {
        let note = match break_even_rtt(scenario)? {
            Some(rtt) => format!(
                " Every request that failed over was answered; the claim holds up to a round trip of {rtt} ms per attempt."
            ),
            None => " Every request that failed over was answered, but the claim fails even with no network delay.".to_owned(),
        };
        claim.detail.push_str(&note);
    }
    if claim.id.starts_with("never-see-errors-") {
        // Seed 004 promises its friendly fallback "even if all keys fail": a user shown it
        // saw no API error, though the API answered nothing. Both readings, measured.
        let s = &evidence.finished.report.summary;
        let shown = s.goodput.saturating_add(s.degraded);
        if s.offered > 0 {
            claim.measured.push_str(&format!(
                "; read as \"no API error shown\" (the fallback message counted): {shown} of {} ({:.1} %), {} of them the fallback",
                s.offered,
                shown as f64 * 100.0 / s.offered as f64,
                s.degraded
            ));
        }
    }
    if let Some(horizon) = evidence.finished.report.horizon() {
        claim.measured.push_str(&format!("; horizon: {horizon}"));
    }
    if let Some(seen) = &evidence.finished.report.replicas {
        claim.measured.push_str(&format!(
            "; {} of the 429s on a key another replica had already met within its wait",
            seen.repeat_429
        ));
    }
    if claim.id == "seed-configuration-today" {
        claim.detail.push_str(&format!(
            " On {} the model is {}.",
            scenario.target.as_of(),
            scenario.target.model_status()
        ));
    }
    Ok(claim)
}

/// Whether failover p99 is under 200 ms over at least 10 failovers with `rtt_ms` per attempt.
fn failover_holds(scenario: &Scenario, rtt_ms: u64) -> anyhow::Result<bool> {
    let at = scenario
        .to_builder()
        .rtt(Duration::from_millis(rtt_ms))
        .build()?;
    let r = crate::run::run(
        &at,
        crate::run::RunOptions::default(),
        &crate::drive::driver::NoProgress,
    )?
    .report;
    let (metric, rule, min_samples) = FAILOVER;
    let rule = crate::spec::metrics::Threshold::try_from(rule.to_owned())
        .map_err(|e| anyhow::anyhow!("internal rule: {e}"))?;
    Ok(super::judge(r.metric(metric), r.samples(metric), rule, min_samples) == Verdict::Holds)
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
