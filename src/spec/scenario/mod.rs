//! Scenarios (`scenarios/*.toml`): what to run against (the embedded mock, or a URL with keys
//! from the environment), how many keys in which organisations, which policy, what traffic,
//! and the thresholds a run must meet. Unknown fields and bad values are errors naming the
//! file, the line and what was expected (values are checked while parsing, so toml reports
//! their position).

use crate::spec::metrics::{Metric, Threshold};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_groq::catalog::Tier;
use mock_groq::config::{CompletionConfig, Fault, LatencyConfig, LimitsOverride};
use serde::{Deserialize, Serialize};

use crate::engine::transport::Timeouts;
use crate::engine::{OnStoreError, PolicyConfig};

pub mod app;
mod builder;
mod check;
mod embedded;
pub mod replicas;

/// A span in words, as a scenario file writes it: `5m`, `1h 30m`, `500ms`.
pub fn human(d: Duration) -> String {
    humantime_serde::re::humantime::format_duration(d).to_string()
}

pub use app::AppTarget;
pub use builder::ScenarioBuilder;
pub use embedded::{mock_config, mock_keys};
pub use replicas::{ColdStart, MAX_REPLICAS, Spread, StateKind};

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

/// The API under test: the model it is asked for, the day whose catalog applies, the plan,
/// and what receives the traffic ([`Upstream`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "TargetFile", into = "TargetFile")]
pub struct Target {
    /// Model requested.
    pub model: String,
    /// The day whose Groq catalog applies (`YYYY-MM-DD`): which models exist and their
    /// limits. Today (UTC) when absent.
    pub as_of: Option<jiff::civil::Date>,
    /// Groq's plan: the mock applies its limits; for a real endpoint, its published limits are
    /// shown for reference.
    pub tier: Tier,
    /// What receives the traffic.
    pub upstream: Upstream,
}

/// What receives the traffic: one variant per kind, each with exactly its settings.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// The embedded mock, through the engine.
    Mock {
        /// The mock's settings.
        mock: MockSettings,
        /// The client's network round trip, added to every attempt (in simulated and real
        /// time): a failover pays it once per failed key. 0 to 10 s.
        rtt: Duration,
    },
    /// A real endpoint (e.g. `https://api.groq.com`), through the engine; keys come from the
    /// environment. Real time only.
    Url {
        /// Its base URL.
        url: String,
        /// The round trip added to every attempt, on top of the real network's.
        rtt: Duration,
    },
    /// An app under test instead of the engine (`[target.app]`): keyrotor starts it in front
    /// of the embedded mock and drives traffic at it (see [`crate::drive::app`]). Real time only.
    App {
        /// The app.
        app: Box<crate::spec::scenario::AppTarget>,
        /// The mock it talks to.
        mock: MockSettings,
    },
}

/// The embedded mock's settings.
#[derive(Debug, Clone, Default)]
pub struct MockSettings {
    /// The limits of every organisation, replacing the catalog's where given.
    pub limits: Option<LimitsOverride>,
    /// The service-time model.
    pub latency: Option<LatencyConfig>,
    /// Completion lengths.
    pub completion: Option<CompletionConfig>,
    /// Faults injected (`org = "org_1"` names the second organisation).
    pub faults: Vec<Fault>,
    /// Events on the mock's clock.
    pub events: Vec<TargetEvent>,
}

impl MockSettings {
    /// Whether nothing is set: the catalog's limits, the default latency and completions, no
    /// fault, no event.
    pub fn is_default(&self) -> bool {
        self.limits.is_none()
            && self.latency.is_none()
            && self.completion.is_none()
            && self.faults.is_empty()
            && self.events.is_empty()
    }
}

/// `[target]` as written in a file: flat; [`Target`] is what it means.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    #[serde(default)]
    url: Option<String>,
    #[serde(default = "default_model")]
    model: String,
    #[serde(default)]
    as_of: Option<jiff::civil::Date>,
    #[serde(default)]
    tier: Tier,
    #[serde(default)]
    limits: Option<LimitsOverride>,
    #[serde(default)]
    latency: Option<LatencyConfig>,
    #[serde(default)]
    completion: Option<CompletionConfig>,
    #[serde(default)]
    faults: Vec<Fault>,
    #[serde(default)]
    events: Vec<TargetEvent>,
    #[serde(default, with = "humantime_serde")]
    rtt: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app: Option<crate::spec::scenario::AppTarget>,
}

