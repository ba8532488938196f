//! The simulated search: for each policy, the smallest key count whose simulated event meets
//! the objective. It gallops up from the analytical bound (bound, +1, +3, +7, … keys) until a
//! count meets the objective, then bisects between the last count that failed and it, so a
//! policy that never meets it costs a handful of runs, not one per count up to the cap. It
//! assumes more keys never serve worse, as the linear walk it replaces did. The policies are
//! searched side by side, one thread per core: each run is its own paused-clock runtime with
//! its own seed, so the answer does not depend on the threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::drive::driver::NoProgress;
use crate::run::{RunOptions, run};
use crate::spec::scenario::PolicySpec;

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
    let options = RunOptions {
        give_up_after: (depth == Depth::Verdict)
            .then(|| unanswered_allowed(&scenario, input.objective)),
        without_quota: true,
        ..RunOptions::default()
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

/// The most requests of `scenario`'s event that may go unanswered within the budget with
/// its goodput still meeting `objective`, by the same arithmetic the verdict uses
/// (goodput ÷ offered ≥ objective, with every arrival offered).
fn unanswered_allowed(scenario: &crate::spec::scenario::Scenario, objective: f64) -> u64 {
    let n = crate::drive::workload::Arrivals::new(&scenario.traffic, scenario.seed).count() as u64;
    let meets = |unanswered: u64| (n - unanswered) as f64 / n.max(1) as f64 >= objective;
    let mut allowed = (((1.0 - objective) * n as f64).floor() as u64).min(n);
    while allowed < n && meets(allowed + 1) {
        allowed += 1;
    }
    while allowed > 0 && !meets(allowed) {
        allowed -= 1;
    }
    allowed
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

/// `work` on every item, on as many threads as there are cores (each simulation is one
/// thread's paused-clock runtime); the results in the order of `items`, or the first error.
pub(super) fn parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    parallel_until(items, work, |_| false)
}

/// The results gathered in item order while items finish out of order.
struct Ordered<R> {
    /// The results of the leading items, in order.
    prefix: Vec<R>,
    /// Finished items not yet in `prefix` (an earlier one is still running).
    later: Vec<Option<anyhow::Result<R>>>,
    /// The first error in item order, once reached.
    error: Option<anyhow::Error>,
    /// `prefix` is final: decided, or an error reached.
    finished: bool,
}

/// [`parallel`] until `decided` holds for the results of the leading items: the results of
/// the shortest such run of items (all of them if none), so the answer depends neither on
/// the threads nor on the order items finish in; no item is started once it is known.
pub(super) fn parallel_until<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> anyhow::Result<R> + Sync,
    decided: impl Fn(&[R]) -> bool + Sync,
) -> anyhow::Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let state = Mutex::new(Ordered {
        prefix: Vec::new(),
        later: items.iter().map(|_| None).collect(),
        error: None,
        finished: false,
    });
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len())
        .max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else {
                        break;
                    };
                    let done = work(item);
                    let Ok(mut state) = state.lock() else {
                        break;
                    };
                    state.later[i] = Some(done);
                    if state.extend(&decided) {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let state = state
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?;
    if let Some(error) = state.error {
        return Err(error);
    }
    if !state.finished && state.prefix.len() < items.len() {
        anyhow::bail!("a simulation thread panicked");
    }
    Ok(state.prefix)
}

impl<R> Ordered<R> {
    /// Moves finished items onto the prefix while they follow it; whether it is now final.
    fn extend(&mut self, decided: &impl Fn(&[R]) -> bool) -> bool {
        while !self.finished {
            let at = self.prefix.len();
            match self.later.get_mut(at).and_then(Option::take) {
                Some(Ok(r)) => {
                    self.prefix.push(r);
                    self.finished = decided(&self.prefix);
                }
                Some(Err(e)) => {
                    self.error = Some(e);
                    self.finished = true;
                }
                None => break,
            }
        }
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items finish out of order (later ones first); the answer is the shortest leading run
    /// of items that decides, and items after it are not started once it is known.
    #[test]
    fn parallel_until_keeps_the_shortest_deciding_run_whatever_the_order() {
        let items: Vec<u64> = (0..40).collect();
        let started = AtomicUsize::new(0);
        let misses = |done: &[bool]| done.iter().filter(|m| !**m).count() > 2;
        let found = parallel_until(
            &items,
            |&i| {
                started.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(40 - i));
                Ok(i % 5 != 0)
            },
            misses,
        );
        // Misses at items 0, 5 and 10: the run ends with item 10.
        let found = found.unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(found.len(), 11, "{found:?}");
        assert_eq!(found.iter().filter(|m| !**m).count(), 3);
        assert!(started.load(Ordering::Relaxed) < 40);
        let all = parallel(&items, |&i| Ok(i)).unwrap_or_default();
        assert_eq!(all, items);
        let failed = parallel(&items, |&i| match i {
            7 => anyhow::bail!("seven"),
            _ => Ok(i),
        });
        assert!(failed.is_err_and(|e| e.to_string() == "seven"));
    }
}
