//! Capacity sweeps: for each key count, the highest offered rate (requests per minute) at
//! which the goodput objective (answers within the latency budget) still holds, found by bisection over simulated runs of the
//! scenario with constant arrivals; and its ratio to the capacity of one key.
//!
//! Two capacities differ by how a run begins. The *burst* capacity starts every budget full,
//! as a fresh account sees it: over a short run a day's budget lasts far beyond its refill.
//! The *sustained* capacity starts in steady state — daily budgets spent when the offered rate
//! outruns their refill, as they are after a day at that rate — and is what a claim of a
//! steady rate ("~150 req/min") means.

use serde::{Deserialize, Serialize};

use crate::drive::driver::NoProgress;
use crate::measure::document::Table;
use crate::measure::report::Report;
use crate::run::{RunOptions, run};
use crate::spec::scenario::{Scenario, ScenarioBuilder};

/// Bisection steps per key count (relative precision about 2⁻⁸ of the bracket).
const STEPS: usize = 8;

/// One key count's capacity.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepPoint {
    /// Keys.
    pub keys: usize,
    /// Engine replicas the traffic was spread over.
    #[serde(default = "one")]
    pub replicas: u32,
    /// Highest offered requests per minute that met the objective.
    pub capacity_rpm: f64,
    /// Goodput rate (answered within the latency budget) measured at that rate.
    pub goodput_rate: f64,
    /// capacity ÷ capacity with one key (when 1 is swept).
    pub ratio_to_one_key: Option<f64>,
    /// Runs it took.
    pub runs: usize,
    /// With replicas: 429s a replica met on a key another had already met within its wait,
    /// at the capacity rate ([`crate::measure::report::ReplicasSeen::repeat_429`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_429: Option<u64>,
    /// The most these keys' organisations can serve forever, req/min, worked out from their
    /// limits ([`sustained_bound`]): `capacity_rpm` is a burst from full budgets over one run's
    /// span, and holds only until the daily budgets run out; `null` when nothing limits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sustained_bound_rpm: Option<f64>,
    /// The limit that sets the sustained bound: `RPM`, `TPM`, `RPD` or `TPD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
}

fn one() -> u32 {
    1
}

/// A sweep's result (`sweep.json`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sweep {
    /// Schema version.
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the scenario's effective settings ([`Scenario::hash`]).
    pub scenario_hash: String,
    /// Goodput-rate objective.
    pub objective: f64,
    /// The latency budget goodput counts against, ms.
    pub latency_budget_ms: f64,
    /// Policy.
    pub policy: String,
    /// Whether runs were simulated.
    pub simulated: bool,
    /// Simulated span of each run, seconds.
    pub run_span_s: f64,
    /// One per key count.
    pub points: Vec<SweepPoint>,
}

/// The scenario at `rate` requests per minute with `keys` keys (Poisson stays Poisson; a
/// trace is scaled to offer `rate` on average, its shape kept; any other shape becomes
/// constant arrivals).
pub fn at_rate(base: &Scenario, keys: usize, rate: f64) -> anyhow::Result<Scenario> {
    Ok(rated(base, keys, rate)?.build()?)
}

fn rated(base: &Scenario, keys: usize, rate: f64) -> anyhow::Result<ScenarioBuilder> {
    let b = base.to_builder().keys(keys.max(1));
    Ok(match base.traffic.trace() {
        Some(trace) => {
            let scale = rate.max(0.01) / trace_rpm(trace)?;
            anyhow::ensure!(
                crate::spec::trace::SCALE.contains(&scale),
                "{rate:.1} req/min is the trace scaled {scale:.4}×, outside 0.001 to 1000×"
            );
            // The base's duration and request cap stay (a sustained probe sets its own).
            b.shape(crate::spec::scenario::Shape::Trace(
                crate::spec::trace::Trace {
                    scale,
                    ..trace.clone()
                },
            ))
        }
        None => b.steady(rate.max(0.01)),
    })
}

