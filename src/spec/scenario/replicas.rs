//! Replicas as the scenario states them: how many, how a load balancer spreads requests
//! over them, where they keep key state, and when one loses it (a cold start).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Most replicas a scenario may have.
pub const MAX_REPLICAS: u32 = 64;

/// Where replicas keep their key state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// Each replica its own, in memory (what an in-memory rotator does).
    #[default]
    Local,
    /// One store shared by all, in this process's memory (runs in simulated time: the
    /// stand-in for Redis with the same semantics).
    Memory,
    /// One store on a Redis server (real time).
    Redis,
}

impl StateKind {
    /// Whether the replicas share one store.
    pub fn shared(self) -> bool {
        self != StateKind::Local
    }

    /// The name as written in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Local => "local",
            StateKind::Memory => "memory",
            StateKind::Redis => "redis",
        }
    }
}

impl FromStr for StateKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(Self::Local),
            "memory" => Ok(Self::Memory),
            "redis" => Ok(Self::Redis),
            other => Err(format!(
                "unknown state {other:?}: local (each replica its own), memory (shared in this process) or redis (shared on Redis)"
            )),
        }
    }
}

/// How a load balancer spreads requests over replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// In turn.
    #[default]
    RoundRobin,
    /// At random (seeded by the scenario).
    Random,
}

impl Spread {
    /// The name as written in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            Spread::RoundRobin => "round-robin",
            Spread::Random => "random",
        }
    }
}

/// When a replica loses its state: after serving some requests, or after some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdStart {
    /// After this many requests (1: every request, as a function with no warm instance).
    Requests(u64),
    /// After this long.
    After(Duration),
}

impl FromStr for ColdStart {
    type Err = String;
    /// `"10 requests"`, `"1 request"`, or a duration (`"30s"`, `"5m"`).
    fn from_str(s: &str) -> Result<Self, String> {
        let text = s.trim();
        let bad = || {
            format!(
                "cold_start {text:?}: \"N requests\" (1 to 10⁹) or a duration from 1 ms to 1 day (\"30s\")"
            )
        };
        if let Some(n) = text
            .strip_suffix("requests")
            .or_else(|| text.strip_suffix("request"))
        {
            let n: u64 = n.trim().parse().map_err(|_| bad())?;
            return (1..=1_000_000_000)
                .contains(&n)
                .then_some(ColdStart::Requests(n))
                .ok_or_else(bad);
        }
        let d = humantime_serde::re::humantime::parse_duration(text).map_err(|_| bad())?;
        (Duration::from_millis(1)..=Duration::from_secs(86_400))
            .contains(&d)
            .then_some(ColdStart::After(d))
            .ok_or_else(bad)
    }
}

impl fmt::Display for ColdStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColdStart::Requests(1) => f.write_str("1 request"),
            ColdStart::Requests(n) => write!(f, "{n} requests"),
            ColdStart::After(d) => {
                write!(f, "{}", humantime_serde::re::humantime::format_duration(*d))
            }
        }
    }
}

impl Serialize for ColdStart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColdStart {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_starts_and_states_read_as_written_and_refuse_nonsense() {
        assert_eq!("1 request".parse(), Ok(ColdStart::Requests(1)));
        assert_eq!("25 requests".parse(), Ok(ColdStart::Requests(25)));
        assert_eq!("30s".parse(), Ok(ColdStart::After(Duration::from_secs(30))));
        for bad in ["0 requests", "-3 requests", "2 days", "soon", "0s"] {
            assert!(bad.parse::<ColdStart>().is_err(), "{bad}");
        }
        assert_eq!(ColdStart::Requests(25).to_string(), "25 requests");
        assert!("shared".parse::<StateKind>().is_err());
    }
}
