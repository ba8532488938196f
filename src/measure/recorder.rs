//! The recorder: every finished request goes in once; out come HdrHistograms of latency
//! (from the intended send time, so a stalled system shows its queueing delay) and failover
//! latency, counters by outcome and reason, per-key use and a time series per interval.
//! Memory is flat in the number of requests; per-request rows are streamed to a CSV file only
//! when asked for, in send order ([`crate::measure::requests_csv`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::measure::requests_csv::RequestsCsv;
use crate::spec::trace::TraceWriter;

/// How one request ended, as the driver saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// Intended send time, offset from the run's start.
    pub intended: Duration,
    /// From the intended send time to the final answer or give-up.
    pub latency: Duration,
    /// Attempts sent.
    pub attempts: u32,
    /// Keys tried, in order.
    pub keys: Vec<usize>,
    /// Keys whose attempt was answered 429 (one entry per such attempt).
    pub limited_keys: Vec<usize>,
    /// Time lost to failover, when the request succeeded after failing over (trying a
    /// second key).
    pub failover: Option<Duration>,
    /// How long each failed attempt took, from its send to its failure: what a failed key
    /// cost this request, one entry per failed attempt.
    pub failed_attempts: Vec<Duration>,
    /// Tokens the API reported (0 when unknown or failed).
    pub tokens: u64,
    /// `None` for success; else the reason.
    pub failure: Option<String>,
    /// The policy answered with a fallback message (counted as failed).
    pub degraded: bool,
    /// A streamed answer that succeeded: when its tokens came.
    pub streamed: Option<crate::measure::streaming::TokenFigures>,
}

impl RequestRecord {
    /// A request that failed for `reason` without an attempt's outcome (interrupted,
    /// unfinished, panicked), ending `ended` into the run.
    pub fn failed(intended: Duration, ended: Duration, reason: &str) -> Self {
        Self {
            intended,
            latency: ended.saturating_sub(intended),
            attempts: 0,
            keys: Vec::new(),
            limited_keys: Vec::new(),
            failover: None,
            failed_attempts: Vec::new(),
            tokens: 0,
            failure: Some(reason.to_owned()),
            degraded: false,
            streamed: None,
        }
    }

    /// How many distinct keys the request tried.
    pub fn keys_tried(&self) -> usize {
        let mut seen = 0u128;
        for &k in &self.keys {
            seen |= 1u128 << (k % 128);
        }
        seen.count_ones() as usize
    }
}

/// What streamed answers showed: time to first token, inter-token latency and output tokens
/// per second, one sample per successful streamed request ([`crate::measure::streaming`]).
pub struct StreamFigures {
    /// Time to first token from the intended send, µs.
    pub ttft: Histogram<u64>,
    /// Mean time between tokens after the first, µs (requests with two tokens or more).
    pub itl: Histogram<u64>,
    /// Output tokens per second of the request's latency, in thousandths.
    pub output_tps_milli: Histogram<u64>,
}

impl StreamFigures {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            ttft: micros_histogram()?,
            itl: micros_histogram()?,
            output_tps_milli: Histogram::<u64>::new_with_bounds(1, 1_000_000_000_000, 3)
                .map_err(std::io::Error::other)?,
        })
    }

    fn record(&mut self, s: &crate::measure::streaming::TokenFigures, latency: Duration) {
        self.ttft.saturating_record(micros(s.ttft));
        if let Some(itl) = s.itl {
            self.itl.saturating_record(micros(itl));
        }
        let secs = latency.as_secs_f64();
        if secs > 0.0 {
            let milli = (s.tokens as f64 / secs * 1000.0).round();
            self.output_tps_milli
                .saturating_record((milli as u64).max(1));
        }
    }
}

/// Most keys skipped that [`Recorder::keys_skipped`] tells apart (its last entry counts
/// that many or more).
pub const MAX_SKIPPED: usize = 10;

/// A histogram of microseconds, 1 µs to a day, 3 significant figures.
fn micros_histogram() -> std::io::Result<Histogram<u64>> {
    Histogram::<u64>::new_with_bounds(1, 24 * 3600 * 1_000_000, 3).map_err(std::io::Error::other)
}

