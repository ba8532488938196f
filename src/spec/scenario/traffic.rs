//! `[traffic]`: how requests arrive, for how long, and what each one asks.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Count, human, plural};
use crate::spec::trace::{Columns, Trace};

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
    /// The requests of a trace, each at its own offset and with its own sizes.
    Trace(Trace),
}

impl Traffic {
    /// Reads the traces that request sizes are drawn from (`{ trace = "…" }`), once; errors
    /// name the file, line and column. `run` calls it before driving.
    pub fn load_sizes(&self) -> Result<(), crate::spec::trace::TraceError> {
        use crate::spec::trace::Side;
        for (tokens, side) in [
            (&self.prompt_tokens, Side::Prompt),
            (&self.completion_tokens, Side::Completion),
        ] {
            if let Tokens::Trace(sample) = tokens {
                sample.load(side)?;
            }
        }
        Ok(())
    }

    /// The request sizes in words, when drawn from a trace (other distributions are in the
    /// scenario as written): `prompt tokens drawn from 1,234 sizes of f.csv (median …)`.
    pub fn sizes_drawn(&self) -> Option<String> {
        let words: Vec<String> = [
            ("prompt tokens", &self.prompt_tokens),
            ("max_tokens", &self.completion_tokens),
        ]
        .into_iter()
        .filter_map(|(name, tokens)| match tokens {
            Tokens::Trace(sample) => Some(format!("{name} {}", sample.describe())),
            _ => None,
        })
        .collect();
        (!words.is_empty()).then(|| words.join("; "))
    }

    /// The trace the requests come from, if they do.
    pub fn trace(&self) -> Option<&Trace> {
        match &self.shape {
            Shape::Trace(trace) => Some(trace),
            _ => None,
        }
    }

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
            Shape::Trace(trace) => {
                let mut words = format!("the requests of trace {}", trace.path.display());
                if trace.scale != 1.0 {
                    words.push_str(&format!(", each row {}×", round(trace.scale)));
                }
                if trace.speed != 1.0 {
                    words.push_str(&format!(", at {}× speed", round(trace.speed)));
                }
                words
            }
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
            Shape::Trace(_) => Arrival::Trace,
        }
    }

    /// The (starting) rate of arrivals from a formula, requests per minute; `None` for a
    /// closed loop or a trace.
    pub fn rate(&self) -> Option<f64> {
        match self {
            Shape::Constant { rate }
            | Shape::Poisson { rate }
            | Shape::Ramp { rate, .. }
            | Shape::Step { rate, .. }
            | Shape::Spike { rate, .. }
            | Shape::Profile { rate, .. } => Some(rate.0),
            Shape::Closed { .. } | Shape::Trace(_) => None,
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
    /// With `arrival = "trace"`: the trace file (CSV or JSON Lines), relative to the scenario
    /// file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace: Option<std::path::PathBuf>,
    /// With `arrival = "trace"`: replay N× faster (0.001 to 1,000; 1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    speed: Option<f64>,
    /// With `arrival = "trace"`: N× the users, each row replayed N times (0.001 to 1,000;
    /// 1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale: Option<f64>,
    /// With `arrival = "trace"`: which column holds each field, when not its own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace_columns: Option<Columns>,
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
            Arrival::Trace => Shape::Trace(Trace {
                path: self
                    .trace
                    .clone()
                    .ok_or_else(|| format!("{kind} needs `trace` (the file)"))?,
                speed: self.speed.unwrap_or(1.0),
                scale: self.scale.unwrap_or(1.0),
                columns: self.trace_columns.clone().unwrap_or_default(),
            }),
        })
    }

    /// The first field set in the file that `shape` does not use.
    fn stray_field(&self, shape: &Shape) -> Option<&'static str> {
        let closed = matches!(shape, Shape::Closed { .. });
        let profile = matches!(shape, Shape::Profile { .. });
        let spike = matches!(shape, Shape::Spike { .. });
        let changes = spike || matches!(shape, Shape::Step { .. });
        let trace = matches!(shape, Shape::Trace(_));
        let stray = [
            ("rate", self.rate.is_some() && shape.rate().is_none()),
            ("peak", self.peak.is_some() && shape.peak().is_none()),
            ("change_at", self.change_at.is_some() && !changes),
            ("spike_for", self.spike_for.is_some() && !spike),
            ("users", self.users.is_some() && !closed),
            ("think", self.think.is_some() && !closed),
            ("profile", !self.profile.is_empty() && !profile),
            ("profile_step", self.profile_step.is_some() && !profile),
            ("trace", self.trace.is_some() && !trace),
            ("speed", self.speed.is_some() && !trace),
            ("scale", self.scale.is_some() && !trace),
            ("trace_columns", self.trace_columns.is_some() && !trace),
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
        let (mut trace, mut speed, mut scale, mut trace_columns) = (None, None, None, None);
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
            Shape::Trace(t) => {
                speed = (t.speed != 1.0).then_some(t.speed);
                scale = (t.scale != 1.0).then_some(t.scale);
                trace_columns = (t.columns != Columns::default()).then_some(t.columns);
                trace = Some(t.path);
            }
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
            trace,
            speed,
            scale,
            trace_columns,
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

pub(super) fn default_prompt() -> Tokens {
    Tokens::Fixed(200)
}
pub(super) fn default_completion() -> Tokens {
    Tokens::Fixed(200)
}
pub(super) fn default_latency_budget() -> Duration {
    Duration::from_secs(5)
}
pub(super) fn default_interval() -> Duration {
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
    /// The requests of the file `trace`, each at its offset (÷ `speed`), with its sizes.
    Trace,
}

/// A token count distribution: a number, `{ min, max }` (uniform), `{ mean, sd }` (normal,
/// cut at 1) or `{ trace = "file.csv" }` (the sizes an app really sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
#[serde(try_from = "TokensFile")]
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
    /// The sizes of a trace, drawn uniformly ([`crate::spec::trace::Sample`]).
    Trace(Box<crate::spec::trace::Sample>),
}