impl TryFrom<TargetFile> for Target {
    type Error = String;
    fn try_from(f: TargetFile) -> Result<Self, String> {
        let mock = MockSettings {
            limits: f.limits,
            latency: f.latency,
            completion: f.completion,
            faults: f.faults,
            events: f.events,
        };
        let upstream = match (f.url, f.app) {
            (None, None) => Upstream::Mock { mock, rtt: f.rtt },
            (Some(_), Some(_)) => {
                return Err("an app under test talks to the embedded mock: drop `url`".to_owned());
            }
            (Some(url), None) => {
                if !mock.is_default() {
                    return Err("limits, latency, completion, faults and events are the embedded mock's: a target with `url` takes none".to_owned());
                }
                Upstream::Url { url, rtt: f.rtt }
            }
            (None, Some(app)) => {
                if !f.rtt.is_zero() {
                    return Err(
                        "`rtt` is added by the engine, which an app under test does not use"
                            .to_owned(),
                    );
                }
                Upstream::App {
                    app: Box::new(app),
                    mock,
                }
            }
        };
        Ok(Target {
            model: f.model,
            as_of: f.as_of,
            tier: f.tier,
            upstream,
        })
    }
}

impl From<Target> for TargetFile {
    fn from(t: Target) -> Self {
        let (url, app, rtt, mock) = match t.upstream {
            Upstream::Mock { mock, rtt } => (None, None, rtt, mock),
            Upstream::Url { url, rtt } => (Some(url), None, rtt, MockSettings::default()),
            Upstream::App { app, mock } => (None, Some(*app), Duration::ZERO, mock),
        };
        TargetFile {
            url,
            model: t.model,
            as_of: t.as_of,
            tier: t.tier,
            limits: mock.limits,
            latency: mock.latency,
            completion: mock.completion,
            faults: mock.faults,
            events: mock.events,
            rtt,
            app,
        }
    }
}

impl Default for Target {
    fn default() -> Self {
        Self {
            model: default_model(),
            as_of: None,
            tier: Tier::Free,
            upstream: Upstream::Mock {
                mock: MockSettings::default(),
                rtt: Duration::ZERO,
            },
        }
    }
}

fn default_model() -> String {
    mock_groq::catalog::RECOMMENDED.to_owned()
}

impl Target {
    /// The embedded mock's settings; `None` for a real endpoint.
    pub fn mock(&self) -> Option<&MockSettings> {
        match &self.upstream {
            Upstream::Mock { mock, .. } | Upstream::App { mock, .. } => Some(mock),
            Upstream::Url { .. } => None,
        }
    }

    /// A real endpoint's URL.
    pub fn url(&self) -> Option<&str> {
        match &self.upstream {
            Upstream::Url { url, .. } => Some(url),
            _ => None,
        }
    }

    /// The app under test.
    pub fn app(&self) -> Option<&crate::spec::scenario::AppTarget> {
        match &self.upstream {
            Upstream::App { app, .. } => Some(app),
            _ => None,
        }
    }

    /// The round trip added to every attempt (none for an app under test).
    pub fn rtt(&self) -> Duration {
        match &self.upstream {
            Upstream::Mock { rtt, .. } | Upstream::Url { rtt, .. } => *rtt,
            Upstream::App { .. } => Duration::ZERO,
        }
    }

    /// The mock's limits override (`None`: the catalog's, or a real endpoint).
    pub fn limits(&self) -> Option<LimitsOverride> {
        self.mock().and_then(|m| m.limits)
    }

    /// The mock's events (none for a real endpoint).
    pub fn events(&self) -> &[TargetEvent] {
        self.mock().map_or(&[], |m| &m.events)
    }

    /// The mock's faults (none for a real endpoint).
    pub fn faults(&self) -> &[Fault] {
        self.mock().map_or(&[], |m| &m.faults)
    }

    /// The day whose catalog applies: `as_of`, or today (UTC).
    pub fn as_of(&self) -> jiff::civil::Date {
        self.as_of.unwrap_or_else(mock_groq::catalog::today)
    }

