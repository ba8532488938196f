//! Token sizes drawn from a trace: a scenario's `prompt_tokens = { trace = "last-event.csv" }`
//! draws each synthetic request's size from the sizes an app really sent, whatever the
//! arrivals. The trace is read once, before the run, into a seeded reservoir of at most
//! [`RESERVOIR`] sizes (flat memory for a trace of any size); each draw picks one of them.

use std::path::PathBuf;
use std::sync::OnceLock;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{Columns, Trace, TraceError};

/// Most sizes kept from a trace.
pub const RESERVOIR: usize = 100_000;

/// Which of a trace's sizes a distribution draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The prompt's tokens.
    Prompt,
    /// The answer's tokens (or the request's `max_tokens` where the trace has no answers).
    Completion,
}

/// An empirical size distribution: the sizes of a trace.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// The trace file (relative to the scenario file).
    pub trace: PathBuf,
    /// The column holding the sizes, when not the field's own name (`prompt_tokens`, or
    /// `completion_tokens` then `max_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The sizes kept, sorted, once read.
    #[serde(skip)]
    sizes: OnceLock<Vec<u64>>,
}

impl Clone for Sample {
    fn clone(&self) -> Self {
        Self {
            trace: self.trace.clone(),
            column: self.column.clone(),
            sizes: self.sizes.clone(),
        }
    }
}

impl PartialEq for Sample {
    fn eq(&self, other: &Self) -> bool {
        self.trace == other.trace && self.column == other.column
    }
}

impl Sample {
    /// The sizes of `trace`'s column `column` (the side's own by default).
    pub fn new(trace: PathBuf, column: Option<String>) -> Self {
        Self {
            trace,
            column,
            sizes: OnceLock::new(),
        }
    }

    /// Reads the trace's sizes of `side` into the reservoir, once; errors name the file,
    /// line and column.
    pub fn load(&self, side: Side) -> Result<&[u64], TraceError> {
        if let Some(sizes) = self.sizes.get() {
            return Ok(sizes);
        }
        let mut columns = Columns::default();
        if let Some(column) = &self.column {
            match side {
                Side::Prompt => columns.prompt_tokens = column.clone(),
                Side::Completion => columns.completion_tokens = column.clone(),
            }
        }
        let trace = Trace {
            columns,
            ..Trace::new(&self.trace)
        };
        // Algorithm R, seeded: the same trace keeps the same sizes.
        let mut rng = SmallRng::seed_from_u64(0x05a3_b1e5);
        let mut kept: Vec<u64> = Vec::new();
        for (seen, row) in trace.rows()?.enumerate() {
            let row = row?;
            let size = match side {
                Side::Prompt => row.prompt_tokens,
                Side::Completion => row.max_tokens,
            };
            if kept.len() < RESERVOIR {
                kept.push(size);
            } else if let Some(slot) = kept.get_mut(rng.random_range(0..=seen)) {
                *slot = size;
            }
        }
        if kept.is_empty() {
            return Err(TraceError::Row {
                path: self.trace.display().to_string(),
                line: 1,
                column: "-".into(),
                message: "the trace has no requests".into(),
            });
        }
        kept.sort_unstable();
        Ok(self.sizes.get_or_init(|| kept))
    }

    /// One size, drawn uniformly from those kept; `None` before [`Sample::load`].
    pub fn draw(&self, rng: &mut SmallRng) -> Option<u64> {
        let sizes = self.sizes.get()?;
        sizes.get(rng.random_range(0..sizes.len().max(1))).copied()
    }

    /// The mean of the sizes kept; `None` before [`Sample::load`].
    pub fn mean(&self) -> Option<f64> {
        let sizes = self.sizes.get().filter(|s| !s.is_empty())?;
        Some(sizes.iter().map(|&s| s as f64).sum::<f64>() / sizes.len() as f64)
    }

    /// `drawn from the 1,234 sizes of last-event.csv (median 310, mean 352.4, 12–4,000)`.
    pub fn describe(&self) -> String {
        match self.sizes.get().filter(|s| !s.is_empty()) {
            Some(sizes) => format!(
                "drawn from {} sizes of {} (median {}, mean {:.1}, {}–{})",
                sizes.len(),
                self.trace.display(),
                sizes[sizes.len() / 2],
                self.mean().unwrap_or(0.0),
                sizes[0],
                sizes[sizes.len() - 1],
            ),
            None => format!("drawn from the sizes of {}", self.trace.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace longer than the reservoir keeps [`RESERVOIR`] of its sizes, the same ones
    /// every time, spread over the whole trace (not its first rows).
    #[test]
    fn a_long_trace_keeps_a_seeded_reservoir_of_its_sizes() {
        let dir = std::env::temp_dir().join(format!("keyrotor-sample-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("long.csv");
        let mut text = String::from("offset_s,prompt_tokens,max_tokens\n");
        for i in 0..150_000u64 {
            text.push_str(&format!("{i},{},7\n", 1 + i));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let a = Sample::new(path.clone(), None);
        let b = Sample::new(path.clone(), None);
        let kept = a
            .load(Side::Prompt)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_vec();
        assert_eq!(kept.len(), RESERVOIR);
        assert_eq!(
            Ok(kept.as_slice()),
            b.load(Side::Prompt).map_err(|e| e.to_string())
        );
        let late = kept.iter().filter(|&&v| v > 100_000).count();
        // A third of the rows come after the first 100,000: about a third of those kept.
        assert!((30_000..37_000).contains(&late), "{late}");
        let answers = Sample::new(path, None);
        assert_eq!(answers.load(Side::Completion).map(|s| s[0]).ok(), Some(7));
        let mut rng = SmallRng::seed_from_u64(1);
        assert!(a.draw(&mut rng).is_some_and(|v| (1..=150_000).contains(&v)));
        assert!(
            Sample::new(dir.join("absent.csv"), None)
                .draw(&mut rng)
                .is_none()
        );
    }
}
