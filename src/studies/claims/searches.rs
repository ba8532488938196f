//! The seeds' claims that need a search over many runs rather than one run: capacities ("5×
//! with 5 keys", "~150 req/min"), the key counts the seeds size events with, and the round
//! trip up to which a failover claim holds.

use std::time::Duration;

use super::seeds::{Era, Limits, MAX_TOKENS, PROMPT, RTT_MS};
use super::{Claim, Conditions, Measured, Verdict, day, network, pct, request_cost};
use crate::spec::metrics::Figure;
use crate::spec::scenario::{Layout, Scenario};
use crate::studies::sweep::{SweepPoint, capacity as burst, sustained_capacity};

const MINUTE: Duration = Duration::from_secs(60);

/// A search row: what [`Claim`] needs besides what every row shares.
pub(super) fn row_claim(id: String, claim: &str, source: &str, conditions: Conditions) -> Claim {
    Claim {
        id,
        claim: claim.to_owned(),
        source: source.to_owned(),
        conditions,
        measured: String::new(),
        figure: Measured {
            value: Figure::NoData,
            unit: String::new(),
            samples: 0,
        },
        verdict: Verdict::Inconclusive,
        rule: None,
        detail: String::new(),
        run: None,
        evidence: None,
    }
}

/// The key layouts "5×" is checked in under `limits`: both under Groq's, separate
/// organisations under a seed's own numbers (which know no organisations).
fn layouts(limits: Limits) -> &'static [Layout] {
    match limits {
        Limits::Groq => &[Layout::Separate, Layout::Shared],
        Limits::Seeds => &[Layout::Separate],
    }
}

/// How many rows [`capacity`] checks under `limits`.
pub(super) fn capacity_rows(limits: Limits) -> usize {
    layouts(limits).len() + 1
}

/// How many sizing rows there are under one set of limits ([`sized_row`]).
pub(super) fn sizing_rows() -> usize {
    sizings().len()
}

/// The requests a day of sizing row `index` offers: what its simulated day costs.
pub(super) fn sizing_requests(index: usize) -> f64 {
    sizings()
        .get(index)
        .map_or(0.0, |row| row.users as f64 * row.queries)
}

/// The capacity claims under `limits`: "5 keys give 5× the capacity" for keys in separate
/// organisations and in one (Groq's limits only), and "5 keys handle ~150 req/min", each
/// judged on the sustained capacity with the burst from full budgets beside it.
pub(super) fn capacity(
    era: &Era,
    limits: Limits,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Vec<Claim>> {
    let layouts = layouts(limits);
    let mut claims = Vec::new();
    for layout in layouts {
        progress(&format!(
            "5× capacity, {} organisations, {}",
            layout_name(*layout),
            limits.label_short()
        ));
        claims.push(five_times(era, limits, *layout)?);
    }
    progress(&format!(
        "150 req/min with 5 keys, {}",
        limits.label_short()
    ));
    claims.push(rated(era, limits)?);
    Ok(claims)
}

fn layout_name(layout: Layout) -> &'static str {
    if layout == Layout::Shared {
        "shared"
    } else {
        "separate"
    }
}

pub(super) fn quiet() -> impl FnMut(usize, f64, Option<f64>) {
    |_, _, _| {}
}

/// One key's and five keys' capacities under a scenario: sustained (steady state) and
/// burst (from full budgets, over the scenario's span).
pub(super) struct FiveTimes {
    sustained: (SweepPoint, SweepPoint),
    burst: (SweepPoint, SweepPoint),
}

impl FiveTimes {
    /// Both capacities of 1 and 5 keys of `scenario`, searched at ≥ 99 % goodput.
    pub(super) fn measure(scenario: &Scenario) -> anyhow::Result<Self> {
        Ok(FiveTimes {
            burst: (
                burst(scenario, 1, 0.99, &mut quiet())?,
                burst(scenario, 5, 0.99, &mut quiet())?,
            ),
            sustained: (
                sustained_capacity(scenario, 1, 0.99, &mut quiet())?,
                sustained_capacity(scenario, 5, 0.99, &mut quiet())?,
            ),
        })
    }

