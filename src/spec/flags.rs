//! The flags of `keyrotor run` that describe a scenario, in the vocabulary of load testers
//! (oha, k6): a run from flags alone, or flags over a scenario file (a flag wins).

use std::time::Duration;

use mock_groq::catalog::Tier;

use crate::engine::provider::ProviderName;
use crate::spec::scenario::ColdStart;
use crate::spec::scenario::{Layout, Rate, Scenario, ScenarioBuilder};
use crate::spec::trace::{Columns, Trace};

/// Scenario flags of `keyrotor run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ScenarioFlags {
    /// Keys (1 to 128).
    #[arg(long, value_name = "N")]
    pub keys: Option<usize>,
    /// How keys map to the scopes their limits belong to (Groq's and Cerebras's
    /// organisations, Gemini's projects, OpenRouter's accounts): `separate` (one each) or
    /// `shared` (all in one).
    #[arg(long, value_name = "LAYOUT", value_parser = ["separate", "shared"])]
    pub layout: Option<String>,
    /// Open-loop rate: `150/min`, `2.5/s`, `9000/h`, or a number (per minute).
    #[arg(long, value_name = "RATE", value_parser = parse_rate, conflicts_with_all = ["qps", "users"])]
    pub rate: Option<f64>,
    /// Open-loop rate in requests per second (oha's -q).
    #[arg(short = 'q', long, value_name = "PER_SECOND", value_parser = parse_qps, conflicts_with = "users")]
    pub qps: Option<f64>,
    /// How long requests are sent, e.g. `10m`.
    #[arg(short = 'z', long, value_name = "DURATION", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// How many requests at most (1 to 10⁹).
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<usize>,
    /// Closed loop: this many users (1 to 100,000), each sending its next request when
    /// answered.
    #[arg(short = 'c', long, value_name = "N")]
    pub users: Option<usize>,
    /// The model requested, e.g. `openai/gpt-oss-120b`.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The API the target speaks: groq (default), gemini, openrouter or cerebras — the
    /// embedded mock speaks it and the engine reads it (docs/providers.md); also openai
    /// for a real endpoint.
    #[arg(long, value_name = "NAME", value_parser = parse_provider)]
    pub provider: Option<ProviderName>,
    /// Groq's plan whose limits the mock applies: `free` or `developer`.
    #[arg(long, value_name = "TIER", value_parser = ["free", "developer"])]
    pub tier: Option<String>,
    /// Engine replicas the traffic is spread over (1 to 64), each its own rotor.
    #[arg(long, value_name = "N")]
    pub replicas: Option<u32>,
    /// Where replicas keep key state: `local` (each its own), `memory` (shared, in this
    /// process; simulation works) or `redis` (shared on Redis; needs --real).
    #[arg(long, value_name = "STATE", value_parser = ["local", "memory", "redis"])]
    pub state: Option<String>,
    /// With --state redis: `redis://host:port[/db]`, `redis+unix:///path`, or `env:NAME` for
    /// a URL with a password.
    /// Without it keyrotor starts redis-server on loopback.
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,
    /// A replica loses its state (a serverless cold start) after `"N requests"` or a time
    /// (`30s`).
    #[arg(long, value_name = "WHEN", value_parser = parse_cold_start)]
    pub cold_start: Option<ColdStart>,
    /// Ask for streamed answers and report time to first token, inter-token latency and
    /// output tokens per second.
    #[arg(long)]
    pub stream: bool,
    /// Replay an app's own requests: a CSV (header row) or JSON Lines file with `offset_s`
    /// (or `timestamp`), `prompt_tokens` (or `prompt`), `completion_tokens` (or
    /// `max_tokens`) and optionally `model` per row, each sent at its offset (the whole
    /// trace unless -z or -n cut it).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rate", "qps", "users"])]
    pub trace: Option<std::path::PathBuf>,
    /// With --trace: replay N× faster (0.001 to 1000), e.g. 2 for a day in 12 hours.
    #[arg(long, value_name = "N", requires = "trace")]
    pub speed: Option<f64>,
    /// With --trace: N× the users, each row replayed N times (0.001 to 1000; a fraction by
    /// a seeded draw), its copies spread over the time until the next row.
    #[arg(long, value_name = "N", requires = "trace")]
    pub scale: Option<f64>,
    /// With --trace: which column holds each field, e.g. `timestamp=startTime` for
    /// LiteLLM's spend logs (fields: offset_s, timestamp, prompt_tokens, prompt,
    /// max_tokens, completion_tokens, model).
    #[arg(long, value_name = "FIELD=COLUMN,…", requires = "trace", value_parser = Columns::parse_flag)]
    pub trace_columns: Option<Columns>,
}

fn parse_cold_start(text: &str) -> Result<ColdStart, String> {
    text.parse()
}

/// `--provider`: groq, openai, gemini, openrouter or cerebras.
pub fn parse_provider(text: &str) -> Result<ProviderName, String> {
    text.parse()
}

/// A rate as requests per minute from `150/min`, `2.5/s`, `9000/h` or a bare number (per
/// minute), as a scenario file writes it ([`Rate`]'s parser).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    text.parse::<Rate>().map(|r| r.0)
}

/// A rate per second, as requests per minute.
fn parse_qps(text: &str) -> Result<f64, String> {
    parse_rate(&format!("{text}/s"))
}

