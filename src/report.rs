//! Reports: `report.json` (versioned schema), `report.md`, `timeseries.csv` and a wrk2-style
//! `latency.hgrm` percentile spectrum, all from one run's [`Recorder`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use mock_groq::catalog::Limits;
use serde::{Deserialize, Serialize};

use crate::recorder::Recorder;
use crate::scenario::{Metric, Scenario, Threshold};

/// Version of the report.json schema.
pub const SCHEMA: u32 = 1;

/// One run's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Schema version.
    pub schema: u32,
    /// keyrotor's version.
    pub tool: String,
    /// Scenario name.
    pub scenario: String,
    /// `sim` or `real`.
    pub mode: String,
    /// Whether time was simulated (virtual), so `span_s` is simulated time.
    pub simulated: bool,
    /// Stopped early (interrupted): the numbers cover what ran.
    pub incomplete: bool,
    /// Wall-clock metadata: unix time at start (not part of the measurement).
    pub started_unix: u64,
    /// Wall-clock metadata: seconds the run took on this machine.
    pub wall_s: f64,
    /// From the first intended send to the last answer (simulated seconds when simulated).
    pub span_s: f64,
    /// What ran.
    pub setup: Setup,
    /// Totals.
    pub summary: Summary,
    /// Latency of succeeded requests from their intended send, ms.
    pub latency_ms: Percentiles,
    /// Failover latency (requests that failed over and then succeeded), ms.
    pub failover_ms: Failover,
    /// Failed requests by reason.
    pub failures: BTreeMap<String, u64>,
    /// Per key.
    pub per_key: Vec<KeyReport>,
    /// Each scenario threshold, measured.
    pub thresholds: Vec<ThresholdResult>,
}

/// What ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// Policy as written.
    pub policy: String,
    /// Number of keys.
    pub keys: usize,
    /// Number of organisations they belong to.
    pub orgs: usize,
    /// Model.
    pub model: String,
    /// Limits per organisation (RPM, RPD, TPM, TPD) and where they come from.
    pub limits: LimitsUsed,
    /// The target: `embedded mock` or the URL.
    pub target: String,
}

/// The limits in force.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitsUsed {
    /// The limits (`rpm`, `rpd`, `tpm`, `tpd` in the JSON).
    #[serde(flatten)]
    pub limits: Limits,
    /// Where the numbers come from.
    pub source: String,
}

/// Totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Requests offered (= succeeded + failed).
    pub offered: u64,
    /// Requests answered by the API.
    pub succeeded: u64,
    /// Requests not answered.
    pub failed: u64,
    /// Of the failed, answered with a fallback message by the policy.
    pub degraded: u64,
    /// succeeded ÷ offered.
    pub success_rate: f64,
    /// Succeeded per second of span.
    pub throughput_rps: f64,
    /// Offered per second of span.
    pub offered_rps: f64,
    /// 429 answers among all attempts.
    pub upstream_429: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Tokens reported by the API.
    pub tokens: u64,
}

/// Latency percentiles, ms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th.
    pub p90: f64,
    /// 99th.
    pub p99: f64,
    /// 99.9th.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// Failover latency, ms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failover {
    /// Requests that failed over and succeeded.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 99th.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// One key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyReport {
    /// Index.
    pub index: usize,
    /// Fingerprint, never the key.
    pub fingerprint: String,
    /// Organisation index.
    pub org: usize,
    /// Attempts.
    pub requests: u64,
    /// Succeeded attempts.
    pub succeeded: u64,
    /// 429 answers.
    pub rate_limited: u64,
}

/// A threshold and its measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The metric.
    pub metric: Metric,
    /// The objective.
    pub threshold: Threshold,
    /// What was measured.
    pub measured: f64,
    /// Met or not.
    pub pass: bool,
}

/// Said at the top of a report whose run was interrupted.
pub const INCOMPLETE: &str = "Incomplete: the run was interrupted; the numbers cover what ran.";

