//! A run's report: the model written as `report.json` (versioned schema), built from one
//! run's [`Recorder`]; what it says in words (`answer`: the headline, the facts, the
//! horizon), its tables and markdown (`markdown`), its data files (`files`:
//! `timeseries.csv`, `latency.hgrm`) and what replicas saw ([`replicas`]).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use mock_groq::catalog::Limits;
use serde::{Deserialize, Serialize};

mod answer;
mod files;
mod markdown;
pub mod replicas;

pub use files::{hgrm, timeseries_csv};

pub use replicas::{Reach, ReplicaFigures, ReplicasSeen, StoreFigures};

use crate::measure::document::Table;
use crate::measure::recorder::Recorder;
use crate::spec::metrics::{Figure, Metric, Sample, Threshold};
use crate::spec::scenario::{Scenario, plural};

/// Version of the report.json schema (and of sweep.json, plan.json, claims.json; their JSON
/// Schemas are in `schemas/`). 2: figures without a sample are `null` ("no data"),
/// failovers never answered make failover figures `"unbounded"`, `summary.dropped`,
/// `scenario_hash` and `error`. 3: one metric vocabulary (the threshold `upstream429` is
/// `upstream_429`, as in the summary); `replicas` for runs with replicas or shared state;
/// sweep points' `replicas` and `repeat_429`. 4: `streaming` (time to first token,
/// inter-token latency, output tokens per second) for streamed traffic; a key's attempts are
/// `per_key[].attempts` (was `requests`), as in every table. 5: claims.json's `title`, and
/// each claim's `rule` (the metric, the rule and the samples it needs) for claims judged on one
/// run. 6: a failover is a request that tried a second key: `failover_ms.refused` counts
/// the requests given up after one key failed without trying another (they counted as
/// unanswered failovers before), `failover_ms.failed_key_ms` what one failed attempt cost,
/// `failover_ms.keys_skipped`; `setup.load`, the offered load in words; `setup.from_full_budgets`;
/// a sweep point's `sustained_bound_rpm` and `binding`. 7: `setup.provider`. 8: a plan's
/// `input.all_seeds` and `input.provider`; a confidence count's `seeds` is fewer than the plan's when it stopped
/// early (it could no longer reach the level).
pub const SCHEMA: u32 = 8;

/// One run's report.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// Schema version.
    pub schema: u32,
    /// keyrotor's version.
    pub tool: String,
    /// Scenario name.
    pub scenario: String,
    /// A hash of the scenario's effective settings (everything that shapes what is measured:
    /// not its description, thresholds or mode), so `compare` can tell runs of different
    /// scenarios apart.
    pub scenario_hash: String,
    /// `sim` or `real`.
    pub mode: String,
    /// Whether time was simulated (virtual), so `span_s` is simulated time.
    pub simulated: bool,
    /// Stopped early (interrupted): the numbers cover what ran.
    pub incomplete: bool,
    /// The run failed inside keyrotor (e.g. a panic while sending): its numbers are not a
    /// measurement of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
    /// Failover latency of requests whose first attempt failed, ms: answered ones count
    /// their end-to-end minus the successful attempt, unanswered ones count as unbounded.
    pub failover_ms: Failover,
    /// Failed requests by reason.
    pub failures: BTreeMap<String, u64>,
    /// Per key.
    pub per_key: Vec<KeyReport>,
    /// Each scenario threshold, measured.
    pub thresholds: Vec<ThresholdResult>,
    /// With replicas, shared state or cold starts: what only they show (repeated 429s,
    /// how long a limit took to reach the other replicas, per replica figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<crate::measure::report::ReplicasSeen>,
    /// For streamed traffic: its answers as their users read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<Streaming>,
}

/// Streamed answers as their users read them, one sample per successful streamed request
/// ([`crate::measure::streaming`] has the definitions); `null` figures without a sample.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Streaming {
    /// Successful streamed requests with at least one token: the sample.
    pub answers: u64,
    /// Time to first token from the intended send, ms.
    pub ttft_ms: Percentiles,
    /// Inter-token latency (first token to last, over the tokens after the first), ms.
    pub itl_ms: Percentiles,
    /// Output tokens per second of each request's latency.
    pub output_tokens_per_s: Percentiles,
}

