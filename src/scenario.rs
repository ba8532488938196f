//! Scenarios (`scenarios/*.toml`): what to run against (the embedded mock, or a URL with keys
//! from the environment), how many keys in which organisations, which policy, what traffic,
//! and the thresholds a run must meet. Unknown fields and bad values are errors naming the
//! file, the line and what was expected (values are checked while parsing, so toml reports
//! their position).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_groq::catalog::Tier;
use mock_groq::config::{CompletionConfig, Fault, LatencyConfig, LimitsOverride};
use serde::{Deserialize, Serialize};

use crate::engine::PolicyConfig;
use crate::engine::transport::Timeouts;

/// Errors reading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("invalid scenario {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name; used in report folder names.
    pub name: String,
    /// What the scenario checks.
    #[serde(default)]
    pub description: String,
    /// `sim` (virtual time, in-process mock) or `real` (real time over HTTP).
    #[serde(default)]
    pub mode: Mode,
    /// Seed of every random draw (arrivals, token sizes, the mock, jitter).
    #[serde(default)]
    pub seed: u64,
    /// What receives the traffic.
    #[serde(default)]
    pub target: Target,
    /// The keys and their organisations.
    pub keys: Keys,
    /// The rotation engine.
    #[serde(default)]
    pub engine: Engine,
    /// The traffic.
    pub traffic: Traffic,
    /// Objectives, e.g. `success_rate = ">= 0.999"`, `failover_p99_ms = "< 200"`.
    #[serde(default)]
    pub thresholds: BTreeMap<Metric, Threshold>,
}

/// How a run keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Virtual time: the driver, engine and in-process mock on a paused clock. Days take seconds.
    #[default]
    Sim,
    /// Real time over HTTP (the embedded mock on loopback, or `target.url`).
    Real,
}

/// The API under test.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A real endpoint (e.g. `https://api.groq.com`); keys then come from the environment.
    /// Absent: the embedded mock.
    #[serde(default)]
    pub url: Option<String>,
    /// Model requested.
    #[serde(default = "default_model")]
    pub model: String,
    /// The mock's plan.
    #[serde(default)]
    pub tier: Tier,
    /// The mock's limits for every organisation, replacing the catalog's where given.
    #[serde(default)]
    pub limits: Option<LimitsOverride>,
    /// The mock's service-time model.
    #[serde(default)]
    pub latency: Option<LatencyConfig>,
    /// The mock's completion lengths.
    #[serde(default)]
    pub completion: Option<CompletionConfig>,
    /// Faults injected by the mock (`org = "org_1"` names the second organisation).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Events on the mock's clock.
    #[serde(default)]
    pub events: Vec<TargetEvent>,
}

impl Default for Target {
    fn default() -> Self {
        Self {
            url: None,
            model: default_model(),
            tier: Tier::Free,
            limits: None,
            latency: None,
            completion: None,
            faults: Vec::new(),
            events: Vec::new(),
        }
    }
}

fn default_model() -> String {
    "llama-3.3-70b-versatile".to_owned()
}

/// An event of the embedded mock, naming keys and organisations by index.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetEvent {
    /// Key `key` answers 401 from `at` on.
    RevokeKey {
        /// When.
        #[serde(with = "humantime_serde")]
        at: Duration,
        /// Key index.
        key: usize,
    },
    /// Organisation `org`'s daily budgets are spent at `at`; every organisation when absent.
    ExhaustDaily {
        /// When.
        #[serde(with = "humantime_serde")]
        at: Duration,
        /// Organisation index.
        #[serde(default)]
        org: Option<usize>,
    },
}

/// The keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// How many keys.
    pub count: Count,
    /// How they map to organisations.
    #[serde(default)]
    pub layout: Layout,
    /// With `layout = "explicit"`: the organisation index of each key.
    #[serde(default)]
    pub orgs: Vec<usize>,
}

/// Key-to-organisation layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Each key its own organisation (separate accounts).
    #[default]
    Separate,
    /// All keys in one organisation (one account, several keys).
    Shared,
    /// As `orgs` says.
    Explicit,
}

impl Keys {
    /// The organisation index of each key.
    pub fn org_of_each(&self) -> Vec<usize> {
        match self.layout {
            Layout::Separate => (0..self.count.0).collect(),
            Layout::Shared => vec![0; self.count.0],
            Layout::Explicit => self.orgs.clone(),
        }
    }
}

