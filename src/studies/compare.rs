//! `keyrotor compare BASELINE CURRENT`: regression checks between two reports (report.json
//! or sweep.json) with relative thresholds (`throughput_rps -5%`: may fall by at most 5 %;
//! `failover_p99_ms +10%`: may rise by at most 10 %) and absolute ones (`success_rate >= 0.999`).
//! Metrics have the names scenario thresholds use ([`crate::spec::metrics::Metric`]); the older
//! short names (`throughput`, `latency_p99`, `failover_p99`, `upstream429`) still read.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::measure::report::SCHEMA;
use crate::spec::metrics::Figure;
use crate::spec::metrics::{Metric, Threshold};

/// One comparison rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// The metric may move against it by at most this fraction: `-0.05` may fall 5 %,
    /// `+0.10` may rise 10 %.
    Relative {
        /// Metric name.
        metric: String,
        /// Allowed change as a signed fraction.
        allowed: f64,
    },
    /// The current value must meet this.
    Absolute {
        /// Metric name.
        metric: String,
        /// The bound.
        threshold: Threshold,
    },
}

impl Rule {
    /// The metric the rule reads.
    pub fn metric(&self) -> &str {
        match self {
            Rule::Relative { metric, .. } | Rule::Absolute { metric, .. } => metric,
        }
    }
}

/// The largest rise a relative rule may allow, in percent.
const MAX_RISE_PCT: f64 = 1_000_000.0;

impl std::str::FromStr for Rule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (metric, rest) = text.split_once(char::is_whitespace).ok_or_else(|| {
            format!("`{text}`: expected `METRIC -5%`, `METRIC +10%` or `METRIC >= 0.999`")
        })?;
        let metric = canonical(metric);
        let rest = rest.trim();
        if let Some(pct) = rest.strip_suffix('%') {
            let value: f64 = pct.trim().parse().map_err(|_| {
                format!("`{text}`: `{pct}` is not a signed percentage like -5 or +10")
            })?;
            if !(rest.starts_with('-') || rest.starts_with('+')) {
                return Err(format!(
                    "`{text}`: say which way the metric may move, e.g. -5% or +10%"
                ));
            }
            // A rule that cannot fail is no rule: not a number, an infinity, or a fall of
            // 100 % or more (every figure here is ≥ 0).
            if !value.is_finite() || value <= -100.0 || value > MAX_RISE_PCT {
                return Err(format!(
                    "`{text}`: a change from -99.99% to +{MAX_RISE_PCT}% (a rule outside it could never fail)"
                ));
            }
            return Ok(Rule::Relative {
                metric: metric.to_owned(),
                allowed: value / 100.0,
            });
        }
        let threshold =
            Threshold::try_from(rest.to_owned()).map_err(|e| format!("`{text}`: {e}"))?;
        Ok(Rule::Absolute {
            metric: metric.to_owned(),
            threshold,
        })
    }
}

/// A metric's one name: the scenario thresholds' (`throughput_rps`, `latency_p99_ms`,
/// `failover_p99_ms`, `upstream_429`) for the short names compare rules used before.
pub fn canonical(metric: &str) -> String {
    match metric {
        "throughput" => "throughput_rps".to_owned(),
        "upstream429" => "upstream_429".to_owned(),
        m if (m.starts_with("latency_") || m.starts_with("failover_")) && !m.ends_with("_ms") => {
            format!("{m}_ms")
        }
        m => m.to_owned(),
    }
}

/// The rules used when none are given.
pub fn default_rules() -> Vec<Rule> {
    [
        "success_rate -0.1%",
        "throughput_rps -5%",
        "latency_p99_ms +10%",
        "failover_p99_ms +10%",
    ]
    .iter()
    .filter_map(|r| r.parse().ok())
    .collect()
}

