//! How sure the answer is. Traffic is random: one simulated event says what one draw of
//! arrivals did. For key counts around the single-seed answer the event is simulated again
//! under many seeds, and each count gets the share of seeds whose event met the objective,
//! with a Wilson score interval for it. The recommendation is the smallest count whose share
//! reaches the stated confidence. Seeds run in order, and a count stops as soon as so many
//! have missed that the rest could not lift it to the level: its verdict is the one all
//! seeds would give, and a count that reaches the level always runs every seed.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::PlanInput;
use super::search::{Depth, Progress, point};
use crate::studies::parallel::parallel_until;

/// The most counts examined around the answer.
const MAX_COUNTS: usize = 16;

/// One key count under many seeds.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Share {
    /// Keys.
    pub keys: usize,
    /// Seeds whose simulated event met the objective.
    pub met: usize,
    /// Seeds simulated: all of the plan's, or fewer when so many had missed that this count
    /// could no longer reach the level (the rest were not run).
    pub seeds: usize,
    /// met ÷ seeds.
    pub share: f64,
    /// Lower end of the 95 % Wilson interval of the share.
    pub low: f64,
    /// Upper end of the 95 % Wilson interval of the share.
    pub high: f64,
}

/// The confidence part of a plan.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Confidence {
    /// The share of seeds a recommended count must reach.
    pub level: f64,
    /// Seeds per count.
    pub seeds: usize,
    /// Each count examined, ascending.
    pub counts: Vec<Share>,
    /// The smallest count whose share reaches `level`, if one examined does.
    pub recommended: Option<usize>,
}

/// The 95 % Wilson score interval of `met` successes in `n` trials.
pub fn wilson(met: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_964_f64;
    let (n, p) = (n as f64, met as f64 / n as f64);
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The fewest of `seeds` seeds that must meet the objective for a share of at least `level`.
fn needed(level: f64, seeds: usize) -> usize {
    (0..=seeds)
        .find(|&m| m as f64 / seeds.max(1) as f64 >= level)
        .unwrap_or(seeds)
}

/// Simulates `keys` keys under up to `seeds` seeds (the input's seed + 1, + 2, …), in
/// order, until more have missed than a share of `input.confidence` allows (all of them
/// with `input.all_seeds`).
fn share(
    input: &PlanInput,
    keys: usize,
    seeds: usize,
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<Share> {
    let draws: Vec<u64> = (1..=seeds as u64)
        .map(|i| input.seed.wrapping_add(i))
        .collect();
    let misses_allowed = if input.all_seeds {
        seeds
    } else {
        seeds - needed(input.confidence, seeds)
    };
    let outcomes = parallel_until(
        &draws,
        |&seed| {
            let one = PlanInput {
                seed,
                ..input.clone()
            };
            Ok(point(&one, &one.policy, keys, Depth::Verdict, progress)?.meets)
        },
        |done| done.iter().filter(|m| !**m).count() > misses_allowed,
    )?;
    let (met, run) = (outcomes.iter().filter(|m| **m).count(), outcomes.len());
    let (low, high) = wilson(met, run);
    Ok(Share {
        keys,
        met,
        seeds: run,
        share: met as f64 / run.max(1) as f64,
        low,
        high,
    })
}

/// Examines counts from `start` (the single-seed answer): down while the count below still
/// reaches the level (never below `floor`, the analytical bound), else up until one does (at
/// most `max`, and [`MAX_COUNTS`] counts in all).
pub(super) fn examine(
    input: &PlanInput,
    start: usize,
    floor: usize,
    max: usize,
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<Confidence> {
    let (level, seeds) = (input.confidence, input.seeds);
    let mut counts = vec![share(input, start, seeds, progress)?];
    let reaches = |s: &Share| s.share >= level;
    if reaches(&counts[0]) {
        let mut keys = start;
        while keys > floor.max(1) && counts.len() < MAX_COUNTS {
            keys -= 1;
            let below = share(input, keys, seeds, progress)?;
            let stop = !reaches(&below);
            counts.push(below);
            if stop {
                break;
            }
        }
    } else {
        let mut keys = start;
        while keys < max && counts.len() < MAX_COUNTS {
            keys += 1;
            let above = share(input, keys, seeds, progress)?;
            let stop = reaches(&above);
            counts.push(above);
            if stop {
                break;
            }
        }
    }
    counts.sort_by_key(|s| s.keys);
    let recommended = counts.iter().find(|s| reaches(s)).map(|s| s.keys);
    Ok(Confidence {
        level,
        seeds,
        counts,
        recommended,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_the_textbook_values() {
        // 19 of 20: 0.95 with the 95 % Wilson interval [0.764, 0.991].
        let (low, high) = wilson(19, 20);
        assert!(
            (low - 0.7639).abs() < 1e-3 && (high - 0.9911).abs() < 1e-3,
            "{low} {high}"
        );
        let (low, high) = wilson(0, 10);
        assert!(low == 0.0 && (high - 0.2775).abs() < 1e-3, "{high}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }
}
