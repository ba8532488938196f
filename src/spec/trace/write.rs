//! Writing a run's requests as a trace, in the format [`super::TraceReader`] reads: every
//! request offered (sent or dropped), in send order, with its sizes and model, so a real run
//! replays in simulation and a simulated one can be tried against a real endpoint.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

/// The columns written.
pub const HEADER: [&str; 4] = ["offset_s", "prompt_tokens", "max_tokens", "model"];

/// Longest a written row stays in memory before it reaches the file.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// A trace being written.
pub struct TraceWriter {
    out: csv::Writer<File>,
    /// The last offset written: rows never go back in time (closed-loop users launch
    /// concurrently, microseconds apart).
    last: Duration,
    flushed: Instant,
}

impl std::fmt::Debug for TraceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceWriter")
            .field("last", &self.last)
            .finish()
    }
}

impl TraceWriter {
    /// Creates the file and writes the header.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut out = csv::Writer::from_writer(File::create(path)?);
        out.write_record(HEADER).map_err(std::io::Error::other)?;
        Ok(Self {
            out,
            last: Duration::ZERO,
            flushed: Instant::now(),
        })
    }

    /// Writes one request offered at `at`.
    pub fn push(
        &mut self,
        at: Duration,
        prompt_tokens: u64,
        max_tokens: u64,
        model: &str,
    ) -> std::io::Result<()> {
        self.last = self.last.max(at);
        self.out
            .write_record([
                format!("{:.6}", self.last.as_secs_f64()),
                prompt_tokens.to_string(),
                max_tokens.to_string(),
                model.to_owned(),
            ])
            .map_err(std::io::Error::other)?;
        self.flush_due()
    }

    /// Writes what is buffered to the file if it has waited a second.
    pub fn flush_due(&mut self) -> std::io::Result<()> {
        if self.flushed.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.flushed = Instant::now();
        self.out.flush()
    }
}