/// A token count as a file may write it, read leniently so that what is wrong can be said
/// (a negative count, a string) rather than "matched no variant".
#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum TokensFile {
    Fixed(i64),
    Uniform {
        min: i64,
        max: i64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    Trace {
        trace: std::path::PathBuf,
        #[serde(default)]
        column: Option<String>,
    },
    Other(serde::de::IgnoredAny),
}

impl TryFrom<TokensFile> for Tokens {
    type Error = String;
    fn try_from(file: TokensFile) -> Result<Self, String> {
        let count = |n: i64, what: &str| {
            u64::try_from(n)
                .map_err(|_| format!("a token count is a whole number ≥ 0; {what} is {n}"))
        };
        match file {
            TokensFile::Fixed(n) => Ok(Tokens::Fixed(count(n, "it")?)),
            TokensFile::Uniform { min, max } => Ok(Tokens::Uniform {
                min: count(min, "min")?,
                max: count(max, "max")?,
            }),
            TokensFile::Normal { mean, sd } => Ok(Tokens::Normal { mean, sd }),
            TokensFile::Trace { trace, column } => Ok(Tokens::Trace(Box::new(
                crate::spec::trace::Sample::new(trace, column),
            ))),
            TokensFile::Other(_) => Err(
                "a token count is a whole number (200), { min = 100, max = 300 }, { mean = 200, sd = 50 } or { trace = \"file.csv\" }"
                    .to_owned(),
            ),
        }
    }
}

impl Tokens {
    /// The mean of the distribution (of a trace's sizes: once read, NaN before).
    pub fn mean(&self) -> f64 {
        match self {
            Tokens::Fixed(v) => *v as f64,
            Tokens::Uniform { min, max } => (min + max) as f64 / 2.0,
            Tokens::Normal { mean, .. } => *mean,
            Tokens::Trace(sample) => sample.mean().unwrap_or(f64::NAN),
        }
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