    /// Whether Groq serves the model on [`Target::as_of`], in words ("served",
    /// "decommissioned on 2026-08-16 (Groq's replacement: openai/gpt-oss-120b)").
    pub fn model_status(&self) -> String {
        mock_groq::catalog::find(&self.model).map_or_else(
            || "not in the catalog".to_owned(),
            |i| {
                mock_groq::catalog::MODELS[i]
                    .availability(self.as_of())
                    .to_string()
            },
        )
    }
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
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
    /// Engine instances the traffic is spread over (1 to 64): app replicas, proxy replicas,
    /// serverless instances, each with its own rotor.
    #[serde(default = "one_replica", skip_serializing_if = "is_one_replica")]
    pub replicas: u32,
    /// Where replicas keep key state: `local` (each its own), `memory` (one store shared in
    /// this process; simulated time works) or `redis` (one store on Redis; real time).
    #[serde(default, skip_serializing_if = "is_local")]
    pub state: StateKind,
    /// With `state = "redis"`: the server as `redis://host:port[/db]` or
    /// `redis+unix:///path` (its Unix socket), or `env:NAME` to read
    /// a URL with a password from the environment. Without it keyrotor starts
    /// `redis-server` on loopback for the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
    /// How requests are spread over replicas: `round-robin` or `random`.
    #[serde(default, skip_serializing_if = "is_round_robin")]
    pub spread: Spread,
    /// A replica loses its state (a serverless cold start) after `"N requests"` or a time
    /// (`"30s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<ColdStart>,
    /// With shared state, what a replica does when the store fails: `fail-open` (serve from
    /// its own state) or `fail-closed` (refuse).
    #[serde(default, skip_serializing_if = "is_fail_open")]
    pub on_state_error: OnStoreError,
}

fn one_replica() -> u32 {
    1
}
fn is_one_replica(n: &u32) -> bool {
    *n == 1
}
fn is_local(s: &StateKind) -> bool {
    *s == StateKind::Local
}
fn is_round_robin(s: &Spread) -> bool {
    *s == Spread::RoundRobin
}
fn is_fail_open(s: &OnStoreError) -> bool {
    *s == OnStoreError::FailOpen
}

impl Default for Engine {
    fn default() -> Self {
        Self {
            policy: PolicySpec::default(),
            connect_timeout: default_connect(),
            request_timeout: default_request(),
            deadline: default_deadline(),
            replicas: 1,
            state: StateKind::Local,
            redis_url: None,
            spread: Spread::RoundRobin,
            cold_start: None,
            on_state_error: OnStoreError::FailOpen,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    type Error = crate::engine::policy::PolicyError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
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
    type Err = crate::engine::policy::PolicyError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::try_from(text.to_owned())
    }
}

/// The traffic: how requests arrive ([`Shape`]), for how long, and what each one asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TrafficFile", into = "TrafficFile")]
pub struct Traffic {
    /// How requests arrive.
    pub shape: Shape,
    /// How long requests are sent.
    pub duration: Option<Duration>,
    /// How many requests at most.
    pub requests: Option<Count>,
    /// Prompt tokens per request.
    pub prompt_tokens: Tokens,
    /// `max_tokens` per request.
    pub completion_tokens: Tokens,
    /// Ask for streamed answers, read event by event: the report adds time to first token,
    /// inter-token latency and output tokens per second ([`crate::measure::streaming`]).
    pub stream: bool,
    /// Time-series interval.
    pub interval: Duration,
    /// How long a user waits for an answer: goodput counts the requests answered within it,
    /// from their intended send; a budget-aware policy (adaptive) plans its waits by it.
    pub latency_budget: Duration,
}

/// How requests arrive: one variant per kind, each with exactly the fields it needs (rates in
/// requests per minute), so a closed loop with a rate or a spike without its length cannot be
/// written.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Evenly spaced at `rate`.
    Constant {
        /// Requests per minute.
        rate: Rate,
    },
    /// Poisson at `rate`.
    Poisson {
        /// Requests per minute.
        rate: Rate,
    },
    /// From `rate` to `peak` linearly over the duration.
    Ramp {
        /// At the start.
        rate: Rate,
        /// At the end.
        peak: Rate,
    },
    /// `rate`, then `peak` from `change_at`.
    Step {
        /// Before the step.
        rate: Rate,
        /// From the step on.
        peak: Rate,
        /// When the step comes.
        change_at: Duration,
    },
    /// `rate`, with `peak` from `change_at` for `spike_for`.
    Spike {
        /// Outside the spike.
        rate: Rate,
        /// During the spike.
        peak: Rate,
        /// When the spike starts.
        change_at: Duration,
        /// How long it lasts.
        spike_for: Duration,
    },
    /// Poisson at `rate` × the step's weight ÷ the mean weight, each weight lasting `step`
    /// (repeating after the last).
    Profile {
        /// The mean rate.
        rate: Rate,
        /// Relative weight of each step.
        weights: Vec<f64>,
        /// How long each weight lasts.
        step: Duration,
    },
    /// `users` each sending, waiting for the answer, thinking `think`, and again (users start
    /// spread over one think time).
    Closed {
        /// Concurrent users.
        users: Count,
        /// Pause between a user's answer and its next request.
        think: Duration,
    },
}