/// Counters of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KeyCounts {
    /// Attempts sent with the key.
    pub requests: u64,
    /// Attempts that succeeded.
    pub succeeded: u64,
    /// Attempts answered 429.
    pub rate_limited: u64,
}

/// One interval of the time series (requests placed by intended send time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interval {
    /// Requests offered.
    pub offered: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Of those, answered within the latency budget.
    pub goodput: u64,
    /// Requests that failed, by reason.
    pub failed: BTreeMap<String, u64>,
    /// Arrivals that could not be sent on time (counted in `offered`).
    pub dropped: u64,
    /// 429 answers among their attempts.
    pub upstream_429: u64,
    /// Attempts per key.
    pub per_key: Vec<u64>,
    /// 429 answers per key.
    pub per_key_429: Vec<u64>,
    /// Failed attempts per key (429s included).
    pub per_key_failed: Vec<u64>,
}

/// Everything measured in a run.
pub struct Recorder {
    /// Latency from intended send of succeeded requests, µs (a request refused at once would
    /// otherwise pull the percentiles down).
    pub latency: Histogram<u64>,
    /// Failover latency of requests that failed over (tried a second key) and then
    /// succeeded, µs.
    pub failover: Histogram<u64>,
    /// Requests that tried a second key and never got an answer (their failover time is
    /// unbounded).
    pub failover_unanswered: u64,
    /// Requests whose attempts failed on one key and that were given up without trying
    /// another (no key available, or the policy stopped): refused, not failed over.
    pub refused: u64,
    /// What one failed key costs: each failed attempt's time from its send to its failure
    /// (the round trip and the API's edge), µs.
    pub failed_attempt: Histogram<u64>,
    /// Requests that failed over and were answered, by how many keys failed before the
    /// answering one (index 0: one key skipped; the last entry also counts any more).
    pub keys_skipped: Vec<u64>,
    /// Requests offered.
    pub offered: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Requests that succeeded within [`Recorder::budget`] of their intended send.
    pub goodput: u64,
    /// The latency budget goodput counts against.
    pub budget: Duration,
    /// Failed requests by reason.
    pub failed: BTreeMap<String, u64>,
    /// Arrivals never sent: the driver could not send them on time (too many in flight, or
    /// it fell behind the schedule). Part of `offered`, neither succeeded nor failed.
    pub dropped: u64,
    /// Failed requests answered with a fallback message.
    pub degraded: u64,
    /// 429 answers among all attempts.
    pub upstream_429: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Tokens reported by the API.
    pub tokens: u64,
    /// Per-key counters.
    pub per_key: Vec<KeyCounts>,
    /// The time series.
    pub series: Vec<Interval>,
    /// Length of one interval.
    pub interval: Duration,
    /// Latest completion offset seen.
    pub last_end: Duration,
    /// Requests not answered within the budget beyond which the run may stop: its objective
    /// is out of reach (see [`Recorder::out_of_reach`]).
    pub give_up_after: Option<u64>,
    /// Streamed answers' figures; `None` until a streamed request succeeds.
    pub streams: Option<StreamFigures>,
    rows: Option<RequestsCsv>,
    offers: Option<TraceWriter>,
}

impl Recorder {
    /// A recorder for `keys` keys with time-series `interval`, counting goodput against
    /// `budget`; `requests_csv` streams one row per request to that file.
    pub fn new(
        keys: usize,
        interval: Duration,
        budget: Duration,
        requests_csv: Option<&Path>,
    ) -> std::io::Result<Self> {
        let rows = requests_csv.map(RequestsCsv::create).transpose()?;
        Ok(Self {
            latency: micros_histogram()?,
            failover: micros_histogram()?,
            failover_unanswered: 0,
            refused: 0,
            failed_attempt: micros_histogram()?,
            keys_skipped: Vec::new(),
            offered: 0,
            succeeded: 0,
            goodput: 0,
            budget,
            failed: BTreeMap::new(),
            dropped: 0,
            degraded: 0,
            upstream_429: 0,
            attempts: 0,
            tokens: 0,
            per_key: vec![KeyCounts::default(); keys],
            series: Vec::new(),
            interval: interval.max(Duration::from_millis(1)),
            last_end: Duration::ZERO,
            give_up_after: None,
            streams: None,
            rows,
            offers: None,
        })
    }