/// The engine under test.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// A preset, optionally with parameters: `cooldown:cooldown=30s` (see `keyrotor policies`).
    #[serde(default)]
    pub policy: PolicySpec,
    /// Time to establish a connection (real mode).
    #[serde(default = "default_connect", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Longest one attempt may take.
    #[serde(default = "default_request", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Longest a request may take in all.
    #[serde(default = "default_deadline", with = "humantime_serde")]
    pub deadline: Duration,
}

impl Default for Engine {
    fn default() -> Self {
        Self {
            policy: PolicySpec::default(),
            connect_timeout: default_connect(),
            request_timeout: default_request(),
            deadline: default_deadline(),
        }
    }
}

impl Engine {
    /// The attempt timeouts.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.connect_timeout,
            request: self.request_timeout,
        }
    }
}

fn default_connect() -> Duration {
    Timeouts::default().connect
}
fn default_request() -> Duration {
    Timeouts::default().request
}
fn default_deadline() -> Duration {
    Duration::from_secs(120)
}

/// A policy as written in a scenario: `name` or `name:param=value,…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicySpec {
    text: String,
    /// The parsed configuration.
    pub config: PolicyConfig,
}

impl Default for PolicySpec {
    fn default() -> Self {
        Self {
            text: "adaptive".to_owned(),
            config: PolicyConfig::Adaptive(Default::default()),
        }
    }
}

impl TryFrom<String> for PolicySpec {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let config = text.parse()?;
        Ok(Self { text, config })
    }
}

impl From<PolicySpec> for String {
    fn from(spec: PolicySpec) -> String {
        spec.text
    }
}

impl PolicySpec {
    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for PolicySpec {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::try_from(text.to_owned())
    }
}

/// The traffic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// How requests arrive.
    pub arrival: Arrival,
    /// Requests per minute (open-loop arrivals; the starting rate of ramp, step and spike).
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Requests per minute at the end of a ramp, after a step, or during a spike.
    #[serde(default)]
    pub peak: Option<Rate>,
    /// When a step or spike starts.
    #[serde(default, with = "humantime_serde")]
    pub change_at: Option<Duration>,
    /// How long a spike lasts.
    #[serde(default, with = "humantime_serde")]
    pub spike_for: Option<Duration>,
    /// Closed loop: concurrent users.
    #[serde(default)]
    pub users: Option<Count>,
    /// Closed loop: pause between a user's answer and its next request.
    #[serde(default, with = "humantime_serde")]
    pub think: Option<Duration>,
    /// How long requests are sent.
    #[serde(default, with = "humantime_serde")]
    pub duration: Option<Duration>,
    /// How many requests at most.
    #[serde(default)]
    pub requests: Option<Count>,
    /// Prompt tokens per request.
    #[serde(default = "default_prompt")]
    pub prompt_tokens: Tokens,
    /// `max_tokens` per request.
    #[serde(default = "default_completion")]
    pub completion_tokens: Tokens,
    /// Ask for streamed answers.
    #[serde(default)]
    pub stream: bool,
    /// Time-series interval.
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// With `arrival = "profile"`: relative weight of each hour (repeats after the last).
    #[serde(default)]
    pub profile: Vec<f64>,
}

fn default_prompt() -> Tokens {
    Tokens::Fixed(200)
}
fn default_completion() -> Tokens {
    Tokens::Fixed(200)
}
fn default_interval() -> Duration {
    Duration::from_secs(10)
}

/// Arrival processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Evenly spaced at `rate`.
    Constant,
    /// Poisson at `rate`.
    Poisson,
    /// From `rate` to `peak` linearly over `duration`.
    Ramp,
    /// `rate`, then `peak` from `change_at`.
    Step,
    /// `rate`, with `peak` from `change_at` for `spike_for`.
    Spike,
    /// Poisson at `rate` × the hour's weight in `profile` ÷ the mean weight (per-hour shape).
    Profile,
    /// `users` each sending, waiting for the answer, thinking `think`, and again (users
    /// start spread over one think time).
    Closed,
}

