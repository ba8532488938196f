//! The one way to build a scenario in code: start from the defaults (or a scenario), set what
//! differs, and [`ScenarioBuilder::build`] checks the whole as a file would be checked (the
//! traffic's [`Shape`] already rules out a closed loop with a rate or a ramp without its
//! peak).
//!
//! ```
//! use keyrotor::spec::scenario::{Layout, Scenario};
//! use std::time::Duration;
//!
//! let scenario = Scenario::builder("five-keys")
//!     .keys(5)
//!     .layout(Layout::Separate)
//!     .poisson(150.0)
//!     .duration(Duration::from_secs(600))
//!     .build()?;
//! assert_eq!(scenario.keys.count.0, 5);
//! // A variant of it: the same with 10 keys at 300 req/min.
//! let bigger = scenario.to_builder().keys(10).rate(300.0).build()?;
//! assert_eq!(bigger.traffic.shape.rate(), Some(300.0));
//! # Ok::<(), keyrotor::spec::scenario::Invalid>(())
//! ```

use std::time::Duration;

use mock_groq::catalog::Tier;
use mock_groq::config::{CompletionConfig, LimitsOverride};

use super::{
    Count, Engine, Invalid, Keys, Layout, MockSettings, Mode, PolicySpec, Rate, Scenario, Shape,
    Target, TargetEvent, Tokens, Traffic, Upstream,
};
use crate::spec::scenario::ColdStart;
use crate::spec::scenario::StateKind;
use crate::spec::trace::Trace;

/// A scenario being built; see the [module](self) docs.
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    scenario: Scenario,
    /// A setting that does not fit the target (a mock's on a real endpoint): `build` says so.
    misfit: Option<Invalid>,
}

impl Scenario {
    /// A builder named `name`, from the defaults: simulated, seed 0, the embedded mock with
    /// today's catalog and its default model, one key, the default policy, Poisson 60 req/min
    /// for one minute.
    pub fn builder(name: &str) -> ScenarioBuilder {
        ScenarioBuilder {
            misfit: None,
            scenario: Scenario {
                name: name.to_owned(),
                description: String::new(),
                mode: Mode::Sim,
                seed: 0,
                target: Target::default(),
                keys: Keys {
                    count: Count(1),
                    layout: Layout::Separate,
                    orgs: Vec::new(),
                },
                engine: Engine::default(),
                traffic: Traffic::poisson(60.0, Duration::from_secs(60)),
                thresholds: Default::default(),
            },
        }
    }

    /// A builder starting from this scenario: for variants of it.
    pub fn to_builder(&self) -> ScenarioBuilder {
        ScenarioBuilder {
            scenario: self.clone(),
            misfit: None,
        }
    }
}

impl Traffic {
    /// Poisson arrivals at `rpm` for `span`, with the default tokens, interval and budget.
    fn poisson(rpm: f64, span: Duration) -> Self {
        Traffic {
            shape: Shape::Poisson { rate: Rate(rpm) },
            duration: Some(span),
            requests: None,
            prompt_tokens: super::traffic::default_prompt(),
            completion_tokens: super::traffic::default_completion(),
            stream: false,
            interval: super::traffic::default_interval(),
            latency_budget: super::traffic::default_latency_budget(),
        }
    }
}

impl ScenarioBuilder {
    /// Checks the scenario as a file would be checked and returns it.
    pub fn build(self) -> Result<Scenario, Invalid> {
        if let Some(misfit) = self.misfit {
            return Err(misfit);
        }
        self.scenario.check()?;
        Ok(self.scenario)
    }

