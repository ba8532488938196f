//! A trace: an app's own requests, one per row, replayed on their own schedule (open loop),
//! in simulated and real time alike, instead of arrivals from a formula.
//!
//! A trace is a CSV file with a header row, or JSON Lines (one object per line; `.jsonl`,
//! `.ndjson`, or a first character `{`). Each row is one request:
//!
//! | field | meaning |
//! |---|---|
//! | `offset_s` | seconds from the start (or `timestamp`: RFC 3339, `YYYY-MM-DD HH:MM:SS` in UTC, or Unix seconds; the first row is the start) |
//! | `prompt_tokens` | the prompt's tokens (or `prompt`: its text, or in JSON a `messages` array, counted as the mock counts) |
//! | `completion_tokens` | the tokens the answer had; the replayed request asks this many as `max_tokens` |
//! | `max_tokens` | the request's cap, used when `completion_tokens` is absent |
//! | `model` | optional: the model this request names (the scenario's otherwise) |
//!
//! Other columns are ignored; [`Columns`] maps other names onto these (LiteLLM's spend logs
//! write `startTime`, an access log `ts`; in JSON a dotted path such as `body.max_tokens`
//! reaches into nested objects). Rows must come in time order. A trace of any size
//! streams: [`scan`] checks it once before the run (each bad row refused with its file, line
//! and column) and the run reads it again row by row, in flat memory.
//!
//! ```
//! use keyrotor::spec::trace::{Trace, scan};
//! let dir = std::env::temp_dir().join(format!("trace-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("t.csv");
//! std::fs::write(&path, "offset_s,prompt_tokens,completion_tokens\n0,100,50\n2.5,80,40\n").unwrap();
//! let summary = scan(&Trace::new(&path)).unwrap();
//! assert_eq!((summary.rows, summary.span.as_secs_f64()), (2, 2.5));
//! ```

mod read;
mod sample;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use read::TraceReader;
pub use sample::{RESERVOIR, Sample, Side};
pub use write::TraceWriter;

/// Which column (CSV header) or key (JSON Lines) holds each field; the field's own name by
/// default. A scenario writes `trace_columns = { offset_s = "startTime" }`, the command line
/// `--trace-columns offset_s=startTime`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    /// Seconds from the start.
    pub offset_s: String,
    /// A point in time (RFC 3339, `YYYY-MM-DD HH:MM:SS` in UTC, or Unix seconds).
    pub timestamp: String,
    /// The prompt's tokens.
    pub prompt_tokens: String,
    /// The prompt's text, counted as the mock counts it.
    pub prompt: String,
    /// The request's `max_tokens`.
    pub max_tokens: String,
    /// The answer's tokens.
    pub completion_tokens: String,
    /// The model named.
    pub model: String,
}

impl Default for Columns {
    fn default() -> Self {
        Self {
            offset_s: "offset_s".into(),
            timestamp: "timestamp".into(),
            prompt_tokens: "prompt_tokens".into(),
            prompt: "prompt".into(),
            max_tokens: "max_tokens".into(),
            completion_tokens: "completion_tokens".into(),
            model: "model".into(),
        }
    }
}