    /// Five keys' capacity ÷ one key's, sustained and burst (none when one key served
    /// nothing).
    fn ratios(&self) -> (Option<f64>, Option<f64>) {
        let ratio = |(one, five): &(SweepPoint, SweepPoint)| {
            (one.capacity_rpm > 0.0).then(|| five.capacity_rpm / one.capacity_rpm)
        };
        (ratio(&self.sustained), ratio(&self.burst))
    }

    /// The verdict on "5×" (holds at ≥ 4.5×), judged on the sustained ratio; on the burst
    /// when no rate met the objective in steady state (a daily window spent until a fixed
    /// reset), and whether it fell back.
    pub(super) fn verdict(&self) -> (Verdict, Option<f64>, bool) {
        let (sustained, burst) = self.ratios();
        let (ratio, fell_back) = match sustained {
            Some(r) => (Some(r), false),
            None => (burst, burst.is_some()),
        };
        let verdict = match ratio {
            None => Verdict::Inconclusive,
            Some(r) if r >= 4.5 => Verdict::Holds,
            Some(_) => Verdict::Fails,
        };
        (verdict, ratio, fell_back)
    }

    /// The figures in words: `sustained 5.00× (… vs … req/min); burst …`.
    pub(super) fn measured(&self) -> String {
        let (sustained, burst) = self.ratios();
        let show = |r: Option<f64>| r.map_or("no data".to_owned(), |r| format!("{r:.2}×"));
        format!(
            "sustained {} ({:.2} vs {:.2} req/min); burst {} ({:.1} vs {:.1} req/min)",
            show(sustained),
            self.sustained.1.capacity_rpm,
            self.sustained.0.capacity_rpm,
            show(burst),
            self.burst.1.capacity_rpm,
            self.burst.0.capacity_rpm
        )
    }

    /// `claim` with these figures: measured in words and as numbers, and its verdict.
    pub(super) fn judge(&self, mut claim: Claim) -> Claim {
        claim.measured = self.measured();
        claim.figure = self.figure();
        claim.verdict = self.verdict().0;
        claim
    }

    /// A "5×" row's conditions under `scenario`: what differs from row to row (the day,
    /// the limits in words, the keys, the policy) and what they share.
    pub(super) fn conditions(
        scenario: &Scenario,
        as_of: String,
        limits: String,
        (keys, policy): (String, &str),
    ) -> Conditions {
        Conditions {
            as_of,
            limits,
            model: scenario.target.model.clone(),
            keys,
            policy: policy.to_owned(),
            traffic: TRAFFIC.to_owned(),
            request: request_cost(scenario, None),
            network: network(scenario.target.rtt()),
        }
    }

    /// What the detail says when the verdict fell back on the burst (empty otherwise).
    pub(super) fn fallback_note(&self) -> &'static str {
        if self.verdict().2 {
            " No rate met the objective in steady state (a daily window spent until its fixed reset): judged on the burst, which holds for 30 minutes from full budgets and not once a daily budget is spent."
        } else {
            ""
        }
    }

    /// The measured figure: the ratio the verdict rests on.
    pub(super) fn figure(&self) -> Measured {
        let (_, ratio, fell_back) = self.verdict();
        let (which, runs) = if fell_back {
            ("burst", self.burst.0.runs + self.burst.1.runs)
        } else {
            ("sustained", self.sustained.0.runs + self.sustained.1.runs)
        };
        Measured {
            value: Figure::of(ratio),
            unit: format!("× one key's {which} capacity; samples = simulated runs"),
            samples: runs as u64,
        }
    }
}

