//! The simulated search: for each policy, the smallest key count whose simulated event meets
//! the objective. It gallops up from the analytical bound (bound, +1, +3, +7, … keys) until a
//! count meets the objective, then bisects between the last count that failed and it, so a
//! policy that never meets it costs a handful of runs, not one per count up to the cap. It
//! assumes more keys never serve worse, as the linear walk it replaces did. The policies are
//! searched side by side, one thread per core: each run is its own paused-clock runtime with
//! its own seed, so the answer does not depend on the threads.

use crate::drive::driver::NoProgress;
use crate::run::{RunOptions, run};
use crate::spec::scenario::PolicySpec;
use std::sync::Mutex;

use crate::studies::parallel::parallel;

use super::{PlanInput, Point, Simulated};

/// Told each simulated count: policy, keys, success rate.
pub type Progress<'a> = dyn FnMut(&str, usize, f64) + Send + 'a;

/// How a simulated count is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    /// To the end: every figure measured (the points the plan shows).
    Full,
    /// Until the goodput objective is out of reach: enough to say whether it is met.
    Verdict,
}

/// Simulates the event with `keys` keys and `policy`.
pub(super) fn point(
    input: &PlanInput,
    policy: &PolicySpec,
    keys: usize,
    depth: Depth,
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<Point> {
    let scenario = input.scenario(keys, policy)?;
    let options = match depth {
        Depth::Verdict => RunOptions::verdict_only(&scenario, input.objective),
        Depth::Full => RunOptions::summary_only(),
    };
    let report = run(&scenario, options, &NoProgress)?.report;
    if let Ok(mut tell) = progress.lock() {
        tell(
            policy.text(),
            keys,
            report.summary.success_rate.unwrap_or(0.0),
        );
    }
    Ok(input.point(keys, &report))
}

/// The smallest count from `from` meeting the objective for `policy`, and every count run
/// (to `depth`).
pub(super) fn search(
    input: &PlanInput,
    policy: &PolicySpec,
    from: usize,
    depth: Depth,
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<Simulated> {
    let max = input.key_cap();
    let mut points: Vec<Point> = Vec::new();
    let mut probe = |keys: usize| -> anyhow::Result<bool> {
        let p = point(input, policy, keys, depth, progress)?;
        let meets = p.meets;
        points.push(p);
        Ok(meets)
    };
    let from = from.max(1);
    // `failed`: the largest count known to fail (below `from`, the bound says so).
    let (mut failed, mut met) = (from - 1, None);
    let (mut keys, mut step) = (from, 1);
    while keys <= max {
        if probe(keys)? {
            met = Some(keys);
            break;
        }
        failed = keys;
        if keys == max {
            break;
        }
        keys = keys.saturating_add(step).min(max);
        step = step.saturating_mul(2);
    }
    if let Some(mut hi) = met {
        while hi - failed > 1 {
            let mid = failed + (hi - failed) / 2;
            if probe(mid)? {
                hi = mid;
            } else {
                failed = mid;
            }
        }
        met = Some(hi);
    }
    points.sort_by_key(|p| p.keys);
    Ok(Simulated {
        policy: policy.text().to_owned(),
        min_keys: met,
        points,
    })
}

/// The simulations of a plan: the chosen policy's search and its points below the bound
/// (for the table and plot), each run to the end, and every other policy's search, run to
/// its verdict only. All side by side.
pub(super) struct Searches {
    /// The chosen policy's search, with the points below the bound added.
    pub chosen: Simulated,
    /// Every other policy's search, in the order given.
    pub others: Vec<Simulated>,
}

/// One piece of work of [`search_policies`].
enum Job<'a> {
    Search(&'a PolicySpec, Depth),
    Point(usize),
}

/// What a [`Job`] found.
enum Found {
    Search(Simulated),
    Point(Point),
}

/// Searches `chosen` and `others` from `from`, and simulates `chosen` at `below` (counts
/// under the bound), side by side.
pub(super) fn search_policies(
    input: &PlanInput,
    chosen: &PolicySpec,
    others: &[PolicySpec],
    from: usize,
    below: &[usize],
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<Searches> {
    let mut jobs = vec![Job::Search(chosen, Depth::Full)];
    jobs.extend(others.iter().map(|p| Job::Search(p, Depth::Verdict)));
    jobs.extend(below.iter().map(|&keys| Job::Point(keys)));
    let mut chosen_search = None;
    let mut searched = Vec::new();
    let mut points = Vec::new();
    for (i, found) in parallel(&jobs, |job| match job {
        Job::Search(policy, depth) => {
            search(input, policy, from, *depth, progress).map(Found::Search)
        }
        Job::Point(keys) => point(input, chosen, *keys, Depth::Full, progress).map(Found::Point),
    })?
    .into_iter()
    .enumerate()
    {
        match found {
            Found::Search(s) if i == 0 => chosen_search = Some(s),
            Found::Search(s) => searched.push(s),
            Found::Point(p) => points.push(p),
        }
    }
    let mut chosen =
        chosen_search.ok_or_else(|| anyhow::anyhow!("the chosen policy was not simulated"))?;
    chosen.points.extend(points);
    chosen.points.sort_by_key(|p| p.keys);
    Ok(Searches {
        chosen,
        others: searched,
    })
}