/// One table of a report, as text cells; rendered as markdown here and as HTML by `html`.
pub struct Table {
    /// Column names.
    pub head: Vec<&'static str>,
    /// Rows of cells, as many as columns.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A pipe table: the first column left-aligned, the others right-aligned.
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n|---|", self.head.join(" | "));
        out.push_str(&"---:|".repeat(self.head.len().saturating_sub(1)));
        out.push('\n');
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

impl Report {
    /// Builds the report of a finished run.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        scenario: &Scenario,
        recorder: &Recorder,
        setup: Setup,
        fingerprints: &[String],
        orgs: &[usize],
        span: std::time::Duration,
        wall: std::time::Duration,
        started_unix: u64,
        incomplete: bool,
    ) -> Self {
        let failed: u64 = recorder.failed.values().sum();
        let span_s = span.as_secs_f64().max(1e-9);
        let summary = Summary {
            offered: recorder.offered,
            succeeded: recorder.succeeded,
            failed,
            degraded: recorder.degraded,
            success_rate: if recorder.offered == 0 {
                0.0
            } else {
                recorder.succeeded as f64 / recorder.offered as f64
            },
            throughput_rps: recorder.succeeded as f64 / span_s,
            offered_rps: recorder.offered as f64 / span_s,
            upstream_429: recorder.upstream_429,
            attempts: recorder.attempts,
            tokens: recorder.tokens,
        };
        let latency_ms = Percentiles {
            p50: ms(&recorder.latency, 0.5),
            p90: ms(&recorder.latency, 0.9),
            p99: ms(&recorder.latency, 0.99),
            p999: ms(&recorder.latency, 0.999),
            max: recorder.latency.max() as f64 / 1000.0,
        };
        let failover_ms = Failover {
            count: recorder.failover.len(),
            p50: ms(&recorder.failover, 0.5),
            p99: ms(&recorder.failover, 0.99),
            max: recorder.failover.max() as f64 / 1000.0,
        };
        let per_key = recorder
            .per_key
            .iter()
            .enumerate()
            .map(|(index, c)| KeyReport {
                index,
                fingerprint: fingerprints.get(index).cloned().unwrap_or_default(),
                org: orgs.get(index).copied().unwrap_or(index),
                requests: c.requests,
                succeeded: c.succeeded,
                rate_limited: c.rate_limited,
            })
            .collect();
        let mut report = Self {
            schema: SCHEMA,
            tool: format!("keyrotor {}", env!("CARGO_PKG_VERSION")),
            scenario: scenario.name.clone(),
            mode: match scenario.mode {
                crate::scenario::Mode::Sim => "sim",
                crate::scenario::Mode::Real => "real",
            }
            .to_owned(),
            simulated: scenario.mode == crate::scenario::Mode::Sim,
            incomplete,
            started_unix,
            wall_s: wall.as_secs_f64(),
            span_s: span.as_secs_f64(),
            setup,
            summary,
            latency_ms,
            failover_ms,
            failures: recorder.failed.clone(),
            per_key,
            thresholds: Vec::new(),
        };
        report.thresholds = scenario
            .thresholds
            .iter()
            .map(|(metric, threshold)| {
                let measured = report.metric(*metric);
                ThresholdResult {
                    metric: *metric,
                    threshold: *threshold,
                    measured,
                    pass: threshold.holds(measured),
                }
            })
            .collect();
        report
    }

    /// The value of a metric in this report.
    pub fn metric(&self, metric: Metric) -> f64 {
        match metric {
            Metric::SuccessRate => self.summary.success_rate,
            Metric::ThroughputRps => self.summary.throughput_rps,
            Metric::LatencyP50Ms => self.latency_ms.p50,
            Metric::LatencyP90Ms => self.latency_ms.p90,
            Metric::LatencyP99Ms => self.latency_ms.p99,
            Metric::FailoverP50Ms => self.failover_ms.p50,
            Metric::FailoverP99Ms => self.failover_ms.p99,
            Metric::FailoverMaxMs => self.failover_ms.max,
            Metric::Upstream429 => self.summary.upstream_429 as f64,
        }
    }