impl Streaming {
    /// The figures of `recorder`'s streamed answers.
    fn of(recorder: &Recorder) -> Self {
        let s = recorder.streams.as_ref();
        Self {
            answers: s.map_or(0, |s| s.ttft.len()),
            ttft_ms: Percentiles::of(s.map(|s| &s.ttft), 1000.0),
            itl_ms: Percentiles::of(s.map(|s| &s.itl), 1000.0),
            output_tokens_per_s: Percentiles::of(s.map(|s| &s.output_tps_milli), 1000.0),
        }
    }

    /// The table of its figures.
    fn table(&self) -> Table {
        let row = |name: &str, p: &Percentiles, decimals: usize| {
            let mut row = vec![name.to_owned()];
            row.extend([p.p50, p.p90, p.p99, p.max].map(|f| f.show(decimals)));
            row
        };
        Table {
            head: Table::heads(&["streamed answers", "p50", "p90", "p99", "max"]),
            rows: vec![
                row("time to first token (ms)", &self.ttft_ms, 1),
                row("inter-token latency (ms)", &self.itl_ms, 2),
                row("output tokens per second", &self.output_tokens_per_s, 1),
            ],
        }
    }
}

/// What ran.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Setup {
    /// Policy as written.
    pub policy: String,
    /// Number of keys.
    pub keys: usize,
    /// Number of organisations they belong to (the provider's scopes: projects on Gemini,
    /// accounts on OpenRouter).
    pub orgs: usize,
    /// The API the target speaks (`groq`, `gemini`, `openrouter`, `cerebras`, `openai`).
    #[serde(default = "groq")]
    pub provider: String,
    /// Model.
    pub model: String,
    /// The day whose Groq catalog applied (`YYYY-MM-DD`).
    pub as_of: String,
    /// Whether Groq serves the model that day ("served", "decommissioned on …").
    pub model_status: String,
    /// Limits per organisation (RPM, RPD, TPM, TPD) and where they come from.
    pub limits: LimitsUsed,
    /// The target: `embedded mock`, the URL, or the app under test.
    pub target: String,
    /// For an app under test: upstream calls the mock saw without a request's marker, so
    /// not attributed to any request (absent for other targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unattributed_calls: Option<u64>,
    /// The latency budget goodput counts against, ms.
    pub latency_budget_ms: f64,
    /// The offered load in words, units included (arrivals, rate, span, request cap).
    #[serde(default)]
    pub load: String,
    /// Whether the run began with every organisation's daily budgets full (a fresh day), as
    /// opposed to spent (steady state, as after a day at that rate).
    #[serde(default = "full")]
    pub from_full_budgets: bool,
}

fn full() -> bool {
    true
}

fn groq() -> String {
    "groq".to_owned()
}

impl Setup {
    /// What one scope of the provider's limits is called, and several (`organisation(s)` on
    /// Groq, `project(s)` on Gemini, `account(s)` on OpenRouter).
    pub fn scope_nouns(&self) -> (&'static str, &'static str) {
        groq_wire::providers::Profiles::builtin().scope_nouns(&self.provider)
    }

    /// Whose API, in words: `Groq as of <day>` (its catalog's day), or the provider's name.
    pub fn api_words(&self) -> String {
        if self.provider == "groq" {
            return format!("Groq as of {}", self.as_of);
        }
        let profiles = groq_wire::providers::Profiles::builtin();
        let name = profiles.find(&self.provider).map(|p| p.name.clone());
        name.unwrap_or_else(|| self.provider.clone())
    }
}

/// The limits in force.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LimitsUsed {
    /// The limits (`rpm`, `rpd`, `tpm`, `tpd` in the JSON).
    #[serde(flatten)]
    pub limits: Limits,
    /// Where the numbers come from.
    pub source: String,
}

/// Totals.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Requests offered (= succeeded + failed + dropped).
    pub offered: u64,
    /// Requests answered by the API.
    pub succeeded: u64,
    /// Requests sent and not answered.
    pub failed: u64,
    /// Arrivals never sent: the driver could not send them on time (k6's
    /// `dropped_iterations`).
    pub dropped: u64,
    /// Of the failed, answered with a fallback message by the policy.
    pub degraded: u64,
    /// succeeded ÷ offered; `null` when nothing was offered.
    pub success_rate: Option<f64>,
    /// Requests answered within the latency budget, from their intended send: what users
    /// count as answered.
    pub goodput: u64,
    /// goodput ÷ offered; `null` when nothing was offered.
    pub goodput_rate: Option<f64>,
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

