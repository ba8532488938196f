//! A run's data files besides report.json: `timeseries.csv` and the percentile spectrum
//! `latency.hgrm`.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::measure::recorder::Recorder;

/// One row per interval: offered, succeeded, answered within the budget, failed (total and by
/// reason), dropped, 429s, per-key attempts, per-key 429s.
pub fn timeseries_csv(recorder: &Recorder) -> String {
    let reasons: Vec<&String> = recorder.failed.keys().collect();
    let mut out = String::from("start_s,offered,succeeded,goodput,failed,dropped,upstream_429");
    for r in &reasons {
        let _ = write!(out, ",failed_{r}");
    }
    for k in 0..recorder.per_key.len() {
        let _ = write!(out, ",key{k}_attempts");
    }
    for k in 0..recorder.per_key.len() {
        let _ = write!(out, ",key{k}_429");
    }
    out.push('\n');
    for (i, interval) in recorder.series.iter().enumerate() {
        let failed: u64 = interval.failed.values().sum();
        let _ = write!(
            out,
            "{:.3},{},{},{},{},{},{}",
            (recorder.interval * i as u32).as_secs_f64(),
            interval.offered,
            interval.succeeded,
            interval.goodput,
            failed,
            interval.dropped,
            interval.upstream_429
        );
        for r in &reasons {
            let _ = write!(out, ",{}", interval.failed.get(*r).copied().unwrap_or(0));
        }
        for n in interval.per_key.iter().chain(&interval.per_key_429) {
            let _ = write!(out, ",{n}");
        }
        out.push('\n');
    }
    out
}

/// The percentile spectrum in wrk2/HdrHistogram's `.hgrm` text format (values in ms).
pub fn hgrm(h: &Histogram<u64>) -> String {
    let mut out = String::from("       Value   Percentile   TotalCount 1/(1-Percentile)\n\n");
    if !h.is_empty() {
        let mut total = 0u64;
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let inverse = if q < 1.0 {
                format!("{:.2}", 1.0 / (1.0 - q))
            } else {
                "inf".to_owned()
            };
            let _ = writeln!(
                out,
                "{:12.3} {:12.6} {:12} {:>14}",
                v.value_iterated_to() as f64 / 1000.0,
                q,
                total,
                inverse
            );
        }
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]\n#[Max     = {:12.3}, Total count    = {:12}]\n#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0,
        h.max() as f64 / 1000.0,
        h.len(),
        h.buckets(),
        h.distinct_values()
    );
    out
}