    /// Also writes every request offered to `path` as a trace (`--write-trace`).
    pub fn write_offers(&mut self, path: &Path) -> std::io::Result<()> {
        self.offers = Some(TraceWriter::create(path)?);
        Ok(())
    }

    /// A request offered at `at` (sent or about to be dropped), with its sizes and model:
    /// a row of the trace being written, if any.
    pub fn offer(
        &mut self,
        at: Duration,
        prompt_tokens: u64,
        max_tokens: u64,
        model: &str,
    ) -> std::io::Result<()> {
        match &mut self.offers {
            Some(offers) => offers.push(at, prompt_tokens, max_tokens, model),
            None => Ok(()),
        }
    }

    /// Whether more requests went unanswered within the budget (failed, late or dropped)
    /// than [`Recorder::give_up_after`] allows: no later answer can bring goodput back.
    pub fn out_of_reach(&self) -> bool {
        self.give_up_after
            .is_some_and(|limit| self.offered - self.goodput > limit)
    }

    /// Records one finished request: in the run's totals, in its interval of the series,
    /// and as a row of requests.csv when there is one.
    pub fn record(&mut self, r: &RequestRecord) -> std::io::Result<()> {
        self.count(r)?;
        let keys = self.per_key.len();
        slot(&mut self.series, self.interval, keys, r.intended).count(r, self.budget);
        if let Some(rows) = &mut self.rows {
            rows.push(r.intended, csv_row(r))?;
        }
        Ok(())
    }

    /// Adds one request to the run's totals and its keys' counts.
    fn count(&mut self, r: &RequestRecord) -> std::io::Result<()> {
        self.offered += 1;
        self.attempts += u64::from(r.attempts);
        self.upstream_429 += r.limited_keys.len() as u64;
        for &k in &r.limited_keys {
            if let Some(c) = self.per_key.get_mut(k) {
                c.rate_limited += 1;
            }
        }
        for (i, &k) in r.keys.iter().enumerate() {
            if let Some(c) = self.per_key.get_mut(k) {
                c.requests += 1;
                // Every attempt but the last failed; the last one is the request's outcome.
                if i + 1 == r.keys.len() && r.failure.is_none() {
                    c.succeeded += 1;
                }
            }
        }
        self.tokens += r.tokens;
        self.count_failover(r);
        self.last_end = self.last_end.max(r.intended + r.latency);
        match &r.failure {
            None => {
                self.succeeded += 1;
                self.goodput += u64::from(r.latency <= self.budget);
                self.latency.saturating_record(micros(r.latency));
                if let Some(streamed) = &r.streamed {
                    if self.streams.is_none() {
                        self.streams = Some(StreamFigures::new()?);
                    }
                    if let Some(streams) = &mut self.streams {
                        streams.record(streamed, r.latency);
                    }
                }
            }
            Some(reason) => {
                *self.failed.entry(reason.clone()).or_default() += 1;
                self.degraded += u64::from(r.degraded);
            }
        }
        Ok(())
    }

    /// Files a request under failover (answered or not), refused, or neither, and what its
    /// failed attempts cost.
    fn count_failover(&mut self, r: &RequestRecord) {
        for &cost in &r.failed_attempts {
            self.failed_attempt.saturating_record(micros(cost));
        }
        let tried = r.keys_tried();
        if let Some(f) = r.failover {
            self.failover.saturating_record(micros(f));
            let skipped = tried.saturating_sub(1).clamp(1, MAX_SKIPPED);
            if self.keys_skipped.len() < skipped {
                self.keys_skipped.resize(skipped, 0);
            }
            self.keys_skipped[skipped - 1] += 1;
        } else if r.failure.is_some() && tried > 1 {
            self.failover_unanswered += 1;
        } else if r.failure.is_some() && tried == 1 {
            self.refused += 1;
        }
    }