impl Traffic {
    /// The offered load in words, units included: `Poisson arrivals at 150 req/min (2.5
    /// req/s) for 10m`, `a closed loop of 20 users (think 1s) for 5m, at most 500 requests`.
    pub fn describe(&self) -> String {
        let rate = |r: &Rate| format!("{} req/min ({} req/s)", r.words(), round(r.0 / 60.0));
        let mut text = match &self.shape {
            Shape::Constant { rate: r } => format!("evenly spaced arrivals at {}", rate(r)),
            Shape::Poisson { rate: r } => format!("Poisson arrivals at {}", rate(r)),
            Shape::Ramp { rate: r, peak } => {
                format!("arrivals ramping from {} to {}", rate(r), rate(peak))
            }
            Shape::Step {
                rate: r,
                peak,
                change_at,
            } => format!(
                "arrivals at {}, then {} from {}",
                rate(r),
                rate(peak),
                human(*change_at)
            ),
            Shape::Spike {
                rate: r,
                peak,
                change_at,
                spike_for,
            } => format!(
                "arrivals at {}, with a spike to {} at {} for {}",
                rate(r),
                rate(peak),
                human(*change_at),
                human(*spike_for)
            ),
            Shape::Profile { rate: r, step, .. } => format!(
                "Poisson arrivals averaging {}, weighted per {} step",
                rate(r),
                human(*step)
            ),
            Shape::Closed { users, think } => format!(
                "a closed loop of {} (think {})",
                plural(users.0 as u64, "user", "users"),
                human(*think)
            ),
        };
        if let Some(d) = self.duration {
            text.push_str(&format!(" for {}", human(d)));
        }
        if let Some(n) = self.requests {
            text.push_str(&format!(
                ", at most {}",
                plural(n.0 as u64, "request", "requests")
            ));
        }
        text
    }
}

/// `n` with its noun, singular or plural: `1 key`, `3 keys`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A rate for people: at most 3 significant decimals, no trailing zeros.
fn round(v: f64) -> String {
    let text = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

impl Shape {
    /// The kind of arrivals, as `arrival` names it in a file.
    pub fn arrival(&self) -> Arrival {
        match self {
            Shape::Constant { .. } => Arrival::Constant,
            Shape::Poisson { .. } => Arrival::Poisson,
            Shape::Ramp { .. } => Arrival::Ramp,
            Shape::Step { .. } => Arrival::Step,
            Shape::Spike { .. } => Arrival::Spike,
            Shape::Profile { .. } => Arrival::Profile,
            Shape::Closed { .. } => Arrival::Closed,
        }
    }

    /// The (starting) rate of an open loop, requests per minute; `None` for a closed loop.
    pub fn rate(&self) -> Option<f64> {
        match self {
            Shape::Constant { rate }
            | Shape::Poisson { rate }
            | Shape::Ramp { rate, .. }
            | Shape::Step { rate, .. }
            | Shape::Spike { rate, .. }
            | Shape::Profile { rate, .. } => Some(rate.0),
            Shape::Closed { .. } => None,
        }
    }

    /// The other rate of a ramp, step or spike, requests per minute.
    pub fn peak(&self) -> Option<f64> {
        match self {
            Shape::Ramp { peak, .. } | Shape::Step { peak, .. } | Shape::Spike { peak, .. } => {
                Some(peak.0)
            }
            _ => None,
        }
    }
}

/// `[traffic]` as written in a file: flat, in load testers' words; [`Traffic`] is what it
/// means, each kind of arrivals with exactly its fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficFile {
    /// How requests arrive.
    arrival: Arrival,
    /// Requests per minute (open-loop arrivals; the starting rate of ramp, step and spike).
    #[serde(default)]
    rate: Option<Rate>,
    /// Requests per minute at the end of a ramp, after a step, or during a spike.
    #[serde(default)]
    peak: Option<Rate>,
    /// When a step or spike starts.
    #[serde(default, with = "humantime_serde")]
    change_at: Option<Duration>,
    /// How long a spike lasts.
    #[serde(default, with = "humantime_serde")]
    spike_for: Option<Duration>,
    /// Closed loop: concurrent users.
    #[serde(default)]
    users: Option<Count>,
    /// Closed loop: pause between a user's answer and its next request.
    #[serde(default, with = "humantime_serde")]
    think: Option<Duration>,
    /// How long requests are sent.
    #[serde(default, with = "humantime_serde")]
    duration: Option<Duration>,
    /// How many requests at most.
    #[serde(default)]
    requests: Option<Count>,
    /// Prompt tokens per request.
    #[serde(default = "default_prompt")]
    prompt_tokens: Tokens,
    /// `max_tokens` per request.
    #[serde(default = "default_completion")]
    completion_tokens: Tokens,
    /// Ask for streamed answers, read event by event: the report adds time to first token,
    /// inter-token latency and output tokens per second ([`crate::measure::streaming`]).
    #[serde(default)]
    stream: bool,
    /// Time-series interval.
    #[serde(default = "default_interval", with = "humantime_serde")]
    interval: Duration,
    /// How long a user waits for an answer: goodput counts the requests answered within it,
    /// from their intended send; a budget-aware policy (adaptive) plans its waits by it.
    #[serde(default = "default_latency_budget", with = "humantime_serde")]
    latency_budget: Duration,
    /// With `arrival = "profile"`: relative weight of each step (repeats after the last).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    profile: Vec<f64>,
    /// How long each weight of `profile` lasts: a whole divisor of an hour (`10m` for a
    /// keynote's spike, `1m` for waves) or a whole number of hours dividing a day. 1 h by
    /// default.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    profile_step: Option<Duration>,
}