/// The metrics of a report.json or sweep.json, by name: `null` is no data, `"unbounded"`
/// is longer than any value.
pub fn metrics(doc: &Value) -> Vec<(String, Figure)> {
    let mut out = Vec::new();
    let mut put = |name: &str, v: &Value| {
        let figure = match v {
            Value::Null => Some(Figure::NoData),
            Value::String(s) if s == "unbounded" => Some(Figure::Unbounded),
            v => v.as_f64().map(Figure::Value),
        };
        if let Some(figure) = figure {
            out.push((name.to_owned(), figure));
        }
    };
    if let Some(points) = doc.get("points").and_then(Value::as_array) {
        for p in points {
            let keys = p["keys"].as_u64().unwrap_or(0);
            match p["replicas"].as_u64().unwrap_or(1) {
                1 => put(&format!("capacity_{keys}"), &p["capacity_rpm"]),
                r => put(&format!("capacity_{keys}_r{r}"), &p["capacity_rpm"]),
            }
        }
        return out;
    }
    // A run's report: each metric of the one vocabulary, read as the report reads it.
    if let Ok(report) = serde_json::from_value::<crate::measure::report::Report>(doc.clone()) {
        out.extend(
            Metric::ALL
                .iter()
                .map(|&m| (m.name().to_owned(), report.metric(m))),
        );
    }
    out
}

/// Why `baseline` and `current` are not comparable: another schema, another scenario or
/// other settings of it, sim against real, or a run that was interrupted or failed. Empty
/// when they are comparable.
pub fn mismatches(baseline: &Value, current: &Value) -> Vec<String> {
    let mut why = Vec::new();
    for (which, doc) in [("the baseline", baseline), ("the current report", current)] {
        let schema = doc["schema"].as_u64();
        if schema != Some(u64::from(SCHEMA)) {
            why.push(format!(
                "{which} has schema {}, this keyrotor reads schema {SCHEMA}",
                schema.map_or("none".to_owned(), |s| s.to_string())
            ));
        }
        if doc["incomplete"] == Value::Bool(true) {
            why.push(format!("{which} is of an interrupted run (incomplete)"));
        }
        if let Some(error) = doc["error"].as_str() {
            why.push(format!("{which} is of a failed run ({error})"));
        }
    }
    for (field, what) in [
        ("scenario", "scenario"),
        ("scenario_hash", "scenario settings (hash)"),
        ("mode", "mode"),
        ("simulated", "time (simulated or real)"),
    ] {
        let (b, c) = (&baseline[field], &current[field]);
        if b != c {
            why.push(format!("different {what}: {b} in the baseline, {c} now"));
        }
    }
    if baseline["scenario_hash"] != current["scenario_hash"] {
        why.extend(setup_differences(&baseline["setup"], &current["setup"]));
    }
    why
}

/// The settings two reports' `setup` blocks differ in, one line each: `policy: "round-robin"
/// in the baseline, "adaptive" now`.
fn setup_differences(baseline: &Value, current: &Value) -> Vec<String> {
    let (Some(b), Some(c)) = (baseline.as_object(), current.as_object()) else {
        return Vec::new();
    };
    let mut fields: Vec<&String> = b.keys().chain(c.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| b.get(*f) != c.get(*f))
        .map(|f| {
            let show = |v: Option<&Value>| v.map_or("nothing".to_owned(), Value::to_string);
            format!(
                "  setting {f}: {} in the baseline, {} now",
                show(b.get(f)),
                show(c.get(f))
            )
        })
        .collect()
}

/// One row of the comparison (`compare --json` prints them).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Metric.
    pub metric: String,
    /// Baseline value.
    pub baseline: Figure,
    /// Current value.
    pub current: Figure,
    /// The rule, as text.
    pub rule: String,
    /// Whether it passes (never on no data).
    pub pass: bool,
}

/// The signed relative change from `b` to `c`; ±∞ from zero or to unbounded.
fn change(b: f64, c: f64) -> f64 {
    if b == c {
        0.0
    } else if b == 0.0 || c.is_infinite() {
        f64::INFINITY.copysign(c - b)
    } else if b.is_infinite() {
        f64::NEG_INFINITY
    } else {
        (c - b) / b.abs()
    }
}

