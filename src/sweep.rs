//! Capacity sweeps: for each key count, the highest offered rate (requests per minute) at
//! which the success objective still holds, found by bisection over simulated runs of the
//! scenario with constant arrivals; and its ratio to the capacity of one key.

use serde::{Deserialize, Serialize};

use crate::driver::NoProgress;
use crate::report::{Report, Table};
use crate::run::{RunOptions, run};
use crate::scenario::{Arrival, Count, Rate, Scenario};

/// Bisection steps per key count (relative precision about 2⁻⁸ of the bracket).
const STEPS: usize = 8;

/// One key count's capacity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Keys.
    pub keys: usize,
    /// Highest offered requests per minute that met the objective.
    pub capacity_rpm: f64,
    /// Success rate measured at that rate.
    pub success_rate: f64,
    /// capacity ÷ capacity with one key (when 1 is swept).
    pub ratio_to_one_key: Option<f64>,
    /// Runs it took.
    pub runs: usize,
}

/// A sweep's result (`sweep.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sweep {
    /// Schema version.
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// Success-rate objective.
    pub objective: f64,
    /// Policy.
    pub policy: String,
    /// Whether runs were simulated.
    pub simulated: bool,
    /// Simulated span of each run, seconds.
    pub run_span_s: f64,
    /// One per key count.
    pub points: Vec<SweepPoint>,
}

/// The scenario at `rate` requests per minute with `keys` keys (constant arrivals).
pub fn at_rate(base: &Scenario, keys: usize, rate: f64) -> Scenario {
    let mut s = base.clone();
    s.keys.count = Count(keys.max(1));
    if s.keys.layout == crate::scenario::Layout::Explicit {
        s.keys.layout = crate::scenario::Layout::Separate;
        s.keys.orgs.clear();
    }
    s.traffic.arrival = match s.traffic.arrival {
        Arrival::Poisson => Arrival::Poisson,
        _ => Arrival::Constant,
    };
    s.traffic.rate = Some(Rate(rate.max(0.01)));
    s.traffic.peak = None;
    s.traffic.users = None;
    s
}

fn measure(base: &Scenario, keys: usize, rate: f64) -> anyhow::Result<Report> {
    Ok(run(
        &at_rate(base, keys, rate),
        RunOptions::default(),
        &NoProgress,
    )?
    .report)
}

/// Capacity of `base` with `keys` keys: bisection between a rate that meets `objective` and
/// one that does not. `progress` is told each probe.
pub fn capacity(
    base: &Scenario,
    keys: usize,
    objective: f64,
    progress: &mut dyn FnMut(usize, f64, f64),
) -> anyhow::Result<SweepPoint> {
    let start = base.traffic.rate.map_or(30.0, |r| r.0);
    let mut runs = 0;
    let mut probe = |rate: f64, runs: &mut usize| -> anyhow::Result<f64> {
        *runs += 1;
        let success = measure(base, keys, rate)?.summary.success_rate;
        progress(keys, rate, success);
        Ok(success)
    };
    // Bracket: `good` meets the objective, `bad` does not.
    let (mut good, mut good_success, mut bad) = (0.0, 0.0, start * keys as f64);
    loop {
        let success = probe(bad, &mut runs)?;
        if success < objective {
            break;
        }
        (good, good_success) = (bad, success);
        bad *= 2.0;
        if runs > 20 {
            anyhow::bail!(
                "no failing rate found up to {bad} req/min: is the run bounded by `requests` only?"
            );
        }
    }
    if good == 0.0 {
        let mut low = bad / 2.0;
        while low > 0.01 {
            let success = probe(low, &mut runs)?;
            if success >= objective {
                (good, good_success) = (low, success);
                break;
            }
            bad = low;
            low /= 2.0;
        }
    }
    for _ in 0..STEPS {
        let mid = (good + bad) / 2.0;
        let success = probe(mid, &mut runs)?;
        if success >= objective {
            (good, good_success) = (mid, success);
        } else {
            bad = mid;
        }
    }
    Ok(SweepPoint {
        keys,
        capacity_rpm: good,
        success_rate: good_success,
        ratio_to_one_key: None,
        runs,
    })
}

/// Sweeps the key counts.
pub fn sweep(
    base: &Scenario,
    key_counts: &[usize],
    objective: f64,
    progress: &mut dyn FnMut(usize, f64, f64),
) -> anyhow::Result<Sweep> {
    let mut points = Vec::with_capacity(key_counts.len());
    for &keys in key_counts {
        points.push(capacity(base, keys, objective, progress)?);
    }
    let one = points.iter().find(|p| p.keys == 1).map(|p| p.capacity_rpm);
    for p in &mut points {
        p.ratio_to_one_key = one.filter(|c| *c > 0.0).map(|c| p.capacity_rpm / c);
    }
    Ok(Sweep {
        schema: crate::report::SCHEMA,
        scenario: base.name.clone(),
        objective,
        policy: base.engine.policy.text().to_owned(),
        simulated: base.mode == crate::scenario::Mode::Sim,
        run_span_s: base.traffic.duration.map_or(0.0, |d| d.as_secs_f64()),
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
            "Capacity = the highest offered rate whose success rate is ≥ {} ({time}), policy {}.",
            self.objective, self.policy
        )
    }

    /// Capacity per key count; `sweep.md` and `report.html` render it.
    pub fn table(&self) -> Table {
        Table {
            head: vec![
                "keys",
                "capacity (req/min)",
                "success at capacity",
                "× one key",
                "runs",
            ],
            rows: self
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.keys.to_string(),
                        format!("{:.1}", p.capacity_rpm),
                        format!("{:.4}", p.success_rate),
                        p.ratio_to_one_key
                            .map_or("–".to_owned(), |r| format!("{r:.2}")),
                        p.runs.to_string(),
                    ]
                })
                .collect(),
        }
    }

    /// The markdown summary.
    pub fn markdown(&self) -> String {
        format!(
            "# {} — capacity sweep\n\n{}\n\n{}",
            self.scenario,
            self.description(),
            self.table().markdown()
        )
    }
}