impl TrafficFile {
    /// How the file's `arrival` names its kind, e.g. `arrival = "poisson"`.
    fn kind(&self) -> String {
        format!("arrival = \"{}\"", serde_plain_name(self.arrival))
    }

    /// The arrival shape, with the fields its kind needs.
    fn shape(&self) -> Result<Shape, String> {
        let kind = self.kind();
        let need = |value: Option<Rate>, field: &str| {
            value.ok_or_else(|| format!("{kind} needs `{field}` (requests per minute)"))
        };
        let at = |value: Option<Duration>, field: &str| {
            value.ok_or_else(|| format!("{kind} needs `{field}`"))
        };
        Ok(match self.arrival {
            Arrival::Constant => Shape::Constant {
                rate: need(self.rate, "rate")?,
            },
            Arrival::Poisson => Shape::Poisson {
                rate: need(self.rate, "rate")?,
            },
            Arrival::Ramp => Shape::Ramp {
                rate: need(self.rate, "rate")?,
                peak: need(self.peak, "peak")?,
            },
            Arrival::Step => Shape::Step {
                rate: need(self.rate, "rate")?,
                peak: need(self.peak, "peak")?,
                change_at: at(self.change_at, "change_at")?,
            },
            Arrival::Spike => Shape::Spike {
                rate: need(self.rate, "rate")?,
                peak: need(self.peak, "peak")?,
                change_at: at(self.change_at, "change_at")?,
                spike_for: at(self.spike_for, "spike_for")?,
            },
            Arrival::Profile => Shape::Profile {
                rate: need(self.rate, "rate")?,
                weights: self.profile.clone(),
                step: self.profile_step.unwrap_or_else(default_profile_step),
            },
            Arrival::Closed => Shape::Closed {
                users: self.users.ok_or_else(|| format!("{kind} needs `users`"))?,
                think: self.think.unwrap_or_default(),
            },
        })
    }

    /// The first field set in the file that `shape` does not use.
    fn stray_field(&self, shape: &Shape) -> Option<&'static str> {
        let closed = matches!(shape, Shape::Closed { .. });
        let profile = matches!(shape, Shape::Profile { .. });
        let spike = matches!(shape, Shape::Spike { .. });
        let changes = spike || matches!(shape, Shape::Step { .. });
        let stray = [
            ("rate", self.rate.is_some() && shape.rate().is_none()),
            ("peak", self.peak.is_some() && shape.peak().is_none()),
            ("change_at", self.change_at.is_some() && !changes),
            ("spike_for", self.spike_for.is_some() && !spike),
            ("users", self.users.is_some() && !closed),
            ("think", self.think.is_some() && !closed),
            ("profile", !self.profile.is_empty() && !profile),
            ("profile_step", self.profile_step.is_some() && !profile),
        ];
        stray
            .iter()
            .find(|(_, stray)| *stray)
            .map(|(field, _)| *field)
    }
}