/// Percentiles, in the unit the field holding them names (`null` without a sample).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Percentiles {
    /// Median.
    pub p50: Figure,
    /// 90th.
    pub p90: Figure,
    /// 99th.
    pub p99: Figure,
    /// 99.9th.
    pub p999: Figure,
    /// Largest.
    pub max: Figure,
}

impl Percentiles {
    /// The percentiles of `h`, each divided by `per_unit` (1000 for µs shown as ms); no data
    /// without a histogram or a sample.
    pub fn of(h: Option<&Histogram<u64>>, per_unit: f64) -> Self {
        let at = |q: f64| h.map_or(Figure::NoData, |h| quantile(h, q, per_unit));
        Self {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: at(1.0),
        }
    }
}

impl Summary {
    /// The recorder's counts, and their rates over `span`; a rate of nothing offered is no
    /// data.
    fn of(recorder: &Recorder, span: std::time::Duration) -> Self {
        let span_s = span.as_secs_f64().max(1e-9);
        let share = |n: u64| (recorder.offered > 0).then(|| n as f64 / recorder.offered as f64);
        Self {
            offered: recorder.offered,
            succeeded: recorder.succeeded,
            failed: recorder.failed.values().sum(),
            dropped: recorder.dropped,
            degraded: recorder.degraded,
            success_rate: share(recorder.succeeded),
            goodput: recorder.goodput,
            goodput_rate: share(recorder.goodput),
            throughput_rps: recorder.succeeded as f64 / span_s,
            offered_rps: recorder.offered as f64 / span_s,
            upstream_429: recorder.upstream_429,
            attempts: recorder.attempts,
            tokens: recorder.tokens,
        }
    }
}

/// Failover latency, ms, over every request that failed over (tried a second key), and
/// what a failed key costs.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failover {
    /// Requests that failed over (tried a second key) and then succeeded.
    pub count: u64,
    /// Requests that tried a second key and never got an answer: their failover time is
    /// unbounded.
    pub unanswered: u64,
    /// Requests whose attempts failed on one key and that were given up without trying
    /// another (no key available, or the policy stopped): refused, not failovers.
    #[serde(default)]
    pub refused: u64,
    /// What one failed key costs, ms: each failed attempt's time from its send to its
    /// failure (round trip and the API's edge), over every failed attempt of the run.
    #[serde(default = "no_percentiles")]
    pub failed_key_ms: Percentiles,
    /// Answered failovers by how many keys failed before the answering one.
    #[serde(default)]
    pub keys_skipped: Vec<Skipped>,
    /// Median.
    pub p50: Figure,
    /// 99th.
    pub p99: Figure,
    /// Largest.
    pub max: Figure,
}

/// A figure in ms for a sentence: `30 ms`, `unbounded`, `no data`.
fn ms(f: Figure) -> String {
    match f {
        Figure::Value(v) => format!("{v:.0} ms"),
        other => other.show(0),
    }
}

/// How many answered failovers skipped `keys` keys before their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    /// Keys that failed before the answering one (the last entry: this many or more).
    pub keys: u32,
    /// Requests.
    pub requests: u64,
}

fn no_percentiles() -> Percentiles {
    Percentiles::of(None, 1.0)
}

impl Failover {
    /// The failovers in a sentence or two: how many tried another key, how many were
    /// answered and how fast, what one failed key cost, and the requests refused without a
    /// second try; nothing when no key failed.
    pub fn sentence(&self) -> Option<String> {
        let tried = self.count + self.unanswered;
        let cost = self.failed_key_ms.p50;
        if tried == 0 && self.refused == 0 && cost == Figure::NoData {
            return None;
        }
        let mut text = String::new();
        if tried > 0 {
            text.push_str(&format!(
                "{} failed over (tried another key): {} answered, failover p50 {}, p99 {}{}.",
                plural(tried, "request", "requests"),
                if self.unanswered == 0 {
                    "all".to_owned()
                } else {
                    self.count.to_string()
                },
                ms(self.p50),
                ms(self.p99),
                self.skipped_words()
            ));
        } else {
            text.push_str("No request failed over (none tried a second key).");
        }
        if let Figure::Value(ms) = cost {
            text.push_str(&format!(
                " One failed key cost {ms:.0} ms (median over every failed attempt: its round trip and the API's answer)."
            ));
        }
        if self.refused > 0 {
            text.push_str(&format!(
                " {} refused after a key failed, without trying another (not failovers).",
                plural(self.refused, "request was", "requests were")
            ));
        }
        Some(text)
    }