    /// Whether every threshold passed.
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.pass)
    }

    /// What the run was, as plain lines: its time, its target and setup, the limits in force.
    pub fn facts(&self) -> [String; 3] {
        let time = if self.simulated {
            format!(
                "simulated: {:.1} s of virtual time in {:.2} s of wall time",
                self.span_s, self.wall_s
            )
        } else {
            format!("real time: {:.1} s", self.span_s)
        };
        let s = &self.setup;
        [
            time,
            format!(
                "target: {}; model {}; {} keys in {} organisations; policy {}",
                s.target, s.model, s.keys, s.orgs, s.policy
            ),
            format!(
                "limits per organisation: {} ({})",
                s.limits.limits, s.limits.source
            ),
        ]
    }

    /// The report's tables, in order: summary, latency and failover, failures by reason and
    /// thresholds (when there are any), per-key use. `report.md` and `report.html` render them.
    pub fn tables(&self) -> Vec<Table> {
        let s = &self.summary;
        let (p, f) = (&self.latency_ms, &self.failover_ms);
        let ms = |x: f64| format!("{x:.1}");
        let mut tables = vec![
            Table {
                head: vec![
                    "offered",
                    "succeeded",
                    "failed",
                    "fallback answers",
                    "success rate",
                    "throughput (req/s)",
                    "upstream 429",
                    "attempts",
                ],
                rows: vec![vec![
                    s.offered.to_string(),
                    s.succeeded.to_string(),
                    s.failed.to_string(),
                    s.degraded.to_string(),
                    format!("{:.4}", s.success_rate),
                    format!("{:.3}", s.throughput_rps),
                    s.upstream_429.to_string(),
                    s.attempts.to_string(),
                ]],
            },
            Table {
                head: vec!["ms", "p50", "p90", "p99", "p99.9", "max"],
                rows: vec![
                    vec![
                        "latency of succeeded requests, from intended send".to_owned(),
                        ms(p.p50),
                        ms(p.p90),
                        ms(p.p99),
                        ms(p.p999),
                        ms(p.max),
                    ],
                    vec![
                        format!("failover ({} requests)", f.count),
                        ms(f.p50),
                        "–".to_owned(),
                        ms(f.p99),
                        "–".to_owned(),
                        ms(f.max),
                    ],
                ],
            },
        ];
        if !self.failures.is_empty() {
            tables.push(Table {
                head: vec!["failure reason", "requests"],
                rows: self
                    .failures
                    .iter()
                    .map(|(reason, n)| vec![reason.clone(), n.to_string()])
                    .collect(),
            });
        }
        if !self.thresholds.is_empty() {
            tables.push(Table {
                head: vec!["threshold", "measured", "result"],
                rows: self
                    .thresholds
                    .iter()
                    .map(|t| {
                        vec![
                            format!("{:?} {}", t.metric, String::from(t.threshold)),
                            format!("{:.4}", t.measured),
                            if t.pass { "pass" } else { "FAIL" }.to_owned(),
                        ]
                    })
                    .collect(),
            });
        }
        tables.push(Table {
            head: vec!["key", "fingerprint", "org", "attempts", "succeeded", "429"],
            rows: self
                .per_key
                .iter()
                .map(|k| {
                    vec![
                        k.index.to_string(),
                        k.fingerprint.clone(),
                        k.org.to_string(),
                        k.requests.to_string(),
                        k.succeeded.to_string(),
                        k.rate_limited.to_string(),
                    ]
                })
                .collect(),
        });
        tables
    }

    /// The markdown summary.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {} — keyrotor report\n\n", self.scenario);
        if self.incomplete {
            out.push_str(&format!("**{INCOMPLETE}**\n\n"));
        }
        for fact in self.facts() {
            let _ = writeln!(out, "- {fact}");
        }
        for table in self.tables() {
            out.push('\n');
            out.push_str(&table.markdown());
        }
        out
    }

    /// Writes report.json, report.md, timeseries.csv and latency.hgrm into `dir`.
    pub fn write(&self, dir: &Path, recorder: &Recorder) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(self).map_err(std::io::Error::other)? + "\n",
        )?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        std::fs::write(dir.join("timeseries.csv"), timeseries_csv(recorder))?;
        std::fs::write(dir.join("latency.hgrm"), hgrm(&recorder.latency))?;
        Ok(())
    }
}

/// One row per interval: offered, succeeded, failed (total and by reason), 429s, per-key use.
pub fn timeseries_csv(recorder: &Recorder) -> String {
    let reasons: Vec<&String> = recorder.failed.keys().collect();
    let mut out = String::from("start_s,offered,succeeded,failed,upstream_429");
    for r in &reasons {
        let _ = write!(out, ",failed_{r}");
    }
    for k in 0..recorder.per_key.len() {
        let _ = write!(out, ",key{k}_attempts");
    }
    out.push('\n');
    for (i, interval) in recorder.series.iter().enumerate() {
        let failed: u64 = interval.failed.values().sum();
        let _ = write!(
            out,
            "{:.3},{},{},{},{}",
            (recorder.interval * i as u32).as_secs_f64(),
            interval.offered,
            interval.succeeded,
            failed,
            interval.upstream_429
        );
        for r in &reasons {
            let _ = write!(out, ",{}", interval.failed.get(*r).copied().unwrap_or(0));
        }
        for n in &interval.per_key {
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
