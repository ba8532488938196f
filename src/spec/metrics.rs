//! The metric vocabulary: every figure a run is judged by has one name ([`Metric`]), used
//! alike in scenario thresholds, `compare` rules, report.json, the pages and the Prometheus
//! endpoint; and the bounds thresholds and rules set on them ([`Threshold`]). A report's
//! value of a metric is [`crate::measure::report::Report::metric`].

use serde::{Deserialize, Serialize};

/// Every metric a threshold or a `compare` rule can name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// succeeded ÷ offered.
    SuccessRate,
    /// Requests answered within the latency budget ÷ offered.
    GoodputRate,
    /// Succeeded requests per second.
    ThroughputRps,
    /// Latency percentiles from the intended send, ms.
    LatencyP50Ms,
    /// 90th percentile.
    LatencyP90Ms,
    /// 99th percentile.
    LatencyP99Ms,
    /// Failover latency p50, ms.
    FailoverP50Ms,
    /// Failover latency p99, ms.
    FailoverP99Ms,
    /// Largest failover latency, ms.
    FailoverMaxMs,
    /// 429 answers from upstream (attempts); `upstream429` still reads.
    #[serde(rename = "upstream_429", alias = "upstream429")]
    Upstream429,
    /// Time to first token p50, ms (streamed traffic).
    TtftP50Ms,
    /// Time to first token p99, ms (streamed traffic).
    TtftP99Ms,
    /// Inter-token latency p99, ms (streamed traffic).
    ItlP99Ms,
    /// Requests offered.
    Offered,
    /// Latency p99.9, ms.
    LatencyP999Ms,
    /// Largest latency, ms.
    LatencyMaxMs,
    /// Inter-token latency p50, ms (streamed traffic).
    ItlP50Ms,
    /// Output tokens per second of a request's latency, p50 (streamed traffic).
    OutputTokensPerSP50,
}

impl Metric {
    /// Every metric, in the order reports and `compare` list them.
    pub const ALL: [Metric; 18] = [
        Metric::SuccessRate,
        Metric::GoodputRate,
        Metric::ThroughputRps,
        Metric::Offered,
        Metric::Upstream429,
        Metric::LatencyP50Ms,
        Metric::LatencyP90Ms,
        Metric::LatencyP99Ms,
        Metric::LatencyP999Ms,
        Metric::LatencyMaxMs,
        Metric::FailoverP50Ms,
        Metric::FailoverP99Ms,
        Metric::FailoverMaxMs,
        Metric::TtftP50Ms,
        Metric::TtftP99Ms,
        Metric::ItlP50Ms,
        Metric::ItlP99Ms,
        Metric::OutputTokensPerSP50,
    ];

    /// The metric's name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Metric::SuccessRate => "success_rate",
            Metric::GoodputRate => "goodput_rate",
            Metric::ThroughputRps => "throughput_rps",
            Metric::LatencyP50Ms => "latency_p50_ms",
            Metric::LatencyP90Ms => "latency_p90_ms",
            Metric::LatencyP99Ms => "latency_p99_ms",
            Metric::FailoverP50Ms => "failover_p50_ms",
            Metric::FailoverP99Ms => "failover_p99_ms",
            Metric::FailoverMaxMs => "failover_max_ms",
            Metric::Upstream429 => "upstream_429",
            Metric::TtftP50Ms => "ttft_p50_ms",
            Metric::TtftP99Ms => "ttft_p99_ms",
            Metric::ItlP99Ms => "itl_p99_ms",
            Metric::Offered => "offered",
            Metric::LatencyP999Ms => "latency_p999_ms",
            Metric::LatencyMaxMs => "latency_max_ms",
            Metric::ItlP50Ms => "itl_p50_ms",
            Metric::OutputTokensPerSP50 => "output_tokens_per_s_p50",
        }
    }
}

/// What a metric's figure is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// Every request offered.
    Requests,
    /// Requests that succeeded.
    Answered,
    /// Requests that failed over: they tried a second key.
    FailedOver,
    /// Successful streamed requests with at least one token.
    Streamed,
}

impl Sample {
    /// That there was no sample, in words: `no request failed over (tried a second key)`.
    pub fn none(self) -> &'static str {
        match self {
            Sample::Requests => "no request was offered",
            Sample::Answered => "no request was answered",
            Sample::FailedOver => "no request failed over (tried a second key)",
            Sample::Streamed => "no streamed answer",
        }
    }

    /// The sample in words, plural.
    pub fn noun(self) -> &'static str {
        match self {
            Sample::Requests => "requests",
            Sample::Answered => "answered requests",
            Sample::FailedOver => "requests that failed over (tried a second key)",
            Sample::Streamed => "streamed answers",
        }
    }
}