/// A token count distribution: a number, `{ min, max }` (uniform) or `{ mean, sd }` (normal,
/// cut at 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Tokens {
    /// Always this many.
    Fixed(u64),
    /// Uniform between min and max.
    Uniform {
        /// Smallest.
        min: u64,
        /// Largest.
        max: u64,
    },
    /// Normal.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
}

impl Tokens {
    /// The mean of the distribution.
    pub fn mean(&self) -> f64 {
        match *self {
            Tokens::Fixed(v) => v as f64,
            Tokens::Uniform { min, max } => (min + max) as f64 / 2.0,
            Tokens::Normal { mean, .. } => mean,
        }
    }
}

/// A positive whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Count(pub usize);

impl TryFrom<i64> for Count {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if v >= 1 {
            Ok(Count(v as usize))
        } else {
            Err(format!("expected a whole number ≥ 1, got {v}"))
        }
    }
}

impl From<Count> for i64 {
    fn from(c: Count) -> i64 {
        c.0 as i64
    }
}

/// A positive rate in requests per minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Rate(pub f64);

impl TryFrom<f64> for Rate {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 0.0 {
            Ok(Rate(v))
        } else {
            Err(format!("expected requests per minute > 0, got {v}"))
        }
    }
}

impl From<Rate> for f64 {
    fn from(r: Rate) -> f64 {
        r.0
    }
}

/// Metrics a threshold can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// succeeded ÷ offered.
    SuccessRate,
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
    /// 429 answers from upstream (attempts).
    Upstream429,
}