/// How long a probe's run offers traffic: its duration, or a trace's span when shorter.
fn run_span(base: &Scenario) -> anyhow::Result<std::time::Duration> {
    let duration = base.traffic.duration;
    Ok(match base.traffic.trace() {
        Some(trace) => {
            let span = crate::spec::trace::scan(trace)?.span;
            let span = std::time::Duration::from_secs(span.as_secs());
            duration.map_or(span, |d| d.min(span))
        }
        None => duration.unwrap_or_default(),
    })
}

/// The mean rate of a trace at scale 1 and its own speed, requests per minute: its rows (a
/// scan counts them unscaled) over its span (a minute at least). Each probe of a sweep reads
/// the trace again.
fn trace_rpm(trace: &crate::spec::trace::Trace) -> anyhow::Result<f64> {
    let summary = crate::spec::trace::scan(trace)?;
    Ok(summary.rows as f64 / (summary.span.as_secs_f64() / 60.0).max(1.0))
}

fn measure(base: &Scenario, keys: usize, rate: f64) -> anyhow::Result<Report> {
    Ok(run(
        &at_rate(base, keys, rate)?,
        RunOptions::default(),
        &NoProgress,
    )?
    .report)
}

/// What one organisation allows and what one request of the scenario costs.
struct Budget {
    limits: mock_groq::catalog::Limits,
    /// Tokens a request reserves at admission (prompt + max_tokens).
    reserved: f64,
    /// Tokens it settles on average (prompt + the mock's mean completion).
    settled: f64,
}

impl Budget {
    fn of(base: &Scenario) -> Self {
        let t = &base.target;
        let (limits, _) = t.limits_in_force();
        let completion = t.mock().and_then(|m| m.completion).unwrap_or_default();
        let fraction = (completion.min_fraction + completion.max_fraction) / 2.0;
        let (prompt, max_tokens) = (
            base.traffic.prompt_tokens.mean(),
            base.traffic.completion_tokens.mean(),
        );
        Self {
            limits,
            reserved: prompt + max_tokens,
            settled: prompt + max_tokens * fraction,
        }
    }

    /// Requests per minute the daily budgets refill, by RPD and by TPD.
    fn daily_refill(&self) -> [Option<f64>; 2] {
        let per_minute = |l: Option<u64>| l.map(|l| l as f64 / 1440.0);
        [
            per_minute(self.limits.rpd),
            per_minute(self.limits.tpd).map(|t| t / self.settled),
        ]
    }
}

/// Requests per minute that the organisations of `keys` keys can serve forever: per
/// organisation the smallest of RPM, RPD's refill, TPM ÷ the tokens a request reserves and
/// TPD's refill ÷ the tokens it settles; `None` when nothing limits it.
pub fn refill_rpm(base: &Scenario, keys: usize) -> Option<f64> {
    sustained_bound(base, keys).map(|(rpm, _)| rpm)
}

/// Requests per minute the organisations of `keys` keys allow within a minute, from full
/// budgets: per organisation the smaller of RPM and TPM ÷ the tokens a request reserves,
/// with the limit that sets it; `None` when neither limits it.
pub fn minute_bound(base: &Scenario, keys: usize) -> Option<(f64, &'static str)> {
    let budget = Budget::of(base);
    let (per_org, binding) = [
        (budget.limits.rpm.map(|l| l as f64), "RPM"),
        (budget.limits.tpm.map(|l| l as f64 / budget.reserved), "TPM"),
    ]
    .into_iter()
    .filter_map(|(rpm, name)| Some((rpm?, name)))
    .min_by(|a, b| a.0.total_cmp(&b.0))?;
    Some((per_org * orgs(base, keys) as f64, binding))
}

