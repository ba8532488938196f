//! Work on every core, results in order: each simulation is one thread's paused-clock
//! runtime with its own seed, so what a study finds does not depend on the threads or on the
//! order items finish in.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// `work` on every item, on as many threads as there are cores (each simulation is one
/// thread's paused-clock runtime); the results in the order of `items`, or the first error.
pub(crate) fn parallel<T: Sync, R: Send>(
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
pub(crate) fn parallel_until<T: Sync, R: Send>(
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