/// Compares two documents under `rules`; a rule on a metric neither has is an error. A
/// relative rule passes on no data in both (nothing moved) and fails on no data in one; an
/// absolute rule fails on no data.
pub fn compare(baseline: &Value, current: &Value, rules: &[Rule]) -> anyhow::Result<Vec<Row>> {
    let (base, cur) = (metrics(baseline), metrics(current));
    let get =
        |set: &[(String, Figure)], name: &str| set.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    let mut rows = Vec::new();
    for rule in rules {
        let name = rule.metric();
        let (Some(b), Some(c)) = (get(&base, name), get(&cur, name)) else {
            let known: Vec<&str> = cur.iter().map(|(n, _)| n.as_str()).collect();
            bail!(
                "metric `{name}` is not in both documents (known: {})",
                known.join(", ")
            );
        };
        let (text, pass) = match rule {
            Rule::Relative { allowed, .. } => {
                // No data in both: nothing moved. No data on one side only: the change
                // cannot be checked, which fails the rule.
                // A failover time with no sample now means no request needed to fail over:
                // nothing there can have regressed.
                let failover = name.starts_with("failover_");
                let pass = match (b.number(), c.number()) {
                    (Some(b), Some(c)) if *allowed < 0.0 => change(b, c) >= *allowed - 1e-12,
                    (Some(b), Some(c)) => change(b, c) <= *allowed + 1e-12,
                    (None, None) => true,
                    (Some(_), None) => failover,
                    (None, Some(_)) => false,
                };
                (format!("{:+}%", allowed * 100.0), pass)
            }
            Rule::Absolute { threshold, .. } => (
                String::from(*threshold),
                c.number().is_some_and(|c| threshold.holds(c)),
            ),
        };
        rows.push(Row {
            metric: name.to_owned(),
            baseline: b,
            current: c,
            rule: text,
            pass,
        });
    }
    Ok(rows)
}

/// The table `keyrotor compare` prints.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<16} {:>14} {:>14} {:>9}  {:<10} result\n",
        "metric", "baseline", "current", "change", "rule"
    );
    for r in rows {
        let moved = match (r.baseline.number(), r.current.number()) {
            (Some(b), Some(c)) => {
                let c = change(b, c);
                if c.is_finite() {
                    format!("{:+.1}%", c * 100.0)
                } else {
                    "new".to_owned()
                }
            }
            _ => "no data".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<16} {:>14} {:>14} {:>9}  {:<10} {}",
            r.metric,
            r.baseline.show(4),
            r.current.show(4),
            moved,
            r.rule,
            if r.pass { "pass" } else { "REGRESSION" }
        );
    }
    out
}

/// The largest report.json or sweep.json `compare` reads: 256 MiB (a 30-day run's report
/// with its time series takes a few megabytes).
pub const REPORT_CAP: u64 = 256 << 20;