/// "5 keys give 5× the capacity of one".
fn five_times(era: &Era, limits: Limits, layout: Layout) -> anyhow::Result<Claim> {
    let source = "seed 000 (multi-key Groq system); seed 004 (\"5 API keys for 5x the quota\")";
    let scenario = era
        .base(
            "capacity",
            (1, layout),
            "round-robin",
            (30.0, 30 * MINUTE),
            limits.set(source),
        )?
        .build()?;
    let five = FiveTimes::measure(&scenario)?;
    let shared = layout == Layout::Shared;
    let name = layout_name(layout);
    let keys = if shared {
        "1 and 5 keys, all in one organisation"
    } else {
        "1 and 5 keys, each its own organisation"
    };
    let conditions = FiveTimes::conditions(
        &scenario,
        day(&scenario),
        limits.label(&scenario, source),
        (keys.to_owned(), "round-robin (seed 000)"),
    );
    let mut claim = five.judge(row_claim(
        format!("capacity-5x-{name}{}{}", limits.suffix(), era.suffix()),
        "5 keys give 5× the capacity of one (\"Requests/Min ~30 → ~150, 5x faster\")",
        source,
        conditions,
    ));
    let shared_note = if shared {
        " Groq limits each organisation, not each key: keys of one account share one budget."
    } else {
        ""
    };
    claim.detail = format!("{RULE}{shared_note}{}", five.fallback_note());
    Ok(claim)
}

/// How the "5×" rows' traffic runs.
const TRAFFIC: &str = "Poisson; sustained: runs of 1 h to 1 day begun in steady state; burst: 30 min from full budgets";

/// How the "5×" rows are judged.
pub(super) const RULE: &str = "Capacity = the highest Poisson rate with ≥ 99 % goodput (answers within 5 s), by bisection. The claim speaks of a steady rate, so it is judged on the sustained capacity (holds at ≥ 4.5×); the burst from full budgets is shown for comparison.";