/// [`refill_rpm`] with the limit that sets it (`RPM`, `TPM`, `RPD` or `TPD`).
pub fn sustained_bound(base: &Scenario, keys: usize) -> Option<(f64, &'static str)> {
    let budget = Budget::of(base);
    let [rpd, tpd] = budget.daily_refill();
    let (per_org, binding) = [
        (budget.limits.rpm.map(|l| l as f64), "RPM"),
        (budget.limits.tpm.map(|l| l as f64 / budget.reserved), "TPM"),
        (rpd, "RPD"),
        (tpd, "TPD"),
    ]
    .into_iter()
    .filter_map(|(rpm, name)| Some((rpm?, name)))
    .min_by(|a, b| a.0.total_cmp(&b.0))?;
    Some((per_org * orgs(base, keys) as f64, binding))
}

fn orgs(base: &Scenario, keys: usize) -> usize {
    match base.keys.layout {
        crate::spec::scenario::Layout::Shared => 1,
        _ => keys,
    }
}

/// Whether `rate` req/min over `keys` keys outruns the daily budgets' refill: then, in
/// steady state, those budgets are spent.
fn outruns_daily_refill(base: &Scenario, keys: usize, rate: f64) -> bool {
    let per_org = rate / orgs(base, keys) as f64;
    Budget::of(base)
        .daily_refill()
        .into_iter()
        .flatten()
        .any(|refill| per_org > refill)
}

/// The scenario at `rate` with `keys` keys, begun in steady state (see the module docs).
pub fn steady_at_rate(base: &Scenario, keys: usize, rate: f64) -> anyhow::Result<Scenario> {
    let mut b = rated(base, keys, rate)?;
    if outruns_daily_refill(base, keys, rate) {
        b = b.event(crate::spec::scenario::TargetEvent::ExhaustDaily {
            at: std::time::Duration::ZERO,
            org: None,
        });
    }
    Ok(b.build()?)
}

/// The sustained capacity of `keys` keys: the highest rate meeting `objective` in steady
/// state, searched from the refill bound, over runs long enough for about 400 arrivals at
/// that bound (one hour to one day).
pub fn sustained_capacity(
    base: &Scenario,
    keys: usize,
    objective: f64,
    progress: &mut dyn FnMut(usize, f64, Option<f64>),
) -> anyhow::Result<SweepPoint> {
    let Some(bound) = refill_rpm(base, keys) else {
        return capacity(base, keys, objective, progress);
    };
    let minutes = (400.0 / bound).clamp(60.0, 1440.0);
    let long = base
        .to_builder()
        .duration(std::time::Duration::from_secs_f64(minutes * 60.0))
        .requests(None)
        .interval(
            base.traffic
                .interval
                .max(std::time::Duration::from_secs(60)),
        )
        .build()?;
    search(keys, bound, objective, &mut |rate| {
        let success = probe(&steady_at_rate(&long, keys, rate)?, objective)?;
        progress(keys, rate, success);
        Ok(success)
    })
}

/// The burst capacity of `keys` keys: the highest rate meeting `objective` in runs of the
/// scenario from full budgets.
pub fn capacity(
    base: &Scenario,
    keys: usize,
    objective: f64,
    progress: &mut dyn FnMut(usize, f64, Option<f64>),
) -> anyhow::Result<SweepPoint> {
    let per_key = match base.traffic.trace() {
        Some(trace) => trace_rpm(trace)?,
        None => base.traffic.shape.rate().unwrap_or(30.0),
    };
    let guess = per_key * keys as f64;
    search(keys, guess, objective, &mut |rate| {
        let success = probe(&at_rate(base, keys, rate)?, objective)?;
        progress(keys, rate, success);
        Ok(success)
    })
}

/// One probe of a capacity search: `scenario`'s goodput rate, or `None` once it is known
/// to miss `objective` (the run stops there; see [`RunOptions::verdict_only`]).
fn probe(scenario: &Scenario, objective: f64) -> anyhow::Result<Option<f64>> {
    let options = RunOptions::verdict_only(scenario, objective);
    Ok(crate::run::verdict(
        &run(scenario, options, &NoProgress)?.report,
    ))
}