    /// The scenario so far, not yet checked.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    fn with(mut self, change: impl FnOnce(&mut Scenario)) -> Self {
        change(&mut self.scenario);
        self
    }

    /// The short name (report folders and titles).
    pub fn name(self, name: &str) -> Self {
        self.with(|s| s.name = name.to_owned())
    }

    /// What the scenario checks, in words.
    pub fn description(self, text: &str) -> Self {
        self.with(|s| s.description = text.to_owned())
    }

    /// Simulated (virtual time) or real time.
    pub fn mode(self, mode: Mode) -> Self {
        self.with(|s| s.mode = mode)
    }

    /// The seed of every random draw.
    pub fn seed(self, seed: u64) -> Self {
        self.with(|s| s.seed = seed)
    }

    /// The API the target speaks (the embedded mock speaks it; the engine reads it).
    pub fn provider(self, provider: crate::engine::provider::ProviderName) -> Self {
        self.with(|s| s.target.provider = provider)
    }

    /// The model requested.
    pub fn model(self, model: &str) -> Self {
        self.with(|s| s.target.model = model.to_owned())
    }

    /// The day whose catalog the mock serves.
    pub fn as_of(self, day: jiff::civil::Date) -> Self {
        self.with(|s| s.target.as_of = Some(day))
    }

    /// The mock's plan.
    pub fn tier(self, tier: Tier) -> Self {
        self.with(|s| s.target.tier = tier)
    }

    /// Changes the embedded mock's settings; on a real endpoint, `build` refuses `field`.
    fn mock(mut self, field: &str, change: impl FnOnce(&mut MockSettings)) -> Self {
        match &mut self.scenario.target.upstream {
            Upstream::Mock { mock, .. } | Upstream::App { mock, .. } => change(mock),
            Upstream::Url { .. } => {
                self.misfit = Some(Invalid {
                    field: format!("target.{field}"),
                    message: "is the embedded mock's: a target with `url` takes none".to_owned(),
                })
            }
        }
        self
    }

    /// The mock's limits for every organisation, replacing the catalog's where given.
    pub fn limits(self, limits: Option<LimitsOverride>) -> Self {
        self.mock("limits", |m| m.limits = limits)
    }

    /// Every completion uses all of its `max_tokens`.
    pub fn full_completions(self) -> Self {
        self.mock("completion", |m| {
            m.completion = Some(CompletionConfig {
                min_fraction: 1.0,
                max_fraction: 1.0,
            })
        })
    }

    /// An event on the mock's clock (added to those already there).
    pub fn event(self, event: TargetEvent) -> Self {
        self.mock("events", |m| m.events.push(event))
    }

    /// The client's round trip on every attempt; an app under test has none (`build` says
    /// so).
    pub fn rtt(mut self, round_trip: Duration) -> Self {
        match &mut self.scenario.target.upstream {
            Upstream::Mock { rtt, .. } | Upstream::Url { rtt, .. } => *rtt = round_trip,
            Upstream::App { .. } if round_trip.is_zero() => {}
            Upstream::App { .. } => {
                self.misfit = Some(Invalid {
                    field: "target.rtt".to_owned(),
                    message: "is added by the engine, which an app under test does not use"
                        .to_owned(),
                })
            }
        }
        self
    }

    /// An app under test instead of the engine, in front of the embedded mock (whose settings
    /// it keeps); a real endpoint cannot be one (`build` says so).
    pub fn app(mut self, app: crate::spec::scenario::AppTarget) -> Self {
        let upstream = &mut self.scenario.target.upstream;
        match upstream {
            Upstream::Mock { mock, .. } | Upstream::App { mock, .. } => {
                *upstream = Upstream::App {
                    app: Box::new(app),
                    mock: std::mem::take(mock),
                }
            }
            Upstream::Url { .. } => {
                self.misfit = Some(Invalid {
                    field: "target.url".to_owned(),
                    message: "an app under test talks to the embedded mock: drop `url`".to_owned(),
                })
            }
        }
        self
    }

    /// `count` keys; with an explicit layout (each key's organisation named), separate
    /// organisations, since the named ones no longer fit.
    pub fn keys(self, count: usize) -> Self {
        self.with(|s| {
            s.keys.count = Count(count);
            if s.keys.layout == Layout::Explicit {
                s.keys.layout = Layout::Separate;
                s.keys.orgs.clear();
            }
        })
    }

    /// How keys map to organisations (`Explicit` is for files, which name each key's
    /// organisation: here it reads as `Separate`).
    pub fn layout(self, layout: Layout) -> Self {
        self.with(|s| {
            s.keys.layout = match layout {
                Layout::Explicit => Layout::Separate,
                other => other,
            };
            s.keys.orgs.clear();
        })
    }

    /// The rotation policy.
    pub fn policy(self, policy: PolicySpec) -> Self {
        self.with(|s| s.engine.policy = policy)
    }

    /// Engine replicas and where they keep key state.
    pub fn replicas(self, replicas: u32, state: StateKind) -> Self {
        self.replica_count(replicas).replicas_state(state)
    }

    /// Engine replicas the traffic is spread over.
    pub fn replica_count(self, replicas: u32) -> Self {
        self.with(|s| s.engine.replicas = replicas)
    }

    /// Where replicas keep key state.
    pub fn replicas_state(self, state: StateKind) -> Self {
        self.with(|s| s.engine.state = state)
    }

    /// With shared state on Redis: its URL (`redis://…` or `env:NAME`).
    pub fn redis_url(self, url: &str) -> Self {
        self.with(|s| s.engine.redis_url = Some(url.to_owned()))
    }

    /// When a replica loses its state (a serverless cold start); `None`: never.
    pub fn cold_start(self, cold_start: Option<ColdStart>) -> Self {
        self.with(|s| s.engine.cold_start = cold_start)
    }

    /// How requests arrive.
    pub fn shape(self, shape: Shape) -> Self {
        self.with(|s| s.traffic.shape = shape)
    }

    /// Poisson arrivals at `rpm` requests per minute.
    pub fn poisson(self, rpm: f64) -> Self {
        self.shape(Shape::Poisson { rate: Rate(rpm) })
    }

    /// The requests of `trace`, each at its offset: the whole trace, so the duration and
    /// request cap are cleared (set them after to cut it).
    pub fn trace(self, trace: Trace) -> Self {
        self.with(|s| {
            s.traffic.shape = Shape::Trace(trace);
            s.traffic.duration = None;
            s.traffic.requests = None;
        })
    }

    /// Evenly spaced arrivals at `rpm` requests per minute.
    pub fn constant(self, rpm: f64) -> Self {
        self.shape(Shape::Constant { rate: Rate(rpm) })
    }

    /// A steady rate of `rpm`: Poisson stays Poisson, every other shape becomes constant.
    pub fn steady(self, rpm: f64) -> Self {
        match self.scenario.traffic.shape {
            Shape::Poisson { .. } => self.poisson(rpm),
            _ => self.constant(rpm),
        }
    }

    /// The rate in requests per minute, keeping the shape (a ramp's start, a step's base); a
    /// closed loop or a trace becomes Poisson.
    pub fn rate(self, rpm: f64) -> Self {
        self.with(|s| match &mut s.traffic.shape {
            Shape::Constant { rate }
            | Shape::Poisson { rate }
            | Shape::Ramp { rate, .. }
            | Shape::Step { rate, .. }
            | Shape::Spike { rate, .. }
            | Shape::Profile { rate, .. } => *rate = Rate(rpm),
            other @ (Shape::Closed { .. } | Shape::Trace(_)) => {
                *other = Shape::Poisson { rate: Rate(rpm) }
            }
        })
    }

    /// Poisson at `rpm` × each step's weight ÷ the mean weight, each weight lasting `step`.
    pub fn profile(self, rpm: f64, weights: Vec<f64>, step: Duration) -> Self {
        self.shape(Shape::Profile {
            rate: Rate(rpm),
            weights,
            step,
        })
    }

    /// A closed loop of `users`, each sending, waiting for the answer and thinking (see
    /// [`ScenarioBuilder::think`]) before the next; a loop already closed keeps its think time.
    pub fn closed(self, users: usize) -> Self {
        self.with(|s| {
            let think = match s.traffic.shape {
                Shape::Closed { think, .. } => think,
                _ => Duration::ZERO,
            };
            s.traffic.shape = Shape::Closed {
                users: Count(users),
                think,
            };
        })
    }

    /// A closed loop's pause between a user's answer and its next request (a closed loop of
    /// one user when the traffic was open).
    pub fn think(self, think: Duration) -> Self {
        self.with(|s| match &mut s.traffic.shape {
            Shape::Closed { think: t, .. } => *t = think,
            open => {
                *open = Shape::Closed {
                    users: Count(1),
                    think,
                }
            }
        })
    }

    /// How long requests are sent.
    pub fn duration(self, span: Duration) -> Self {
        self.with(|s| s.traffic.duration = Some(span))
    }

    /// How many requests at most; `None`: as many as the duration brings.
    pub fn requests(self, cap: Option<usize>) -> Self {
        self.with(|s| s.traffic.requests = cap.map(Count))
    }

    /// Prompt tokens and `max_tokens` per request.
    pub fn tokens(self, prompt: Tokens, max_tokens: Tokens) -> Self {
        self.with(|s| {
            s.traffic.prompt_tokens = prompt;
            s.traffic.completion_tokens = max_tokens;
        })
    }

    /// Ask for streamed answers.
    pub fn stream(self, stream: bool) -> Self {
        self.with(|s| s.traffic.stream = stream)
    }

    /// The time-series interval.
    pub fn interval(self, interval: Duration) -> Self {
        self.with(|s| s.traffic.interval = interval)
    }

    /// How long a user waits for an answer.
    pub fn latency_budget(self, budget: Duration) -> Self {
        self.with(|s| s.traffic.latency_budget = budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_clears_the_others_and_build_checks_the_whole() {
        let closed = Scenario::builder("t")
            .poisson(90.0)
            .closed(8)
            .think(Duration::from_secs(1))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            closed.traffic.shape,
            Shape::Closed {
                users: Count(8),
                think: Duration::from_secs(1)
            }
        );
        let open = closed
            .to_builder()
            .rate(30.0)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(open.traffic.shape, Shape::Poisson { rate: Rate(30.0) });
        let steady = Scenario::builder("t")
            .profile(60.0, vec![1.0, 2.0], Duration::from_secs(3600))
            .steady(45.0)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(steady.traffic.shape, Shape::Constant { rate: Rate(45.0) });
        for (bad, field) in [
            (Scenario::builder("t").keys(0), "keys.count"),
            (Scenario::builder("t").poisson(f64::NAN), "traffic.rate"),
            (Scenario::builder("t").closed(0), "traffic.users"),
            (Scenario::builder("t").requests(Some(0)), "traffic.requests"),
        ] {
            let error = bad.build().err().map(|e| e.field);
            assert_eq!(error.as_deref(), Some(field));
        }
    }
}