impl Columns {
    /// `offset_s=startTime,prompt_tokens=input_tokens`: each field renamed, the others kept.
    pub fn parse_flag(text: &str) -> Result<Columns, String> {
        let mut columns = Columns::default();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, name) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}`: expected FIELD=COLUMN"))?;
            let name = name.trim().to_owned();
            if name.is_empty() || name.len() > 200 {
                return Err(format!("`{pair}`: a column name of 1 to 200 characters"));
            }
            let slot = match field.trim() {
                "offset_s" => &mut columns.offset_s,
                "timestamp" => &mut columns.timestamp,
                "prompt_tokens" => &mut columns.prompt_tokens,
                "prompt" => &mut columns.prompt,
                "max_tokens" => &mut columns.max_tokens,
                "completion_tokens" => &mut columns.completion_tokens,
                "model" => &mut columns.model,
                other => {
                    return Err(format!(
                        "`{other}` is not a trace field (offset_s, timestamp, prompt_tokens, prompt, max_tokens, completion_tokens, model)"
                    ));
                }
            };
            *slot = name;
        }
        Ok(columns)
    }
}

/// Where a run's requests come from when they come from a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The file.
    pub path: PathBuf,
    /// Time compression: 2 replays the trace in half its time (0.001 to 1,000).
    pub speed: f64,
    /// Users: 10 replays each row 10 times (0.001 to 1,000; fractions by a seeded draw):
    /// a row's copies are spread over the time until the next row, so the trace's shape
    /// holds at the resolution of its own gaps.
    pub scale: f64,
    /// Which column holds each field.
    pub columns: Columns,
}

impl Trace {
    /// The trace in `path`, at its own speed, with the fields' own column names.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            speed: 1.0,
            scale: 1.0,
            columns: Columns::default(),
        }
    }

    /// Reads it row by row.
    pub fn rows(&self) -> Result<TraceReader, TraceError> {
        TraceReader::open(self)
    }

    /// Whether its first row gives the answer's length (`completion_tokens`): then the
    /// embedded mock answers each replayed request with exactly the tokens it asks.
    pub fn gives_answers(&self) -> bool {
        self.rows()
            .ok()
            .and_then(|mut rows| rows.next())
            .is_some_and(|row| row.is_ok_and(|r| r.answered))
    }
}

/// Slowest and fastest replay speed.
pub const SPEED: std::ops::RangeInclusive<f64> = 0.001..=1_000.0;
/// Smallest and largest scale.
pub const SCALE: std::ops::RangeInclusive<f64> = 0.001..=1_000.0;

/// One request of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    /// The line it starts on.
    pub line: u64,
    /// When it is sent, from the start of the run (the trace's offset ÷ speed).
    pub at: Duration,
    /// Its prompt's tokens.
    pub prompt_tokens: u64,
    /// The `max_tokens` it asks: the answer's tokens when the trace has them.
    pub max_tokens: u64,
    /// Whether `max_tokens` is the answer's length (`completion_tokens`) rather than the
    /// request's cap.
    pub answered: bool,
    /// The model it names, when the trace says.
    pub model: Option<String>,
}

/// Why a trace was refused.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("cannot read the trace {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A row is malformed, or one of its values out of range.
    #[error("{path}, line {line}, column {column}: {message}")]
    Row {
        /// The file.
        path: String,
        /// The row's line.
        line: u64,
        /// The column (CSV header, or JSON key) at fault.
        column: String,
        /// What is wrong.
        message: String,
    },
}

/// Smallest, mean and largest of a token count over a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Smallest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Largest.
    pub max: u64,
}

/// What a whole trace holds, from one pass over it.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    /// Requests.
    pub rows: u64,
    /// From the start to the last request, at the replay's speed.
    pub span: Duration,
    /// Prompt tokens per request.
    pub prompt_tokens: Spread,
    /// `max_tokens` per request as replayed.
    pub max_tokens: Spread,
}

impl std::fmt::Display for TraceSummary {
    /// `3 requests over 2.5 s; prompt tokens 80–100 (mean 90), max_tokens 1–50 (mean 19.3),
    /// as the trace gives them`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests over {:.1} s; prompt tokens {}–{} (mean {:.1}), max_tokens {}–{} (mean {:.1}), as the trace gives them",
            self.rows,
            self.span.as_secs_f64(),
            self.prompt_tokens.min,
            self.prompt_tokens.max,
            self.prompt_tokens.mean,
            self.max_tokens.min,
            self.max_tokens.max,
            self.max_tokens.mean,
        )
    }
}

/// Reads the whole trace once, checking every row, in flat memory.
pub fn scan(trace: &Trace) -> Result<TraceSummary, TraceError> {
    let mut rows = 0u64;
    let mut span = Duration::ZERO;
    let mut prompt = Tally::default();
    let mut max = Tally::default();
    for row in trace.rows()? {
        let row = row?;
        rows += 1;
        span = row.at;
        prompt.add(row.prompt_tokens);
        max.add(row.max_tokens);
    }
    if rows == 0 {
        return Err(TraceError::Row {
            path: trace.path.display().to_string(),
            line: 1,
            column: "-".into(),
            message: "the trace has no requests".into(),
        });
    }
    Ok(TraceSummary {
        rows,
        span,
        prompt_tokens: prompt.spread(rows),
        max_tokens: max.spread(rows),
    })
}

#[derive(Default)]
struct Tally {
    min: Option<u64>,
    max: u64,
    sum: u128,
}

impl Tally {
    fn add(&mut self, v: u64) {
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = self.max.max(v);
        self.sum = self.sum.saturating_add(u128::from(v));
    }

    fn spread(&self, n: u64) -> Spread {
        Spread {
            min: self.min.unwrap_or(0),
            mean: self.sum as f64 / n.max(1) as f64,
            max: self.max,
        }
    }
}

#[cfg(test)]
mod tests;
