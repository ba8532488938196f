//! `[target]`: the API under test, the model, the catalog's day, the plan, and the
//! embedded mock's settings (limits, latency, faults, events).

use std::time::Duration;

use crate::engine::provider::ProviderName;
use mock_groq::catalog::Tier;
use mock_groq::config::{CompletionConfig, Fault, LatencyConfig, LimitsOverride, limits_in_force};
use serde::{Deserialize, Serialize};

/// The API under test: the model it is asked for, the day whose catalog applies, the plan,
/// and what receives the traffic ([`Upstream`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "TargetFile", into = "TargetFile")]
pub struct Target {
    /// The API it speaks: `groq` (the default), `gemini`, `openrouter` or `cerebras` (the
    /// embedded mock speaks each, its keys grouped into the provider's scopes as `[keys]`
    /// groups them into organisations; the engine reads each provider's answers); for a
    /// real endpoint also `openai`.
    pub provider: ProviderName,
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
    #[serde(default, skip_serializing_if = "is_groq")]
    provider: ProviderName,
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
            provider: f.provider,
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
            provider: t.provider,
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
            provider: ProviderName::Groq,
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

fn is_groq(provider: &ProviderName) -> bool {
    *provider == ProviderName::Groq
}

fn default_model() -> String {
    mock_groq::catalog::current().recommended.clone()
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

    /// The limits per scope (organisation, project, account) the run meets, and where they
    /// come from: Groq's catalog (with the mock's overrides), another provider's published
    /// free figures (with them), or, for a real endpoint, the real API's own (the catalog's
    /// shown for reference).
    pub fn limits_in_force(&self) -> (mock_groq::catalog::Limits, String) {
        if self.provider != ProviderName::Groq {
            return mock_groq::provider::limits_in_force(self.provider.id(), self.limits());
        }
        match self.url() {
            Some(_) => {
                let (published, _) = limits_in_force(&self.model, self.tier, None);
                let source = "the real API's own (catalog values shown for reference)";
                (published, source.to_owned())
            }
            None => limits_in_force(&self.model, self.tier, self.limits()),
        }
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
        if self.provider != ProviderName::Groq {
            return format!("a {} model (the catalog is Groq's)", self.provider);
        }
        mock_groq::catalog::current()
            .model(&self.model)
            .map_or_else(
                || "not in the catalog".to_owned(),
                |m| m.availability(self.as_of()).to_string(),
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
