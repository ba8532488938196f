//! `[engine]`: the policy, timeouts, deadline, replicas and where they keep key state.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ColdStart, Spread, StateKind};
use crate::engine::transport::Timeouts;
use crate::engine::{OnStoreError, PolicyConfig};

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