/// The highest rate meeting `objective`: from `guess`, doubling while rates meet it or
/// halving until one does, then [`STEPS`] halvings of the bracket; `probe` gives a rate's
/// goodput rate, `None` for one known to miss the objective.
fn search(
    keys: usize,
    guess: f64,
    objective: f64,
    probe: &mut dyn FnMut(f64) -> anyhow::Result<Option<f64>>,
) -> anyhow::Result<SweepPoint> {
    let mut runs = 0;
    // A rate missing the objective counts as 0: only those meeting it are kept.
    let mut probe = |rate: f64| {
        runs += 1;
        probe(rate).map(|success| success.unwrap_or(0.0))
    };
    // Bracket: `good` meets the objective (0 when nothing does), `bad` does not.
    let (mut good, mut good_success, mut bad) = (0.0, 0.0, guess);
    let first = probe(guess)?;
    if first >= objective {
        (good, good_success) = (guess, first);
        for _ in 0..12 {
            bad *= 2.0;
            let success = probe(bad)?;
            if success < objective {
                break;
            }
            (good, good_success) = (bad, success);
        }
        anyhow::ensure!(
            good < bad,
            "no failing rate found up to {bad} req/min: is the run bounded by `requests` only?"
        );
    } else {
        let mut low = guess / 2.0;
        while low > 0.001 {
            let success = probe(low)?;
            if success >= objective {
                (good, good_success) = (low, success);
                break;
            }
            (bad, low) = (low, low / 2.0);
        }
    }
    if good > 0.0 {
        for _ in 0..STEPS {
            let mid = (good + bad) / 2.0;
            let success = probe(mid)?;
            if success >= objective {
                (good, good_success) = (mid, success);
            } else {
                bad = mid;
            }
        }
    }
    Ok(SweepPoint {
        keys,
        replicas: 1,
        capacity_rpm: good,
        goodput_rate: good_success,
        ratio_to_one_key: None,
        runs,
        repeat_429: None,
        sustained_bound_rpm: None,
        binding: None,
    })
}

/// Sweeps the key counts, each at every replica count (`[]`: the scenario's own).
pub fn sweep(
    base: &Scenario,
    key_counts: &[usize],
    replica_counts: &[u32],
    objective: f64,
    progress: &mut dyn FnMut(usize, f64, Option<f64>),
) -> anyhow::Result<Sweep> {
    let own = [base.engine.replicas];
    let replica_counts = if replica_counts.is_empty() {
        &own[..]
    } else {
        replica_counts
    };
    let mut points = Vec::with_capacity(key_counts.len() * replica_counts.len());
    for &replicas in replica_counts {
        let scenario = base.to_builder().replica_count(replicas).build()?;
        for &keys in key_counts {
            let mut point = capacity(&scenario, keys, objective, progress)?;
            point.replicas = replicas;
            if let Some((rpm, binding)) = sustained_bound(&scenario, keys) {
                point.sustained_bound_rpm = Some(rpm);
                point.binding = Some(binding.to_owned());
            }
            if replicas > 1
                || scenario.engine.state.shared()
                || scenario.engine.cold_start.is_some()
            {
                let at = measure(&scenario, keys, point.capacity_rpm.max(0.01))?;
                point.repeat_429 = at.replicas.map(|r| r.repeat_429);
            }
            points.push(point);
        }
    }
    for i in 0..points.len() {
        let one = points
            .iter()
            .find(|p| p.keys == 1 && p.replicas == points[i].replicas)
            .map(|p| p.capacity_rpm);
        let p = &mut points[i];
        p.ratio_to_one_key = one.filter(|c| *c > 0.0).map(|c| p.capacity_rpm / c);
    }
    Ok(Sweep {
        schema: crate::measure::report::SCHEMA,
        scenario: base.name.clone(),
        scenario_hash: base.hash(),
        objective,
        latency_budget_ms: base.traffic.latency_budget.as_secs_f64() * 1000.0,
        policy: base.engine.policy.text().to_owned(),
        simulated: base.mode == crate::spec::scenario::Mode::Sim,
        run_span_s: run_span(base)?.as_secs_f64(),
        points,
    })
}