/// "5 keys handle ~150 requests per minute".
fn rated(era: &Era, limits: Limits) -> anyhow::Result<Claim> {
    let source = "seed 000 (performance table); seed 002 (\"5 Keys … Capacity: 150 req/min\")";
    let scenario = era
        .base(
            "rated-load",
            (5, Layout::Separate),
            "round-robin",
            (150.0, 30 * MINUTE),
            limits.set(source),
        )?
        .build()?;
    let sustained = sustained_capacity(&scenario, 5, 0.99, &mut quiet())?;
    let burst = burst(&scenario, 5, 0.99, &mut quiet())?;
    let mut claim = row_claim(
        format!("150-rpm-5-keys{}{}", limits.suffix(), era.suffix()),
        "5 keys handle ~150 requests per minute",
        source,
        Conditions {
            as_of: day(&scenario),
            limits: limits.label(&scenario, source),
            model: scenario.target.model.clone(),
            keys: "5 keys in 5 organisations".to_owned(),
            policy: "round-robin (seed 000)".to_owned(),
            traffic:
                "Poisson; sustained: runs begun in steady state; burst: 30 min from full budgets"
                    .to_owned(),
            request: request_cost(&scenario, None),
            network: network(scenario.target.rtt()),
        },
    );
    claim.measured = format!(
        "sustained {:.1} req/min; burst {:.1} req/min (for 30 minutes from full budgets)",
        sustained.capacity_rpm, burst.capacity_rpm
    );
    claim.figure = Measured {
        value: Figure::Value(sustained.capacity_rpm),
        unit: "req/min sustained at ≥ 99 % goodput; samples = simulated runs".to_owned(),
        samples: sustained.runs as u64,
    };
    claim.verdict = if sustained.capacity_rpm >= 142.5 {
        Verdict::Holds
    } else {
        Verdict::Fails
    };
    claim.detail = "A steady rate is claimed: holds when the sustained capacity is within 5 % of 150 req/min or above.".to_owned();
    Ok(claim)
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
            claim: format!(
                "{users} users/hour need {}",
                crate::spec::scenario::plural(keys as u64, "key", "keys")
            ),
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

/// Sizing row `index` (of [`sizing_rows`]): a key count is enough only if the analytical
/// bound allows it and a day of the event, simulated with that many keys, answers 99 %
/// within 5 s. `progress` is told the row as it starts.
pub(super) fn sized_row(
    era: &Era,
    limits: Limits,
    index: usize,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Claim> {
    let row = sizings()
        .into_iter()
        .nth(index)
        .ok_or_else(|| anyhow::anyhow!("no sizing row {index}"))?;
    progress(&format!("{}, {}", row.claim, limits.label_short()));
    sized(era, limits, row)
}

/// The conditions of a sizing row: its limits (`lim`, from `source`), model, keys, policy,
/// traffic, request size and network.
fn sizing_conditions(
    row: &Sizing,
    scenario: &Scenario,
    input: &crate::studies::plan::PlanInput,
    limits: Limits,
    (lim, source): (&mock_groq::catalog::Limits, &str),
) -> Conditions {
    Conditions {
        as_of: day(scenario),
        // The plan's scenario sets the limits explicitly: name where they come from.
        limits: match limits {
            Limits::Groq => format!("{source}: {lim}"),
            Limits::Seeds => limits.label(scenario, &row.source),
        },
        model: scenario.target.model.clone(),
        keys: format!("{} keys, each its own organisation", row.keys),
        policy: input.policy.text().to_owned(),
        traffic: format!("{}; Poisson, flat", row.assumption),
        request: format!(
            "a request: {PROMPT} prompt + {MAX_TOKENS} completion tokens, all of max_tokens used: {} tokens reserved and settled",
            PROMPT + MAX_TOKENS
        ),
        network: network(scenario.target.rtt()),
    }
}

/// How a sizing row is judged; `steady` when the day begins in steady state.
fn sizing_detail(steady: bool) -> String {
    let (gives, begun) = if steady {
        (
            "its refill, as traffic goes on day after day",
            ", begun in steady state",
        )
    } else {
        ("its limit plus its refill", "")
    };
    format!(
        "Fails when the analytical lower bound already exceeds the claimed keys (a bucket gives at most {gives} over the span); otherwise the day is simulated with the claimed keys{begun} and holds when ≥ 99 % are answered within 5 s."
    )
}

/// One sizing claim checked: the bound first, then (when the bound allows the claimed keys)
/// a simulated day.
fn sized(era: &Era, limits: Limits, row: Sizing) -> anyhow::Result<Claim> {
    let input: crate::studies::plan::PlanInput = toml::from_str(&format!(
        "users = {}\nqueries_per_user = {}\nduration = \"24h\"\nprompt_tokens = {PROMPT}\ncompletion_tokens = {MAX_TOKENS}\nseed = 42\n",
        row.users, row.queries
    ))?;
    let input = crate::studies::plan::PlanInput {
        limits: limits.set(&row.source),
        steady: row.steady,
        model: Some(era.model.to_owned()),
        as_of: Some(era.as_of),
        ..input
    };
    let (lim, source) = input.limits();
    let bound = crate::studies::plan::analytical(&input, &lim);
    let scenario = input
        .builder(row.keys, &input.policy)
        .rtt(Duration::from_millis(RTT_MS))
        .build()?;
    let id = format!("{}{}{}", row.id, limits.suffix(), era.suffix());
    let conditions = sizing_conditions(&row, &scenario, &input, limits, (&lim, &source));
    let mut claim = row_claim(id, &row.claim, &row.source, conditions);
    claim.detail = sizing_detail(row.steady);
    if bound.min_keys as usize > row.keys {
        claim.measured = format!(
            "at least {} keys ({} binds)",
            bound.min_keys,
            bound.binding.to_uppercase()
        );
        claim.figure = Measured {
            value: Figure::Value(bound.min_keys as f64),
            unit: "keys, analytical lower bound".to_owned(),
            samples: 0,
        };
        claim.verdict = Verdict::Fails;
        return Ok(claim);
    }
    // Judged by its summary: the quota readings of a day's run are not shown.
    let r = crate::run::run(
        &scenario,
        crate::run::RunOptions::summary_only(),
        &crate::drive::driver::NoProgress,
    )?
    .report;
    let s = &r.summary;
    claim.measured = format!(
        "{} keys answer {} of {} within 5 s ({})",
        row.keys,
        s.goodput,
        s.offered,
        pct(s.goodput_rate)
    );
    claim.figure = Measured::goodput(s);
    claim.verdict = match s.goodput_rate {
        None => Verdict::Inconclusive,
        Some(rate) if rate >= 0.99 => Verdict::Holds,
        Some(_) => Verdict::Fails,
    };
    Ok(claim)
}