impl TryFrom<TrafficFile> for Traffic {
    type Error = String;
    fn try_from(f: TrafficFile) -> Result<Self, String> {
        let shape = f.shape()?;
        if let Some(field) = f.stray_field(&shape) {
            return Err(format!("`{field}` does not go with {}", f.kind()));
        }
        Ok(Traffic {
            shape,
            duration: f.duration,
            requests: f.requests,
            prompt_tokens: f.prompt_tokens,
            completion_tokens: f.completion_tokens,
            stream: f.stream,
            interval: f.interval,
            latency_budget: f.latency_budget,
        })
    }
}

/// An arrival kind as a file names it.
fn serde_plain_name(arrival: Arrival) -> String {
    serde_json::to_value(arrival)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<Traffic> for TrafficFile {
    fn from(t: Traffic) -> Self {
        let arrival = t.shape.arrival();
        let (rate, peak) = (t.shape.rate().map(Rate), t.shape.peak().map(Rate));
        let (mut change_at, mut spike_for, mut users, mut think) = (None, None, None, None);
        let (mut profile, mut profile_step) = (Vec::new(), None);
        match t.shape {
            Shape::Step { change_at: c, .. } => change_at = Some(c),
            Shape::Spike {
                change_at: c,
                spike_for: s,
                ..
            } => (change_at, spike_for) = (Some(c), Some(s)),
            Shape::Profile { weights, step, .. } => (profile, profile_step) = (weights, Some(step)),
            Shape::Closed {
                users: u,
                think: th,
            } => (users, think) = (Some(u), (!th.is_zero()).then_some(th)),
            _ => {}
        }
        TrafficFile {
            arrival,
            rate,
            peak,
            change_at,
            spike_for,
            users,
            think,
            duration: t.duration,
            requests: t.requests,
            prompt_tokens: t.prompt_tokens,
            completion_tokens: t.completion_tokens,
            stream: t.stream,
            interval: t.interval,
            latency_budget: t.latency_budget,
            profile,
            profile_step,
        }
    }
}

fn default_profile_step() -> Duration {
    Duration::from_secs(3600)
}

/// Whether `step` can be a profile's step: it divides an hour into whole seconds, or is a
/// whole number of hours that divides a day (so busiest-hour and busiest-day windows start
/// on step boundaries).
pub fn profile_step_ok(step: Duration) -> bool {
    let s = step.as_secs();
    step.subsec_nanos() == 0
        && s > 0
        && (3600u64.is_multiple_of(s) || (s.is_multiple_of(3600) && 86_400u64.is_multiple_of(s)))
}

fn default_prompt() -> Tokens {
    Tokens::Fixed(200)
}
fn default_completion() -> Tokens {
    Tokens::Fixed(200)
}
fn default_latency_budget() -> Duration {
    Duration::from_secs(5)
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
    /// Poisson at `rate` × the step's weight in `profile` ÷ the mean weight (an hourly
    /// shape by default; `profile_step` for finer ones).
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

/// A positive rate in requests per minute. A file writes it as a number (per minute) or
/// with its unit, as the command line does: `"150/min"`, `"2.5/s"`, `"9000/h"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "f64")]
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

impl Rate {
    /// The rate per minute for people: at most 3 significant decimals, no trailing zeros.
    pub fn words(self) -> String {
        round(self.0)
    }
}

impl std::str::FromStr for Rate {
    type Err = String;
    /// `150/min`, `2.5/s`, `9000/h`, or a bare number (per minute); finite and above zero.
    fn from_str(text: &str) -> Result<Self, String> {
        let (number, per) = match text.split_once('/') {
            Some((n, unit)) => (n.trim(), unit.trim()),
            None => (text.trim(), "min"),
        };
        let per_minute = match per {
            "s" | "sec" | "second" => 60.0,
            "m" | "min" | "minute" => 1.0,
            "h" | "hour" => 1.0 / 60.0,
            other => return Err(format!("unknown unit `/{other}`: use /s, /min or /h")),
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{number}` is not a number"))?;
        let rate = value * per_minute;
        if rate.is_finite() && rate > 0.0 {
            Ok(Rate(rate))
        } else {
            Err(format!("a rate must be above zero, got {text}"))
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Rate;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("requests per minute (a number) or a rate with its unit (\"2.5/s\")")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Rate, E> {
                Rate::try_from(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Rate, E> {
                Rate::try_from(v as f64).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Rate, E> {
                Rate::try_from(v as f64).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Rate, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visit)
    }
}

impl From<Rate> for f64 {
    fn from(r: Rate) -> f64 {
        r.0
    }
}

/// A value outside its documented range or fields that do not go together: which field
/// (`section.key`, as in the file) and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The field, e.g. `traffic.rate`.
    pub field: String,
    /// What is wrong, with the valid range.
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

/// The documented ranges of a scenario's numbers (docs/scenarios.md, "What keyrotor guarantees").
pub mod limits {
    use std::time::Duration;

    /// Keys per scenario: as many as a rotor takes ([`crate::engine::MAX_KEYS`]).
    pub const KEYS: usize = crate::engine::MAX_KEYS;
    /// Closed-loop users.
    pub const USERS: usize = 100_000;
    /// Requests per run.
    pub const REQUESTS: usize = 1_000_000_000;
    /// Requests per minute, smallest and largest (`rate`, `peak`).
    pub const RATE: (f64, f64) = (0.001, 10_000_000.0);
    /// Longest run, and longest time on the run's clock (`change_at`, events, faults).
    pub const DURATION: Duration = Duration::from_secs(30 * 86_400);
    /// Tokens per request (prompt or completion): a model's context is far smaller.
    pub const TOKENS: u64 = 1_000_000;
    /// Hours in a profile, and the largest weight of one.
    pub const PROFILE: (usize, f64) = (10_000, 1e6);
    /// Longest attempt timeout and request deadline.
    pub const TIMEOUT: Duration = Duration::from_secs(3_600);
    /// Time-series buckets per run (`duration ÷ interval`).
    pub const BUCKETS: u128 = 100_000;
    /// Time-series buckets × keys (each bucket counts attempts per key): 80 MB at most.
    pub const SERIES_CELLS: u128 = 10_000_000;
}

impl Scenario {
    /// Reads and validates a scenario file; errors name the file, line and field.
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

    /// Parses and validates scenario text; a range error names the line of its field.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario
            .check()
            .map_err(|invalid| at_line(text, &invalid))?;
        Ok(scenario)
    }

    /// Reads and parses a scenario file without checking what goes together, for flags to
    /// change it first (`--real` over a file with `state = "redis"`); the caller builds the
    /// result, which checks it, and names the line of a field with [`at_line`] and the text
    /// returned here.
    pub fn read_unchecked(path: &Path) -> Result<(Self, String), ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let scenario = toml::from_str(&text).map_err(|e| ScenarioError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok((scenario, text))
    }

    /// Checks what parsing cannot: ranges and fields that go together.
    pub fn validate(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }

    /// A hash (FNV-1a, 16 hex digits) of the settings that shape what a run measures: all
    /// but the description, the thresholds and the mode (which reports state on their own).
    pub fn hash(&self) -> String {
        let mut settings = self.clone();
        settings.description.clear();
        settings.thresholds.clear();
        settings.mode = Mode::Sim;
        let text = serde_json::to_string(&settings).unwrap_or_default();
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }
}

/// `invalid` with the line of its field in the scenario file's `text`, when it is there.
pub fn at_line(text: &str, invalid: &Invalid) -> String {
    match locate(text, &invalid.field) {
        Some(line) => format!("line {line}, {invalid}"),
        None => invalid.to_string(),
    }
}

/// The line of `field` (`section.key`, or `key` at the top) in TOML `text`: the key's own
/// line, else its section's header. For error messages only.
fn locate(text: &str, field: &str) -> Option<usize> {
    let (section, key) = field.rsplit_once('.').unwrap_or(("", field));
    let mut current = String::new();
    let mut header = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            if current == section && header.is_none() {
                header = Some(i + 1);
            }
            continue;
        }
        let named = line
            .split_once('=')
            .is_some_and(|(name, _)| name.trim().trim_matches('"') == key);
        if current == section && named {
            return Some(i + 1);
        }
    }
    header
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

    /// Each hostile number is refused while parsing, with its line, its field and the range.
    #[test]
    fn numbers_out_of_range_name_line_field_and_range() {
        let profile = "arrival = \"profile\"\nrate = 60\nprofile = [1e308, 1e308]";
        for (edit, line, field, needle) in [
            (
                ("duration = \"1m\"", "duration = \"0s\""),
                8,
                "traffic.duration",
                "between",
            ),
            (
                ("count = 3", "count = 100000"),
                4,
                "keys.count",
                "from 1 to 128",
            ),
            (
                (
                    "count = 3",
                    "count = 3\nlayout = \"explicit\"\norgs = [0, 1000000, 1]",
                ),
                6,
                "keys.orgs",
                "from 0 to 2",
            ),
            (
                ("rate = 60", "rate = 1e-300"),
                7,
                "traffic.rate",
                "between 0.001",
            ),
            (
                ("rate = 60", "rate = 1e12"),
                7,
                "traffic.rate",
                "between 0.001",
            ),
            (
                ("arrival = \"constant\"\nrate = 60", profile),
                8,
                "traffic.profile",
                "between 0",
            ),
            (
                (
                    "rate = 60",
                    "rate = 60\nprompt_tokens = 9223372036854775807",
                ),
                8,
                "traffic.prompt_tokens",
                "between 1 and 1000000",
            ),
            (
                (
                    "rate = 60",
                    "rate = 60\ncompletion_tokens = { mean = 1e308, sd = 1e308 }",
                ),
                8,
                "traffic.completion_tokens",
                "between 1",
            ),
            (
                ("rate = 60", "rate = 60\ninterval = \"1ms\""),
                8,
                "traffic.interval",
                "between",
            ),
        ] {
            let text = MINIMAL.replace(edit.0, edit.1);
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains(&format!("line {line}"))
                    && err.contains(field)
                    && err.contains(needle),
                "{edit:?}: {err}"
            );
        }
        for engine in [
            "connect_timeout = \"0s\"",
            "request_timeout = \"0s\"",
            "deadline = \"0s\"",
            "policy = \"cooldown:max_attempts=0\"",
            "policy = \"error-threshold:threshold=0\"",
            "policy = \"daily-exhaust:max_switches=0\"",
            "policy = \"daily-exhaust:backoff_base=0s\"",
            "policy = \"adaptive:max_wait=1000y\"",
            "policy = \"round-robin:cooldown=5s\"",
        ] {
            let text = format!("{MINIMAL}[engine]\n{engine}\n");
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(err.contains("line 10"), "{engine}: {err}");
        }
        for bound in ["< nan", "< inf", ">= -inf"] {
            let text = format!("{MINIMAL}[thresholds]\nsuccess_rate = \"{bound}\"\n");
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains("line 10") && err.contains("finite"),
                "{bound}: {err}"
            );
        }
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
        // What cannot be written: each kind of arrivals and of target takes only its fields,
        // and the error names the one that does not belong, on the table's line.
        for (edit, needle) in [
            (
                ("rate = 60", "rate = 60\nusers = 4"),
                "`users` does not go with",
            ),
            (
                ("arrival = \"constant\"", "arrival = \"closed\"\nusers = 4"),
                "`rate` does not go with arrival = \"closed\"",
            ),
            (
                ("rate = 60", "rate = 60\nspike_for = \"1m\""),
                "`spike_for`",
            ),
            (("rate = 60", "rate = 60\nprofile = [1, 2]"), "`profile`"),
            (
                (
                    "[keys]",
                    "mode = \"real\"\n[target]\nurl = \"https://x\"\nlimits = { rpm = 1 }\n[keys]",
                ),
                "the embedded mock's",
            ),
        ] {
            let text = MINIMAL.replace(edit.0, edit.1);
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains(needle) && err.contains("line"),
                "{edit:?}: {err}"
            );
        }
        // A file's traffic and target read back as they were written.
        let spike = MINIMAL.replace(
            "arrival = \"constant\"",
            "arrival = \"spike\"\npeak = 120\nchange_at = \"10s\"\nspike_for = \"20s\"",
        );
        let read = Scenario::from_toml(&spike).unwrap_or_else(|e| panic!("{e}"));
        let again = toml::to_string(&read).unwrap_or_else(|e| panic!("{e}"));
        let reread = Scenario::from_toml(&again).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.traffic, reread.traffic);
        assert_eq!(read.hash(), reread.hash());
    }

    #[test]
    fn thresholds_parse_and_judge() {
        let t = Threshold::try_from(">= 0.999".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.holds(0.999) && !t.holds(0.99));
        let t = Threshold::try_from("<200".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.holds(199.0) && !t.holds(200.0));
        // One vocabulary: `upstream_429` as in the report; the older `upstream429` reads.
        for name in ["upstream_429", "upstream429"] {
            let text = format!(
                "name = \"t\"\n[keys]\ncount = 1\n[traffic]\narrival = \"poisson\"\nrate = 10\nduration = \"1m\"\n[thresholds]\n{name} = \"< 5\"\n"
            );
            let s = Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.thresholds.contains_key(&Metric::Upstream429));
        }
        assert_eq!(Metric::Upstream429.name(), "upstream_429");
    }
}