/// `op value`, e.g. `>= 0.999`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ScenarioError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and validates scenario text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Checks what parsing cannot: fields that go together.
    pub fn validate(&self) -> Result<(), String> {
        let t = &self.traffic;
        let need = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_owned()) };
        need(
            t.duration.is_some() || t.requests.is_some(),
            "[traffic] needs `duration` or `requests` (or both): a run must be bounded",
        )?;
        match t.arrival {
            Arrival::Closed => need(
                t.users.is_some(),
                "[traffic] arrival = \"closed\" needs `users`",
            )?,
            _ => need(
                t.rate.is_some(),
                "[traffic] open-loop arrivals need `rate` (requests per minute)",
            )?,
        }
        if matches!(t.arrival, Arrival::Ramp | Arrival::Step | Arrival::Spike) {
            need(
                t.peak.is_some(),
                "[traffic] ramp, step and spike need `peak` (requests per minute)",
            )?;
        }
        if t.arrival == Arrival::Profile {
            need(
                !t.profile.is_empty()
                    && t.profile.iter().all(|w| w.is_finite() && *w >= 0.0)
                    && t.profile.iter().sum::<f64>() > 0.0,
                "[traffic] arrival = \"profile\" needs `profile`: one weight ≥ 0 per hour, not all zero",
            )?;
        }
        if matches!(t.arrival, Arrival::Ramp) {
            need(t.duration.is_some(), "[traffic] a ramp needs `duration`")?;
        }
        if matches!(t.arrival, Arrival::Step | Arrival::Spike) {
            need(
                t.change_at.is_some(),
                "[traffic] step and spike need `change_at`",
            )?;
        }
        if matches!(t.arrival, Arrival::Spike) {
            need(t.spike_for.is_some(), "[traffic] a spike needs `spike_for`")?;
        }
        for (name, tokens) in [
            ("prompt_tokens", t.prompt_tokens),
            ("completion_tokens", t.completion_tokens),
        ] {
            let ok = match tokens {
                Tokens::Fixed(v) => v >= 1,
                Tokens::Uniform { min, max } => min >= 1 && min <= max,
                Tokens::Normal { mean, sd } => mean >= 1.0 && sd >= 0.0 && sd.is_finite(),
            };
            need(
                ok,
                &format!("[traffic] {name} must be ≥ 1 (and min ≤ max, sd ≥ 0)"),
            )?;
        }
        need(!t.interval.is_zero(), "[traffic] interval must be > 0")?;
        if self.keys.layout == Layout::Explicit {
            need(
                self.keys.orgs.len() == self.keys.count.0,
                "[keys] layout = \"explicit\" needs `orgs` with one organisation index per key",
            )?;
        } else {
            need(
                self.keys.orgs.is_empty(),
                "[keys] `orgs` goes with layout = \"explicit\"",
            )?;
        }
        if self.target.url.is_some() {
            need(
                self.mode == Mode::Real,
                "a scenario with [target] url must use mode = \"real\"",
            )?;
            need(
                t.duration.is_some() && t.requests.is_some(),
                "a real endpoint needs both `duration` and `requests` as hard caps",
            )?;
            need(
                self.target.faults.is_empty() && self.target.events.is_empty(),
                "faults and events are only for the embedded mock",
            )?;
        }
        if mock_groq::catalog::find(&self.target.model).is_none() && self.target.url.is_none() {
            return Err(format!(
                "[target] model `{}` is not in the mock's catalog",
                self.target.model
            ));
        }
        let orgs = self.keys.org_of_each().iter().max().map_or(0, |m| m + 1);
        for event in &self.target.events {
            match event {
                TargetEvent::RevokeKey { key, .. } => need(
                    *key < self.keys.count.0,
                    "[[target.events]] revoke_key names a key index beyond `count`",
                )?,
                TargetEvent::ExhaustDaily { org: Some(org), .. } => need(
                    *org < orgs,
                    "[[target.events]] exhaust_daily names an organisation that has no key",
                )?,
                TargetEvent::ExhaustDaily { .. } => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
[keys]
count = 3
[traffic]
arrival = "constant"
rate = 60
duration = "1m"
"#;

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::from_toml(MINIMAL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.mode, Mode::Sim);
        assert_eq!(s.engine.policy.config.name(), "adaptive");
        assert_eq!(s.keys.org_of_each(), [0, 1, 2]);
        assert_eq!(s.traffic.prompt_tokens, Tokens::Fixed(200));
    }

    #[test]
    fn bad_values_name_line_and_expectation() {
        for (edit, line, needle) in [
            (("count = 3", "count = 0"), "line 4", "≥ 1"),
            (("rate = 60", "rate = -5"), "line 7", "> 0"),
            (
                ("arrival = \"constant\"", "arrival = \"burst\""),
                "line 6",
                "constant",
            ),
            (
                ("duration = \"1m\"", "duration = \"soon\""),
                "line 8",
                "soon",
            ),
            (("count = 3", "count = 3\nbogus = 1"), "line 5", "bogus"),
        ] {
            let text = MINIMAL.replace(edit.0, edit.1);
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains(line) && err.contains(needle),
                "{edit:?}: {err}"
            );
        }
        let err = Scenario::from_toml(&format!("{MINIMAL}[engine]\npolicy = \"nope\"\n"))
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("line 10") && err.contains("invalid policy"),
            "{err}"
        );
        let err = Scenario::from_toml(&format!(
            "{MINIMAL}[thresholds]\nsuccess_rate = \"about 1\"\n"
        ))
        .err()
        .unwrap_or_default();
        assert!(
            err.contains("line 10") && err.contains("expected `<`"),
            "{err}"
        );
        let err = Scenario::from_toml(&format!("{MINIMAL}[thresholds]\nhappiness = \">= 1\"\n"))
            .err()
            .unwrap_or_default();
        assert!(err.contains("happiness"), "{err}");
    }

    #[test]
    fn fields_that_go_together_are_checked() {
        let unbounded = MINIMAL.replace("duration = \"1m\"", "");
        assert!(Scenario::from_toml(&unbounded).is_err_and(|e| e.contains("bounded")));
        let ramp = MINIMAL.replace("\"constant\"", "\"ramp\"");
        assert!(Scenario::from_toml(&ramp).is_err_and(|e| e.contains("peak")));
        let url = MINIMAL.replace("[keys]", "[target]\nurl = \"https://api.groq.com\"\n[keys]");
        assert!(Scenario::from_toml(&url).is_err_and(|e| e.contains("mode = \"real\"")));
        let explicit = MINIMAL.replace(
            "count = 3",
            "count = 3\nlayout = \"explicit\"\norgs = [0, 0]",
        );
        assert!(
            Scenario::from_toml(&explicit)
                .is_err_and(|e| e.contains("one organisation index per key"))
        );
    }

    #[test]
    fn thresholds_parse_and_judge() {
        let t = Threshold::try_from(">= 0.999".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.holds(0.999) && !t.holds(0.99));
        let t = Threshold::try_from("<200".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.holds(199.0) && !t.holds(200.0));
    }
}