    /// ` (12 after 1 failed key, 3 after 2 failed keys)` when some answered failover skipped
    /// more than one key.
    fn skipped_words(&self) -> String {
        if self.keys_skipped.iter().all(|s| s.keys == 1) {
            return String::new();
        }
        let parts: Vec<String> = self
            .keys_skipped
            .iter()
            .map(|s| {
                let keys = plural(u64::from(s.keys), "failed key", "failed keys");
                let last = usize::try_from(s.keys)
                    .is_ok_and(|k| k >= crate::measure::recorder::MAX_SKIPPED);
                let more = if last { " or more" } else { "" };
                format!("{} after {keys}{more}", s.requests)
            })
            .collect();
        format!(" ({})", parts.join(", "))
    }

    /// The recorder's failover times, the never-answered ones counted as unbounded.
    fn of(recorder: &Recorder) -> Self {
        let (answered, unanswered) = (&recorder.failover, recorder.failover_unanswered);
        Self {
            count: answered.len(),
            unanswered,
            refused: recorder.refused,
            failed_key_ms: Percentiles::of(Some(&recorder.failed_attempt), 1000.0),
            keys_skipped: (1u32..)
                .zip(&recorder.keys_skipped)
                .filter(|(_, n)| **n > 0)
                .map(|(keys, &requests)| Skipped { keys, requests })
                .collect(),
            p50: failover_quantile(answered, unanswered, 0.5),
            p99: failover_quantile(answered, unanswered, 0.99),
            max: failover_quantile(answered, unanswered, 1.0),
        }
    }
}

/// One key.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyReport {
    /// Index.
    pub index: usize,
    /// Fingerprint, never the key.
    pub fingerprint: String,
    /// Organisation index.
    pub org: usize,
    /// Attempts sent with the key (`requests` in schema 3).
    #[serde(alias = "requests")]
    pub attempts: u64,
    /// Succeeded attempts.
    pub succeeded: u64,
    /// 429 answers.
    pub rate_limited: u64,
}

/// A threshold and its measurement.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThresholdResult {
    /// The metric.
    pub metric: Metric,
    /// The objective.
    pub threshold: Threshold,
    /// What was measured; no data fails the threshold.
    pub measured: Figure,
    /// Met or not.
    pub pass: bool,
}

/// The `q` quantile of `h`, divided by `per_unit`, as a figure: no data without a sample.
fn quantile(h: &Histogram<u64>, q: f64, per_unit: f64) -> Figure {
    if h.is_empty() {
        Figure::NoData
    } else {
        Figure::Value(h.value_at_quantile(q) as f64 / per_unit)
    }
}

/// The `q` quantile of failover times: the answered ones in `h`, and `unanswered` more that
/// are unbounded (they sort after every answered one).
fn failover_quantile(h: &Histogram<u64>, unanswered: u64, q: f64) -> Figure {
    let total = h.len() + unanswered;
    if total == 0 {
        return Figure::NoData;
    }
    let rank = ((q * total as f64).ceil() as u64).max(1);
    if rank > h.len() {
        Figure::Unbounded
    } else {
        quantile(h, rank as f64 / h.len() as f64, 1000.0)
    }
}

/// Said at the top of a report whose run was interrupted.
pub const INCOMPLETE: &str = "Incomplete: the run was interrupted; the numbers cover what ran.";

/// What a finished run did, as its report reads it.
pub struct Ran<'a> {
    /// Everything the run counted.
    pub recorder: &'a Recorder,
    /// Its conditions.
    pub setup: Setup,
    /// Each key's fingerprint, in pool order.
    pub fingerprints: &'a [String],
    /// Each key's organisation index, in pool order.
    pub orgs: &'a [usize],
    /// The traffic's span, simulated or real.
    pub span: std::time::Duration,
    /// The wall-clock time the run took.
    pub wall: std::time::Duration,
    /// When it started, in seconds since the Unix epoch.
    pub started_unix: u64,
    /// Whether it was interrupted before the end of its traffic.
    pub incomplete: bool,
}