impl Sweep {
    /// What capacity means here, in one plain sentence.
    pub fn description(&self) -> String {
        let time = if self.simulated {
            format!(
                "simulated, runs of {:.0} s of virtual time",
                self.run_span_s
            )
        } else {
            format!("real time, runs of {:.0} s", self.run_span_s)
        };
        format!(
            "Capacity = the highest offered rate whose goodput rate (answers within {} ms) is ≥ {} ({time}), policy {}.",
            self.latency_budget_ms, self.objective, self.policy
        )
    }

    /// The sweep's answer, shown first: the largest key count's capacity and its ratio to
    /// one key's (a sweep sets no pass/fail bound, so its tone is neutral); no capacity found
    /// is said as such.
    pub fn verdict(&self) -> (crate::measure::document::Tone, String) {
        let tone = crate::measure::document::Tone::Inconclusive;
        let Some(top) = self.points.iter().max_by_key(|p| (p.keys, p.replicas)) else {
            return (tone, "No key count was swept.".to_owned());
        };
        if top.capacity_rpm <= 0.0 {
            return (
                tone,
                format!(
                    "No rate met the goodput objective {} with {} keys.",
                    self.objective, top.keys
                ),
            );
        }
        let ratio = top
            .ratio_to_one_key
            .map_or(String::new(), |r| format!(", {r:.2}× one key's"));
        let replicas = if top.replicas > 1 {
            format!(" on {} replicas", top.replicas)
        } else {
            String::new()
        };
        let span = crate::spec::scenario::human(std::time::Duration::from_secs_f64(
            self.run_span_s.max(0.0),
        ));
        let mut text = format!(
            "{} keys{replicas} serve {:.1} req/min at ≥ {} goodput{ratio}: a burst, from full budgets over {span} runs.",
            top.keys, top.capacity_rpm, self.objective
        );
        if let (Some(rpm), Some(binding)) = (top.sustained_bound_rpm, &top.binding) {
            let daily = matches!(binding.as_str(), "RPD" | "TPD");
            // Significant figures: a bound below 0.1 req/min (50 a day is 0.035) keeps its digits.
            let bound = crate::spec::scenario::Rate(rpm).words();
            if daily && rpm < top.capacity_rpm {
                text.push_str(&format!(
                    " Sustained (budgets in steady state, as after a day of such traffic), their limits allow at most {bound} req/min ({binding} binds): the burst lasts only until the daily budgets run out."
                ));
            } else {
                text.push_str(&format!(
                    " Their limits sustain up to {bound} req/min ({binding} binds), so this rate can be kept up."
                ));
            }
        }
        (tone, text)
    }

    /// Capacity per key count; `sweep.md` and `report.html` render it.
    pub fn table(&self) -> Table {
        Table {
            head: Table::heads(&[
                "keys",
                "replicas",
                "burst capacity (req/min, from full budgets)",
                "goodput at capacity",
                "× one key",
                "sustained at most (req/min)",
                "binding limit",
                "repeated 429s at capacity",
                "runs",
            ]),
            rows: self
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.keys.to_string(),
                        p.replicas.to_string(),
                        format!("{:.1}", p.capacity_rpm),
                        format!("{:.4}", p.goodput_rate),
                        p.ratio_to_one_key
                            .map_or("–".to_owned(), |r| format!("{r:.2}")),
                        p.sustained_bound_rpm
                            .map_or("unlimited".to_owned(), |r| format!("{r:.1}")),
                        p.binding.clone().unwrap_or_else(|| "none".to_owned()),
                        p.repeat_429.map_or("–".to_owned(), |r| r.to_string()),
                        p.runs.to_string(),
                    ]
                })
                .collect(),
        }
    }

    /// The markdown summary.
    pub fn markdown(&self) -> String {
        format!(
            "# {} — capacity sweep\n\n**{}**\n\n{}\n\n{}",
            self.scenario,
            self.verdict().1,
            self.description(),
            self.table().markdown()
        )
    }
}