/// Reads a report.json or sweep.json (a folder means its report.json or sweep.json) of at
/// most [`REPORT_CAP`] bytes.
pub fn load(path: &Path) -> anyhow::Result<Value> {
    let file = if path.is_dir() {
        ["report.json", "sweep.json"]
            .iter()
            .map(|f| path.join(f))
            .find(|p| p.exists())
            .unwrap_or(path.join("report.json"))
    } else {
        path.to_owned()
    };
    let text = groq_wire::file::read_text(&file, REPORT_CAP)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    if doc.get("summary").is_none() && doc.get("points").is_none() {
        bail!(
            "{} is neither a report.json nor a sweep.json",
            file.display()
        );
    }
    // A report's every figure is read as the report reads it: one that does not read (a
    // "NaN", a string for a number) is named with its line, not taken as "no metric".
    if doc.get("summary").is_some() {
        serde_json::from_str::<crate::measure::report::Report>(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a report.json keyrotor can read: {e}",
                file.display()
            )
        })?;
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A real report (a short simulated run's), its figures set as a test wants them.
    fn report(success: f64, rps: f64, p99: f64) -> Value {
        static RUN: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        let mut doc = RUN
            .get_or_init(|| {
                let s = crate::spec::scenario::Scenario::from_toml(
                    "name = \"s\"\n[keys]\ncount = 1\n[traffic]\narrival = \"constant\"\nrate = 60\nrequests = 3\n",
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let finished = crate::run::run(&s, crate::run::RunOptions::default(), &crate::drive::driver::NoProgress)
                    .unwrap_or_else(|e| panic!("{e:#}"));
                serde_json::to_value(finished.report).unwrap_or_else(|e| panic!("{e}"))
            })
            .clone();
        doc["scenario_hash"] = json!("h");
        let summary = &mut doc["summary"];
        summary["success_rate"] = json!(success);
        summary["throughput_rps"] = json!(rps);
        summary["offered"] = json!(100);
        summary["upstream_429"] = json!(0);
        doc["latency_ms"] = json!({"p50": 1.0, "p90": 2.0, "p99": p99, "p999": 4.0, "max": 5.0});
        doc["failover_ms"] = json!({"count": 0, "unanswered": 1, "p50": null, "p99": "unbounded", "max": "unbounded"});
        doc
    }

    #[test]
    fn a_report_with_a_figure_that_does_not_read_is_refused_with_its_line() {
        let mut doc = report(1.0, 1.0, 1.0);
        doc["summary"]["success_rate"] = json!("NaN");
        let path = std::env::temp_dir().join(format!("keyrotor-nan-{}.json", std::process::id()));
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let error = load(&path)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        assert!(
            error.contains("not a report.json keyrotor can read") && error.contains("line "),
            "{error}"
        );
    }

    #[test]
    fn a_rule_that_could_never_fail_is_refused() {
        for bad in [
            "success_rate -nan%",
            "success_rate -1e400%",
            "success_rate +inf%",
            "success_rate -100%",
            "success_rate -250%",
            "latency_p99_ms +1e7%",
            "success_rate >= nan",
            "success_rate >= inf",
        ] {
            assert!(bad.parse::<Rule>().is_err(), "{bad} was accepted");
        }
        for good in [
            "success_rate -99.9%",
            "latency_p99_ms +10%",
            "success_rate >= 0.999",
        ] {
            assert!(good.parse::<Rule>().is_ok(), "{good} was refused");
        }
    }

    #[test]
    fn mismatched_documents_are_named() {
        let base = report(1.0, 1.0, 1.0);
        assert!(mismatches(&base, &base).is_empty());
        for (field, value, needle) in [
            ("schema", json!(SCHEMA + 1), "schema"),
            ("scenario", json!("other"), "different scenario"),
            ("scenario_hash", json!("x"), "settings"),
            ("mode", json!("real"), "different mode"),
            ("incomplete", json!(true), "interrupted"),
            ("error", json!("a request panicked"), "failed run"),
        ] {
            let mut current = base.clone();
            current[field] = value;
            let why = mismatches(&base, &current).join("; ");
            assert!(why.contains(needle), "{field}: {why}");
        }
        // Other settings: the ones that differ are named.
        let mut other = base.clone();
        other["scenario_hash"] = json!("x");
        other["setup"]["policy"] = json!("cooldown:cooldown=30s");
        let why = mismatches(&base, &other).join("; ");
        let said = format!(
            "setting policy: {} in the baseline, \"cooldown:cooldown=30s\" now",
            base["setup"]["policy"]
        );
        assert!(
            why.contains(&said) && !why.contains("setting keys"),
            "{why}"
        );
    }

    #[test]
    fn no_data_fails_and_unbounded_compares_as_infinite() {
        let base = report(1.0, 1.0, 1.0);
        let rule = |r: &str| r.parse::<Rule>().unwrap_or_else(|e| panic!("{e}"));
        let rules = [
            rule("failover_p50 +10%"),
            rule("failover_p99 +10%"),
            rule("failover_p50 < 200"),
        ];
        let rows = compare(&base, &base, &rules).unwrap_or_default();
        assert!(rows[0].pass, "no data in both: nothing moved");
        assert!(rows[1].pass, "unbounded stays unbounded: no change");
        assert!(!rows[2].pass, "an absolute rule on no data fails");
        let mut gone = base.clone();
        gone["failover_ms"]["p99"] = Value::Null;
        gone["latency_ms"]["p99"] = Value::Null;
        let rows = compare(
            &base,
            &gone,
            &[rules[1].clone(), rule("latency_p99_ms +10%")],
        )
        .unwrap_or_default();
        assert!(
            rows[0].pass,
            "unbounded to no data: no request needed to fail over, nothing regressed"
        );
        assert!(
            !rows[1].pass,
            "a latency that disappeared is not checked, so it fails"
        );
        let mut better = base.clone();
        better["failover_ms"]["p99"] = json!(150.0);
        let rows = compare(
            &base,
            &better,
            &[rule("failover_p99 +10%"), rule("failover_p99 < 200")],
        )
        .unwrap_or_default();
        assert!(rows.iter().all(|r| r.pass), "{}", table(&rows));
        let rows = compare(
            &better,
            &base,
            &[rule("failover_p99 +10%"), rule("failover_p99 < 200")],
        )
        .unwrap_or_default();
        assert!(rows.iter().all(|r| !r.pass), "{}", table(&rows));
    }

    #[test]
    fn rules_parse() {
        assert_eq!(
            "throughput_rps -5%".parse(),
            Ok(Rule::Relative {
                metric: "throughput_rps".into(),
                allowed: -0.05
            })
        );
        // One vocabulary: the older short names read as the thresholds' names.
        for (old, name) in [
            ("throughput", "throughput_rps"),
            ("latency_p99", "latency_p99_ms"),
            ("failover_max", "failover_max_ms"),
            ("upstream429", "upstream_429"),
        ] {
            let rule: Result<Rule, String> = format!("{old} +5%").parse();
            assert_eq!(rule.map(|r| r.metric().to_owned()), Ok(name.to_owned()));
        }
        assert!(matches!(
            "success_rate >= 0.999".parse::<Rule>(),
            Ok(Rule::Absolute { .. })
        ));
        for bad in [
            "throughput",
            "throughput 5%",
            "throughput -x%",
            "throughput about",
        ] {
            assert!(bad.parse::<Rule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_and_absolute_rules_judge_regressions() {
        let rules: Vec<Rule> = ["throughput -5%", "latency_p99 +10%", "success_rate >= 0.99"]
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        let ok = compare(
            &report(0.995, 100.0, 10.0),
            &report(0.991, 96.0, 10.9),
            &rules,
        )
        .unwrap_or_default();
        assert!(ok.iter().all(|r| r.pass), "{}", table(&ok));
        let bad = compare(
            &report(0.995, 100.0, 10.0),
            &report(0.98, 94.0, 11.5),
            &rules,
        )
        .unwrap_or_default();
        assert_eq!(bad.iter().filter(|r| !r.pass).count(), 3, "{}", table(&bad));
        assert!(
            compare(
                &report(1.0, 1.0, 1.0),
                &report(1.0, 1.0, 1.0),
                &["nope -5%".parse().unwrap_or_else(|e: String| panic!("{e}"))]
            )
            .is_err()
        );
    }

    #[test]
    fn sweeps_compare_capacity_per_key_count() {
        let base = json!({"points": [{"keys": 1, "capacity_rpm": 30.0}, {"keys": 5, "capacity_rpm": 150.0}]});
        let cur = json!({"points": [{"keys": 1, "capacity_rpm": 30.0}, {"keys": 5, "capacity_rpm": 120.0}]});
        let rows = compare(
            &base,
            &cur,
            &["capacity_5 -5%"
                .parse()
                .unwrap_or_else(|e: String| panic!("{e}"))],
        )
        .unwrap_or_default();
        assert!(!rows[0].pass);
    }
}