impl Report {
    /// Builds the report of a finished run of `scenario`.
    pub fn build(scenario: &Scenario, ran: Ran<'_>) -> Self {
        let Ran {
            recorder,
            setup,
            fingerprints,
            orgs,
            span,
            wall,
            started_unix,
            incomplete,
        } = ran;
        let per_key = recorder
            .per_key
            .iter()
            .enumerate()
            .map(|(index, c)| KeyReport {
                index,
                fingerprint: fingerprints.get(index).cloned().unwrap_or_default(),
                org: orgs.get(index).copied().unwrap_or(index),
                attempts: c.requests,
                succeeded: c.succeeded,
                rate_limited: c.rate_limited,
            })
            .collect();
        let mut report = Self {
            schema: SCHEMA,
            tool: format!("keyrotor {}", env!("CARGO_PKG_VERSION")),
            scenario: scenario.name.clone(),
            scenario_hash: scenario.hash(),
            mode: match scenario.mode {
                crate::spec::scenario::Mode::Sim => "sim",
                crate::spec::scenario::Mode::Real => "real",
            }
            .to_owned(),
            simulated: scenario.mode == crate::spec::scenario::Mode::Sim,
            incomplete,
            error: None,
            started_unix,
            wall_s: wall.as_secs_f64(),
            span_s: span.as_secs_f64(),
            setup,
            summary: Summary::of(recorder, span),
            latency_ms: Percentiles::of(Some(&recorder.latency), 1000.0),
            failover_ms: Failover::of(recorder),
            failures: recorder.failed.clone(),
            per_key,
            thresholds: Vec::new(),
            replicas: None,
            streaming: scenario.traffic.stream.then(|| Streaming::of(recorder)),
        };
        report.thresholds = report.judge(&scenario.thresholds);
        report
    }

    /// Each of the scenario's thresholds against this report's figures; one on a metric
    /// without data does not pass.
    fn judge(&self, thresholds: &BTreeMap<Metric, Threshold>) -> Vec<ThresholdResult> {
        thresholds
            .iter()
            .map(|(metric, threshold)| {
                let measured = self.metric(*metric);
                ThresholdResult {
                    metric: *metric,
                    threshold: *threshold,
                    measured,
                    pass: measured.number().is_some_and(|m| threshold.holds(m)),
                }
            })
            .collect()
    }

    /// The value of a metric in this report; no data when nothing was offered, and for the
    /// streaming metrics when the traffic did not stream.
    pub fn metric(&self, metric: Metric) -> Figure {
        let s = &self.summary;
        let counted = |v: f64| Figure::of((s.offered > 0).then_some(v));
        let streamed =
            |f: fn(&Streaming) -> Figure| self.streaming.as_ref().map_or(Figure::NoData, f);
        match metric {
            Metric::SuccessRate => Figure::of(s.success_rate),
            Metric::GoodputRate => Figure::of(s.goodput_rate),
            Metric::ThroughputRps => counted(s.throughput_rps),
            Metric::Offered => Figure::Value(s.offered as f64),
            Metric::Upstream429 => counted(s.upstream_429 as f64),
            Metric::LatencyP50Ms => self.latency_ms.p50,
            Metric::LatencyP90Ms => self.latency_ms.p90,
            Metric::LatencyP99Ms => self.latency_ms.p99,
            Metric::LatencyP999Ms => self.latency_ms.p999,
            Metric::LatencyMaxMs => self.latency_ms.max,
            Metric::FailoverP50Ms => self.failover_ms.p50,
            Metric::FailoverP99Ms => self.failover_ms.p99,
            Metric::FailoverMaxMs => self.failover_ms.max,
            Metric::TtftP50Ms => streamed(|s| s.ttft_ms.p50),
            Metric::TtftP99Ms => streamed(|s| s.ttft_ms.p99),
            Metric::ItlP50Ms => streamed(|s| s.itl_ms.p50),
            Metric::ItlP99Ms => streamed(|s| s.itl_ms.p99),
            Metric::OutputTokensPerSP50 => streamed(|s| s.output_tokens_per_s.p50),
        }
    }

    /// How many samples this report's value of `metric` rests on ([`Metric::sample`]).
    pub fn samples(&self, metric: Metric) -> u64 {
        let s = &self.summary;
        match metric.sample() {
            Sample::Requests => s.offered,
            Sample::Answered => s.succeeded,
            Sample::FailedOver => {
                (self.failover_ms.count).saturating_add(self.failover_ms.unanswered)
            }
            Sample::Streamed => self.streaming.as_ref().map_or(0, |x| x.answers),
        }
    }

    /// Whether every threshold passed (one on a metric without data does not).
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.pass)
    }
}
