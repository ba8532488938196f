//! `keyrotor sweep`: the capacity at each key (and replica) count.

use std::path::PathBuf;
use std::process::ExitCode;

use super::args::AsOf;
use super::terminal::{default_dir, show, show_progress};
use crate::output::live::Activity;
use crate::spec::scenario::Mode;

/// Options of `keyrotor sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Key counts to sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5,10")]
    pub keys: Vec<usize>,
    /// Replica counts to sweep, each at every key count (default: the scenario's own),
    /// e.g. 1,2,4,8; the scenario's `[engine]` state and cold starts apply to each.
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    pub replicas: Vec<u32>,
    /// Goodput objective: the share of requests answered within the scenario's
    /// `latency_budget`.
    #[arg(long, default_value_t = 0.99)]
    pub objective: f64,
    /// Output folder (default reports/<scenario>-sweep-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON on stdout (what the .json file holds) instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Force simulated time (the scenario's `mode` otherwise).
    #[arg(long)]
    pub sim: bool,
    /// The catalog's day.
    #[command(flatten)]
    pub as_of: AsOf,
}

/// `keyrotor sweep`: the capacity at each key (and replica) count, and its reports.
pub(super) fn sweep_command(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let SweepArgs {
        scenario: path,
        keys,
        replicas,
        objective,
        out,
        json,
        sim,
        as_of,
    } = args;
    let flags = super::run::Overrides {
        sim,
        as_of: as_of.as_of,
        ..super::run::Overrides::default()
    };
    let (keys, replicas) = (keys.as_slice(), replicas.as_slice());
    let scenario = super::run::load_scenario(Some(&path), flags)?;
    anyhow::ensure!(
        !keys.is_empty() && keys.iter().all(|k| *k >= 1),
        "--keys needs key counts ≥ 1, e.g. 1,3,5,10"
    );
    anyhow::ensure!(
        replicas
            .iter()
            .all(|r| (1..=crate::spec::scenario::MAX_REPLICAS).contains(r)),
        "--replicas needs counts from 1 to {}, e.g. 1,2,4,8",
        crate::spec::scenario::MAX_REPLICAS
    );
    anyhow::ensure!(
        objective > 0.0 && objective <= 1.0,
        "--objective is a success rate in (0, 1], e.g. 0.99"
    );
    // A sweep searches rates by running the scenario again and again, doubling the rate:
    // its spend has no bound a scenario states, so it never goes to a real endpoint.
    anyhow::ensure!(
        scenario.target.url().is_none(),
        "sweep runs only against the embedded mock: its search sends the scenario many times at rising rates, which a real endpoint's quota would pay for without a stated bound; use `keyrotor run` at the rates you choose instead"
    );
    if scenario.mode == Mode::Real {
        eprintln!(
            "note: a real-time sweep runs the scenario many times; use mode = \"sim\" for minutes-long windows"
        );
    }
    let dir = out.unwrap_or_else(|| default_dir(&format!("{}-sweep", scenario.name)));
    crate::output::artifacts::prepare(&dir)?;
    let activity = Activity::new(show_progress(), false);
    activity.say("sweeping: the first run");
    let mut progress = |k: usize, rate: f64, success: Option<f64>| {
        let found = match success {
            Some(s) => format!("{:.2} % goodput", s * 100.0),
            None => format!(
                "below {:.2} % goodput (stopped once it could not reach it)",
                objective * 100.0
            ),
        };
        activity.say(&format!(
            "sweeping: {k} keys at {rate:.1} req/min → {found}"
        ));
    };
    let sweep = crate::studies::sweep::sweep(&scenario, keys, replicas, objective, &mut progress);
    activity.finish();
    let sweep = sweep?;
    crate::output::artifacts::sweep(&dir, &sweep)?;
    show(json, &sweep, &sweep.markdown(), &dir)?;
    Ok(ExitCode::SUCCESS)
}
