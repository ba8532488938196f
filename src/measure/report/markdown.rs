//! A report as tables and as markdown (`report.md`).

use std::fmt::Write as _;

use super::{INCOMPLETE, KeyReport, Percentiles, Report, ThresholdResult};
use crate::measure::document::Table;
use crate::spec::metrics::Figure;

impl Report {
    /// The report's tables, in order: summary, latency and failover, failures by reason and
    /// thresholds (when there are any), per-key use. `report.md` and `report.html` render them.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables = vec![self.summary_table(), self.latency_table()];
        if !self.failures.is_empty() {
            tables.push(self.failures_table());
        }
        if !self.thresholds.is_empty() {
            tables.push(self.thresholds_table());
        }
        tables.push(self.keys_table());
        if let Some(replicas) = &self.replicas {
            tables.push(replicas.table());
        }
        if let Some(streaming) = &self.streaming {
            tables.push(streaming.table());
        }
        tables
    }

    fn summary_table(&self) -> Table {
        let s = &self.summary;
        Table {
            head: Table::heads(&[
                "offered",
                "succeeded",
                "failed",
                "dropped",
                "degraded",
                "success rate",
                "goodput",
                "throughput (req/s)",
                "upstream 429",
                "attempts",
            ]),
            rows: vec![vec![
                s.offered.to_string(),
                s.succeeded.to_string(),
                s.failed.to_string(),
                s.dropped.to_string(),
                s.degraded.to_string(),
                Figure::of(s.success_rate).show(4),
                Figure::of(s.goodput_rate).show(4),
                format!("{:.3}", s.throughput_rps),
                s.upstream_429.to_string(),
                s.attempts.to_string(),
            ]],
        }
    }

    fn latency_table(&self) -> Table {
        let (p, f) = (&self.latency_ms, &self.failover_ms);
        let ms = |x: Figure| x.show(1);
        let percentiles = |name: String, p: &Percentiles| {
            vec![name, ms(p.p50), ms(p.p90), ms(p.p99), ms(p.p999), ms(p.max)]
        };
        let failover = format!(
            "failover ({} answered, {} never answered; {} refused without a second key, not counted)",
            f.count, f.unanswered, f.refused
        );
        let none = || "–".to_owned();
        let mut rows = vec![
            percentiles(
                "latency of succeeded requests, from intended send".to_owned(),
                p,
            ),
            vec![failover, ms(f.p50), none(), ms(f.p99), none(), ms(f.max)],
        ];
        if f.failed_key_ms.p50 != Figure::NoData {
            rows.push(percentiles(
                "one failed key: a failed attempt, from its send to its failure".to_owned(),
                &f.failed_key_ms,
            ));
        }
        Table {
            head: Table::heads(&["ms", "p50", "p90", "p99", "p99.9", "max"]),
            rows,
        }
    }

    fn failures_table(&self) -> Table {
        Table {
            head: Table::heads(&["failure reason", "requests"]),
            rows: self
                .failures
                .iter()
                .map(|(reason, n)| vec![reason.clone(), n.to_string()])
                .collect(),
        }
    }

    fn thresholds_table(&self) -> Table {
        let row = |t: &ThresholdResult| {
            vec![
                format!("{} {}", t.metric.name(), String::from(t.threshold)),
                t.measured.show(4),
                if t.pass { "pass" } else { "FAIL" }.to_owned(),
            ]
        };
        Table {
            head: Table::heads(&["threshold", "measured", "result"]),
            rows: self.thresholds.iter().map(row).collect(),
        }
    }

    fn keys_table(&self) -> Table {
        let row = |k: &KeyReport| {
            vec![
                k.index.to_string(),
                k.fingerprint.clone(),
                k.org.to_string(),
                k.attempts.to_string(),
                k.succeeded.to_string(),
                k.rate_limited.to_string(),
            ]
        };
        Table {
            head: Table::heads(&["key", "fingerprint", "org", "attempts", "succeeded", "429"]),
            rows: self.per_key.iter().map(row).collect(),
        }
    }

    /// The markdown summary.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {} — keyrotor report\n\n", self.scenario);
        let _ = writeln!(out, "**{}**\n", self.verdict().1);
        if let Some(error) = &self.error {
            let _ = writeln!(
                out,
                "**Failed: {error}. The numbers below are not a measurement.**\n"
            );
        }
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
}