    /// Writes the per-request rows intended before `unfinished`, the earliest intended send
    /// still in flight (`None`: nothing is), so that requests.csv is in send order.
    pub fn settle_rows(&mut self, unfinished: Option<Duration>) -> std::io::Result<()> {
        match &mut self.rows {
            Some(rows) => rows.settle(unfinished),
            None => Ok(()),
        }
    }

    /// Flushes requests.csv (and the trace written) if its rows wait a second or more to
    /// reach the file.
    pub fn flush_rows(&mut self) -> std::io::Result<()> {
        if let Some(offers) = &mut self.offers {
            offers.flush_due()?;
        }
        match &mut self.rows {
            Some(rows) => rows.flush_due(),
            None => Ok(()),
        }
    }

    /// Records an arrival intended at `intended` that was never sent (dropped).
    pub fn drop_arrival(&mut self, intended: Duration) -> std::io::Result<()> {
        self.offered += 1;
        self.dropped += 1;
        let interval = slot(
            &mut self.series,
            self.interval,
            self.per_key.len(),
            intended,
        );
        interval.offered += 1;
        interval.dropped += 1;
        if let Some(rows) = &mut self.rows {
            let row = format!("{:.6},,0,,0,,0,dropped", intended.as_secs_f64());
            rows.push(intended, row)?;
        }
        Ok(())
    }

    /// Flushes the per-request CSV and the trace written.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some(rows) = &mut self.rows {
            rows.finish()?;
        }
        if let Some(offers) = &mut self.offers {
            offers.flush()?;
        }
        Ok(())
    }
}

impl Interval {
    /// Adds one request sent (as intended) in this interval; an answer within `budget`
    /// counts toward goodput.
    fn count(&mut self, r: &RequestRecord, budget: Duration) {
        self.offered += 1;
        self.upstream_429 += r.limited_keys.len() as u64;
        for &k in &r.limited_keys {
            if let Some(n) = self.per_key_429.get_mut(k) {
                *n += 1;
            }
        }
        for (i, &k) in r.keys.iter().enumerate() {
            if let Some(n) = self.per_key.get_mut(k) {
                *n += 1;
            }
            let failed = i + 1 < r.keys.len() || r.failure.is_some();
            if let Some(n) = self.per_key_failed.get_mut(k).filter(|_| failed) {
                *n += 1;
            }
        }
        match &r.failure {
            None => {
                self.succeeded += 1;
                self.goodput += u64::from(r.latency <= budget);
            }
            Some(reason) => *self.failed.entry(reason.clone()).or_default() += 1,
        }
    }
}

/// One request as a row of requests.csv (see [`crate::measure::requests_csv::HEADER`]).
fn csv_row(r: &RequestRecord) -> String {
    let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1000.0);
    let keys: Vec<String> = r.keys.iter().map(usize::to_string).collect();
    format!(
        "{:.6},{},{},{},{},{},{},{},{}",
        r.intended.as_secs_f64(),
        ms(r.latency),
        r.attempts,
        keys.join(" "),
        r.limited_keys.len(),
        r.failover.map_or(String::new(), ms),
        r.streamed.map_or(String::new(), |s| ms(s.ttft)),
        r.tokens,
        r.failure.as_deref().unwrap_or("ok")
    )
}

