//! `requests.csv`: one row per request, in send order (by intended send time), written as the
//! run goes. Requests finish out of order, so a finished row waits until every request
//! intended before it has finished too; the driver says how far that is
//! ([`RequestsCsv::settle`]). Memory stays bounded: past [`MAX_PENDING`] waiting rows the
//! oldest is written at once (a request stuck that long is the exception, and its row then
//! comes after later ones).
//!
//! What is written reaches the file at most [`FLUSH_EVERY`] later (the driver calls
//! [`RequestsCsv::flush_due`] on its one-second tick), so a run killed with `kill -9` leaves
//! the rows of what it had answered, short of the last second and of rows waiting for an
//! earlier request still in flight.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest a written row stays in memory before it is flushed to the file.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Most rows held back waiting for an earlier request to finish.
pub const MAX_PENDING: usize = 100_000;

/// The columns.
pub const HEADER: &str =
    "intended_s,latency_ms,attempts,keys,upstream_429,failover_ms,ttft_ms,tokens,outcome";

/// The per-request CSV being written.
#[derive(Debug)]
pub struct RequestsCsv {
    out: BufWriter<File>,
    /// Finished rows not yet written, by (intended send, arrival order).
    pending: BTreeMap<(Duration, u64), String>,
    seq: u64,
    /// Rows written since the last flush.
    unflushed: bool,
    /// When the file was last flushed.
    flushed: Instant,
}

impl RequestsCsv {
    /// Creates the file and writes the header.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut out = BufWriter::new(File::create(path)?);
        writeln!(out, "{HEADER}")?;
        Ok(Self {
            out,
            pending: BTreeMap::new(),
            seq: 0,
            unflushed: false,
            flushed: Instant::now(),
        })
    }

    /// Adds a finished request's row (without its newline).
    pub fn push(&mut self, intended: Duration, row: String) -> std::io::Result<()> {
        self.pending.insert((intended, self.seq), row);
        self.seq += 1;
        if self.pending.len() > MAX_PENDING
            && let Some((_, row)) = self.pending.pop_first()
        {
            writeln!(self.out, "{row}")?;
            self.unflushed = true;
        }
        Ok(())
    }

    /// Writes every row intended before `unfinished`, the earliest intended send of a request
    /// still in flight (`None`: nothing is).
    pub fn settle(&mut self, unfinished: Option<Duration>) -> std::io::Result<()> {
        while let Some(entry) = self.pending.first_entry() {
            if unfinished.is_some_and(|at| entry.key().0 >= at) {
                break;
            }
            writeln!(self.out, "{}", entry.remove())?;
            self.unflushed = true;
        }
        self.flush_due()
    }

    /// Flushes the rows written so far if the last flush is [`FLUSH_EVERY`] old.
    pub fn flush_due(&mut self) -> std::io::Result<()> {
        if self.unflushed && self.flushed.elapsed() >= FLUSH_EVERY {
            self.out.flush()?;
            self.unflushed = false;
            self.flushed = Instant::now();
        }
        Ok(())
    }

    /// Writes what is left and flushes the file.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.settle(None)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_out_in_send_order_whatever_order_requests_finish_in() {
        let path = std::env::temp_dir().join(format!("keyrotor-csv-{}.csv", std::process::id()));
        let mut csv = RequestsCsv::create(&path).unwrap_or_else(|e| panic!("{e}"));
        let s = Duration::from_secs;
        // Sent at 1, 2, 3; finished 3, 1, 2 (2 slow), with 2 in flight meanwhile.
        csv.push(s(3), "third".into())
            .unwrap_or_else(|e| panic!("{e}"));
        csv.settle(Some(s(1))).unwrap_or_else(|e| panic!("{e}"));
        csv.push(s(1), "first".into())
            .unwrap_or_else(|e| panic!("{e}"));
        csv.settle(Some(s(2))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(csv.pending.len(), 1, "third waits for second");
        csv.push(s(2), "second".into())
            .unwrap_or_else(|e| panic!("{e}"));
        csv.finish().unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rows, ["first", "second", "third"]);
        assert!(text.starts_with(HEADER));
    }
}