impl Metric {
    /// What the metric's figure is computed over ([`crate::measure::report::Report::samples`] counts
    /// it).
    pub fn sample(self) -> Sample {
        use Metric::*;
        match self {
            SuccessRate | GoodputRate | ThroughputRps | Offered | Upstream429 => Sample::Requests,
            LatencyP50Ms | LatencyP90Ms | LatencyP99Ms | LatencyP999Ms | LatencyMaxMs => {
                Sample::Answered
            }
            FailoverP50Ms | FailoverP99Ms | FailoverMaxMs => Sample::FailedOver,
            TtftP50Ms | TtftP99Ms | ItlP50Ms | ItlP99Ms | OutputTokensPerSP50 => Sample::Streamed,
        }
    }

    /// A value of the metric in its unit: rates as percentages, times in ms, counts whole.
    pub fn show(self, figure: Figure) -> String {
        use Metric::*;
        let Some(v) = figure.number().filter(|v| v.is_finite()) else {
            return figure.show(0);
        };
        match self {
            SuccessRate | GoodputRate => format!("{:.2} %", v * 100.0),
            ThroughputRps => format!("{v:.3} req/s"),
            Offered | Upstream429 => format!("{v:.0}"),
            OutputTokensPerSP50 => format!("{v:.1} tokens/s"),
            _ => format!("{v:.0} ms"),
        }
    }
}

/// `op value`, e.g. `>= 0.999`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Threshold {
    /// Comparison.
    pub op: Op,
    /// Bound.
    pub value: f64,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
}

impl Threshold {
    /// Whether `measured` meets the threshold.
    pub fn holds(&self, measured: f64) -> bool {
        match self.op {
            Op::Lt => measured < self.value,
            Op::Le => measured <= self.value,
            Op::Gt => measured > self.value,
            Op::Ge => measured >= self.value,
        }
    }
}

impl TryFrom<String> for Threshold {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let t = text.trim();
        let (op, rest) = if let Some(r) = t.strip_prefix("<=") {
            (Op::Le, r)
        } else if let Some(r) = t.strip_prefix(">=") {
            (Op::Ge, r)
        } else if let Some(r) = t.strip_prefix('<') {
            (Op::Lt, r)
        } else if let Some(r) = t.strip_prefix('>') {
            (Op::Gt, r)
        } else {
            return Err(format!(
                "expected `<`, `<=`, `>` or `>=` then a number, got `{text}`"
            ));
        };
        let value: f64 = rest
            .trim()
            .parse()
            .map_err(|_| format!("expected a number after the comparison, got `{text}`"))?;
        if !value.is_finite() {
            return Err(format!(
                "expected a finite number after the comparison, got `{text}`"
            ));
        }
        Ok(Self { op, value })
    }
}

impl From<Threshold> for String {
    fn from(t: Threshold) -> String {
        let op = match t.op {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        };
        format!("{op} {}", t.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_listed_once_and_reads_back_by_its_name() {
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        for m in Metric::ALL {
            let read: Metric = serde_json::from_value(serde_json::json!(m.name()))
                .unwrap_or_else(|e| panic!("{}: {e}", m.name()));
            assert_eq!(read, m);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
    }
}

/// One measured figure: a number, no data (no sample: `null` in JSON) or unbounded (a
/// request that never got its answer: `"unbounded"` in JSON). Never a made-up 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// No sample.
    NoData,
    /// A measured value.
    Value(f64),
    /// Longer than any value: some sample never ended.
    Unbounded,
}

impl Figure {
    /// The value as a number for comparisons: unbounded is +∞, no data is `None`.
    pub fn number(self) -> Option<f64> {
        match self {
            Figure::NoData => None,
            Figure::Value(v) => Some(v),
            Figure::Unbounded => Some(f64::INFINITY),
        }
    }

    /// `Value(v)` when `v` is a sample's figure, `NoData` when there is none.
    pub fn of(value: Option<f64>) -> Self {
        value.map_or(Figure::NoData, Figure::Value)
    }

    /// The figure with `decimals` places, or "no data" / "unbounded".
    pub fn show(self, decimals: usize) -> String {
        match self {
            Figure::NoData => "no data".to_owned(),
            Figure::Value(v) => format!("{v:.decimals$}"),
            Figure::Unbounded => "unbounded".to_owned(),
        }
    }
}

impl Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Figure::NoData => s.serialize_none(),
            Figure::Value(v) => s.serialize_f64(*v),
            Figure::Unbounded => s.serialize_str("unbounded"),
        }
    }
}

impl schemars::JsonSchema for Figure {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Figure".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A measured value; null: no sample (no data, never 0); \"unbounded\": some sample never ended.",
            "anyOf": [{ "type": "number" }, { "type": "null" }, { "const": "unbounded" }]
        })
    }
}

impl<'de> Deserialize<'de> for Figure {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(Figure::NoData),
            serde_json::Value::String(s) if s == "unbounded" => Ok(Figure::Unbounded),
            v => v.as_f64().map(Figure::Value).ok_or_else(|| {
                serde::de::Error::custom("expected a number, null or \"unbounded\"")
            }),
        }
    }
}