/// The time-series interval (of `len`, with `keys` keys) an intended send time falls in.
fn slot(
    series: &mut Vec<Interval>,
    len: Duration,
    keys: usize,
    intended: Duration,
) -> &mut Interval {
    let slot = (intended.as_nanos() / len.as_nanos()) as usize;
    if series.len() <= slot {
        series.resize_with(slot + 1, || Interval {
            per_key: vec![0; keys],
            per_key_429: vec![0; keys],
            per_key_failed: vec![0; keys],
            ..Interval::default()
        });
    }
    &mut series[slot]
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        intended_s: u64,
        latency_ms: u64,
        keys: Vec<usize>,
        failure: Option<&str>,
    ) -> RequestRecord {
        RequestRecord {
            intended: Duration::from_secs(intended_s),
            latency: Duration::from_millis(latency_ms),
            attempts: keys.len() as u32,
            limited_keys: keys[..keys.len().saturating_sub(1)].to_vec(),
            failover: (keys.len() > 1 && failure.is_none())
                .then(|| Duration::from_millis(latency_ms / 2)),
            failed_attempts: vec![
                Duration::from_millis(80);
                keys.len() - usize::from(failure.is_none())
            ],
            keys,
            tokens: 10,
            failure: failure.map(str::to_owned),
            degraded: false,
            streamed: None,
        }
    }

    #[test]
    fn every_request_counts_once_and_series_adds_up() {
        let dir = std::env::temp_dir().join(format!("keyrotor-rec-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let csv = dir.join("requests.csv");
        let mut rec = Recorder::new(
            2,
            Duration::from_secs(10),
            Duration::from_secs(5),
            Some(&csv),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let records = [
            record(1, 100, vec![0], None),
            record(2, 300, vec![0, 1], None),
            record(12, 50, vec![1], Some("rate_limited_minute")),
            record(25, 5000, vec![0, 1], Some("all_keys_failed")),
        ];
        for r in &records {
            rec.record(r).unwrap_or_else(|e| panic!("{e}"));
        }
        rec.finish().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rec.offered, 4);
        assert_eq!(
            rec.succeeded + rec.failed.values().sum::<u64>(),
            rec.offered
        );
        assert_eq!(rec.series.len(), 3);
        assert_eq!(rec.series.iter().map(|i| i.offered).sum::<u64>(), 4);
        assert_eq!(rec.series[0].succeeded, 2);
        assert_eq!(
            rec.per_key[0],
            KeyCounts {
                requests: 3,
                succeeded: 1,
                rate_limited: 2
            }
        );
        assert_eq!(rec.upstream_429, 2);
        assert_eq!(rec.per_key[1].succeeded, 1);
        // Per key and interval: 429s, and failed attempts (every attempt but a request's
        // successful last one).
        let by_interval = |f: fn(&Interval) -> &Vec<u64>| -> Vec<Vec<u64>> {
            rec.series.iter().map(|i| f(i).clone()).collect()
        };
        assert_eq!(
            by_interval(|i| &i.per_key_429),
            [vec![1, 0], vec![0, 0], vec![1, 0]]
        );
        assert_eq!(
            by_interval(|i| &i.per_key_failed),
            [vec![1, 0], vec![0, 1], vec![1, 1]]
        );
        assert_eq!(rec.failover.len(), 1);
        assert_eq!(rec.latency.len(), 2, "only succeeded requests");
        assert!(
            (299..=301).contains(&(rec.latency.max() / 1000)),
            "3 significant digits"
        );
        let text = std::fs::read_to_string(&csv).unwrap_or_default();
        assert_eq!(text.lines().count(), 5);
        assert!(
            text.lines()
                .nth(2)
                .is_some_and(|l| l.contains(",0 1,") && l.ends_with(",ok")),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_a_request_that_tried_a_second_key_failed_over() {
        let mut rec = Recorder::new(3, Duration::from_secs(10), Duration::from_secs(5), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let refused = RequestRecord {
            keys: vec![0],
            attempts: 1,
            failed_attempts: vec![Duration::from_millis(110)],
            ..record(1, 110, vec![0], Some("no_key_available"))
        };
        let backoff_then_answer = RequestRecord {
            failover: None,
            ..record(2, 900, vec![1, 1], None)
        };
        for r in [
            refused.clone(),
            refused,
            backoff_then_answer,
            record(3, 300, vec![0, 1], None),
            record(4, 500, vec![0, 1, 2], None),
            record(5, 400, vec![0, 2], Some("rate_limited_minute")),
        ] {
            rec.record(&r).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(rec.refused, 2, "first key failed, no second tried");
        assert_eq!(
            rec.failover_unanswered, 1,
            "tried a second key, never answered"
        );
        assert_eq!(rec.failover.len(), 2, "answered after another key");
        assert_eq!(
            rec.keys_skipped,
            [1, 1],
            "one skipped once, two skipped once"
        );
        // Every failed attempt's cost: 110 ms twice, 80 ms per failed key of the others.
        assert_eq!(rec.failed_attempt.len(), 2 + 1 + 1 + 2 + 2);
    }
}