impl ScenarioFlags {
    /// What a run with no scenario file starts from: one key, Poisson 60 req/min for a
    /// minute, simulated; every flag given replaces a part of it.
    pub fn base() -> ScenarioBuilder {
        Scenario::builder("run")
    }

    /// The flags given, as `name=value` (`keys=3`, `rate=150/min`): what a run from a file
    /// with flags over it changed, for its name and description.
    pub fn given(&self) -> Vec<String> {
        let per_minute = |r: f64| format!("{}/min", Rate(r).words());
        let given: [(&str, Option<String>); 18] = [
            ("keys", self.keys.map(|n| n.to_string())),
            ("layout", self.layout.clone()),
            ("rate", self.rate.map(per_minute)),
            ("rate", self.qps.map(per_minute)),
            ("duration", self.duration.map(crate::spec::scenario::human)),
            ("requests", self.requests.map(|n| n.to_string())),
            ("users", self.users.map(|n| n.to_string())),
            ("model", self.model.clone()),
            ("provider", self.provider.map(|p| p.id().to_owned())),
            ("tier", self.tier.clone()),
            ("replicas", self.replicas.map(|n| n.to_string())),
            ("state", self.state.clone()),
            ("redis", self.redis_url.as_ref().map(|_| "given".to_owned())),
            ("cold-start", self.cold_start.map(|c| c.to_string())),
            ("stream", self.stream.then(|| "on".to_owned())),
            (
                "trace",
                self.trace.as_ref().map(|p| {
                    p.file_name()
                        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
                }),
            ),
            ("speed", self.speed.map(|s| s.to_string())),
            ("scale", self.scale.map(|s| s.to_string())),
        ];
        given
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
            .collect()
    }

    /// Writes the flags given over a scenario being built (the caller builds, which checks
    /// the whole).
    pub fn apply(&self, mut b: ScenarioBuilder) -> Result<ScenarioBuilder, String> {
        let count = |n: usize, flag: &str| {
            if n >= 1 {
                Ok(n)
            } else {
                Err(format!("--{flag}: expected a whole number ≥ 1, got {n}"))
            }
        };
        if let Some(n) = self.keys {
            b = b.keys(count(n, "keys")?);
        }
        if let Some(layout) = &self.layout {
            b = b.layout(if layout == "shared" {
                Layout::Shared
            } else {
                Layout::Separate
            });
        }
        if let Some(per_minute) = self.rate.or(self.qps) {
            b = b.rate(per_minute);
        }
        if let Some(n) = self.users {
            b = b.closed(count(n, "users")?);
        }
        if let Some(path) = &self.trace {
            b = b.trace(Trace {
                path: std::path::absolute(path).unwrap_or_else(|_| path.clone()),
                speed: self.speed.unwrap_or(1.0),
                scale: self.scale.unwrap_or(1.0),
                columns: self.trace_columns.clone().unwrap_or_default(),
            });
        }
        if let Some(d) = self.duration {
            b = b.duration(d);
        }
        if let Some(n) = self.requests {
            b = b.requests(Some(count(n, "requests")?));
        }
        if let Some(model) = &self.model {
            b = b.model(model);
        }
        if let Some(provider) = self.provider {
            b = b.provider(provider);
        }
        if let Some(state) = &self.state {
            b = b.replicas_state(state.parse()?);
        }
        if let Some(n) = self.replicas {
            b = b.replica_count(n);
        }
        if let Some(url) = &self.redis_url {
            b = b.redis_url(url);
        }
        if let Some(cold) = self.cold_start {
            b = b.cold_start(Some(cold));
        }
        if self.stream {
            b = b.stream(true);
        }
        if let Some(tier) = &self.tier {
            b = b.tier(if tier == "developer" {
                Tier::Developer
            } else {
                Tier::Free
            });
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_in_any_unit_and_refuse_nonsense() {
        assert_eq!(parse_rate("150/min"), Ok(150.0));
        assert_eq!(parse_rate("2.5/s"), Ok(150.0));
        assert_eq!(parse_rate("9000/h"), Ok(150.0));
        assert_eq!(parse_rate("90"), Ok(90.0));
        for bad in ["0/min", "-1", "nan", "1e400", "5/day", "fast"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_base_is_a_valid_scenario_and_flags_replace_its_parts() {
        let flags = ScenarioFlags {
            keys: Some(5),
            layout: Some("shared".into()),
            users: Some(8),
            stream: true,
            ..ScenarioFlags::default()
        };
        let s = flags
            .apply(ScenarioFlags::base())
            .and_then(|b| b.build().map_err(|e| e.to_string()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.keys.count.0, 5);
        assert_eq!(s.keys.layout, Layout::Shared);
        assert_eq!(
            s.traffic.shape.arrival(),
            crate::spec::scenario::Arrival::Closed
        );
        assert!(s.traffic.shape.rate().is_none());
        assert!(s.traffic.stream);
        assert_eq!(s.mode, crate::spec::scenario::Mode::Sim);
        let zero = ScenarioFlags {
            keys: Some(0),
            ..ScenarioFlags::default()
        };
        assert!(
            zero.apply(s.to_builder())
                .is_err_and(|e| e.contains("--keys"))
        );
    }
}
