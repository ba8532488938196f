//! The mock's configuration, read from TOML. Unknown fields are errors, and a bad file is
//! reported with its path, line and column and what was expected.
//!
//! ```toml
//! provider = "groq"                # or "gemini", "openrouter", "cerebras" (see `provider`)
//! model = "openai/gpt-oss-120b"   # default model
//! as_of = "2026-11-23"             # which models exist and their limits; default: today
//! tier = "free"
//! seed = 7
//! time_scale = 1.0
//! [[orgs]]
//! id = "org_a"
//! keys = ["gsk_test_a1", "gsk_test_a2"]
//! limits = { rpm = 5, rpd = 1000, tpm = 12000, tpd = 100000 }   # optional override
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{self, Limits, Tier};
use crate::key::ApiKey;

/// Everything that can be wrong with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML or does not match the expected form.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message, which names the line, column and what was expected.
        message: String,
    },
    /// The values parse but do not make sense together.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole mock configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Which provider the mock imitates: `groq` (the default), `gemini`, `openrouter` or
    /// `cerebras` — its paths, its windows (fixed or refilling), its rate-limit headers and
    /// its 429 bodies, from its profile (`keyrotor providers`). Each `[[orgs]]` entry is one
    /// scope of the provider's limits: an organisation (Groq, Cerebras), a Google Cloud
    /// project (Gemini), an account (OpenRouter).
    #[serde(default = "default_provider")]
    pub provider: String,
    /// The models a provider other than Groq serves (Groq's come from its catalog); each
    /// has its own budget in a scope.
    #[serde(default)]
    pub models: Vec<String>,
    /// Model shown in `/admin/state` before any request used it (requests must name theirs).
    #[serde(default = "default_model")]
    pub model: String,
    /// The day whose catalog the mock serves: models decommissioned by then answer 404
    /// `model_not_found`, as Groq does. Today (UTC) when absent.
    #[serde(default)]
    pub as_of: Option<jiff::civil::Date>,
    /// Plan whose published limits apply unless an organisation overrides them.
    #[serde(default)]
    pub tier: Tier,
    /// Seed of every random draw (latency jitter, completion lengths, faults, ids).
    #[serde(default)]
    pub seed: u64,
    /// Rate-limit windows pass this many times faster than real time; latency is unchanged.
    /// In [`TIME_SCALE_RANGE`].
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,
    /// Largest request body accepted, in bytes; larger gets 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers before its connection is
    /// closed (sheds slow-header clients, "slowloris").
    #[serde(default = "default_header_timeout", with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Record every chat call under the driver's marker found in its body (`[kr:<id>]`), for
    /// an app under test driven black-box (see `attribution`); off by default.
    #[serde(default)]
    pub attribution: bool,
    /// Tokens reserved for the completion when a request sets no `max_tokens`.
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u64,
    /// Unix time of the mock's start for `created` fields; `None` takes the system clock.
    #[serde(default)]
    pub start_unix: Option<u64>,
    /// The service-time model.
    #[serde(default)]
    pub latency: LatencyConfig,
    /// How long completions are.
    #[serde(default)]
    pub completion: CompletionConfig,
    /// Injected faults.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Scheduled events: key revocations and daily-quota exhaustion.
    #[serde(default)]
    pub events: Vec<Event>,
    /// The organisations and their keys.
    #[serde(default)]
    pub orgs: Vec<OrgConfig>,
}

/// One organisation: its keys share its limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    /// Organisation id, as shown in 429 messages.
    pub id: String,
    /// API keys that belong to it.
    pub keys: Vec<ApiKey>,
    /// Plan of this organisation; the top-level `tier` when absent.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// Overrides of the catalog limits, for every model of this organisation.
    #[serde(default)]
    pub limits: Option<LimitsOverride>,
}

/// The time scales the mock accepts: from a thousandth of real speed to a hundred thousand
/// times faster (a day in under a second); beyond that the clock's arithmetic loses meaning.
pub const TIME_SCALE_RANGE: std::ops::RangeInclusive<f64> = 0.001..=100_000.0;

/// Optional replacements for catalog limits; `0` means unlimited in that dimension.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsOverride {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Requests per day.
    pub rpd: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<u64>,
    /// Tokens per day.
    pub tpd: Option<u64>,
    /// Requests per hour (providers with an hourly window: Cerebras).
    pub rph: Option<u64>,
    /// Tokens per hour (providers with an hourly window: Cerebras).
    pub tph: Option<u64>,
}

impl LimitsOverride {
    /// The catalog limits with these overrides applied.
    pub fn apply(&self, base: Limits) -> Limits {
        let pick = |over: Option<u64>, base: Option<u64>| match over {
            Some(0) => None,
            Some(v) => Some(v),
            None => base,
        };
        Limits {
            rpm: pick(self.rpm, base.rpm),
            rpd: pick(self.rpd, base.rpd),
            tpm: pick(self.tpm, base.tpm),
            tpd: pick(self.tpd, base.tpd),
        }
    }
}

/// The limits per organisation for `model` on `tier` with optional overrides, and a phrase
/// saying where they come from (for reports).
pub fn limits_in_force(
    model: &str,
    tier: Tier,
    overrides: Option<LimitsOverride>,
) -> (Limits, String) {
    let entry = catalog::current().model(model);
    let base = entry.map(|m| m.limits(tier));
    let published = format!(
        "the published {} tier for {model} ({})",
        tier.name(),
        entry.map(|m| m.limits_source(tier)).unwrap_or_default()
    );
    match (base, overrides) {
        (Some(b), None) => (b, published),
        (Some(b), Some(o)) => (o.apply(b), format!("overrides on {published}")),
        (None, Some(o)) => (o.apply(Limits::NONE), "explicit limits".to_owned()),
        (None, None) => (Limits::NONE, "none".to_owned()),
    }
}

/// Service time = queue + prompt ÷ prefill speed + completion ÷ decode speed, each with
/// seeded jitter. Speeds come from the catalog unless set here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyConfig {
    /// When false, responses are immediate (the timing fields still report the model).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Time at Groq's edge before any answer, errors included (authentication, admission);
    /// not part of the usage timing fields.
    #[serde(default = "default_edge", with = "humantime_serde")]
    pub edge: Duration,
    /// Mean queue time (exponentially distributed).
    #[serde(default = "default_queue", with = "humantime_serde")]
    pub queue: Duration,
    /// Prompt tokens per second; the model's catalog speed when absent.
    #[serde(default)]
    pub prefill_tps: Option<f64>,
    /// Completion tokens per second; the model's catalog speed when absent.
    #[serde(default)]
    pub decode_tps: Option<f64>,
    /// Relative jitter: each part is multiplied by a uniform factor in [1−j, 1+j].
    #[serde(default = "default_jitter")]
    pub jitter: f64,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            edge: default_edge(),
            queue: default_queue(),
            prefill_tps: None,
            decode_tps: None,
            jitter: default_jitter(),
        }
    }
}

/// Completion length: `max_tokens × U(min_fraction, max_fraction)`, at least 1 token.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionConfig {
    /// Smallest share of `max_tokens` a completion uses.
    #[serde(default = "default_min_fraction")]
    pub min_fraction: f64,
    /// Largest share of `max_tokens` a completion uses.
    #[serde(default = "default_max_fraction")]
    pub max_fraction: f64,
}

impl Default for CompletionConfig {
    fn default() -> Self {
        Self {
            min_fraction: default_min_fraction(),
            max_fraction: default_max_fraction(),
        }
    }
}

/// What an injected fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 500 internal server error.
    ServerError,
    /// 503 with Groq's over-capacity body.
    OverCapacity,
    /// 498 flex tier capacity exceeded.
    FlexCapacity,
    /// The response never comes (the connection is held open for `duration`, then closed).
    Stall,
    /// The connection is closed without a complete response.
    Drop,
    /// The response is delayed by `duration` on top of the service time.
    Slow,
    /// A streamed answer breaks off halfway with an error event (its 200 is already sent).
    /// Non-streamed requests are not affected.
    StreamError,
}

/// A fault applied to matching requests with a probability, optionally within a time span
/// (on the mock's clock) and for one organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// Chance per matching request.
    #[serde(default = "default_probability")]
    pub probability: f64,
    /// Active from this time on.
    #[serde(default, with = "humantime_serde")]
    pub from: Option<Duration>,
    /// Active until this time.
    #[serde(default, with = "humantime_serde")]
    pub until: Option<Duration>,
    /// Only requests of this organisation.
    #[serde(default)]
    pub org: Option<String>,
    /// Extra delay of `slow`, or how long `stall` holds the connection.
    #[serde(default = "default_fault_duration", with = "humantime_serde")]
    pub duration: Duration,
}

/// Something that happens once, at a time on the mock's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The key answers 401 from `at` on.
    RevokeKey {
        /// When.
        #[serde(with = "humantime_serde")]
        at: Duration,
        /// Which key.
        key: ApiKey,
    },
    /// The organisation's daily budgets (RPD and TPD, all models) are spent at `at`.
    ExhaustDaily {
        /// When.
        #[serde(with = "humantime_serde")]
        at: Duration,
        /// Which organisation.
        org: String,
    },
}

fn default_model() -> String {
    catalog::current().recommended.clone()
}
fn default_provider() -> String {
    "groq".to_owned()
}
fn default_time_scale() -> f64 {
    1.0
}
fn default_max_body_bytes() -> usize {
    4 * 1024 * 1024
}
fn default_header_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_max_tokens() -> u64 {
    1024
}
fn yes() -> bool {
    true
}
fn default_edge() -> Duration {
    Duration::from_millis(30)
}
fn default_queue() -> Duration {
    Duration::from_millis(20)
}
fn default_jitter() -> f64 {
    0.1
}
fn default_min_fraction() -> f64 {
    0.25
}
fn default_max_fraction() -> f64 {
    1.0
}
fn default_probability() -> f64 {
    1.0
}
fn default_fault_duration() -> Duration {
    Duration::from_secs(3600)
}

impl Default for Config {
    fn default() -> Self {
        Self {
            provider: default_provider(),
            models: Vec::new(),
            model: default_model(),
            as_of: None,
            tier: Tier::default(),
            seed: 0,
            time_scale: default_time_scale(),
            max_body_bytes: default_max_body_bytes(),
            header_timeout: default_header_timeout(),
            attribution: false,
            default_max_tokens: default_max_tokens(),
            start_unix: None,
            latency: LatencyConfig::default(),
            completion: CompletionConfig::default(),
            faults: Vec::new(),
            events: Vec::new(),
            orgs: Vec::new(),
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text =
            groq_wire::file::read_text(path, groq_wire::file::TEXT_CAP).map_err(|error| {
                ConfigError::Read {
                    path: path.to_owned(),
                    error,
                }
            })?;
        Self::from_toml(&text).map_err(|err| match err {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<inline>"),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The day whose catalog applies: `as_of`, or today (UTC).
    pub fn as_of(&self) -> jiff::civil::Date {
        self.as_of.unwrap_or_else(catalog::today)
    }

    /// Checks what the types cannot: ranges, references and uniqueness.
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::provider::Provider::check(self)?;
        self.validate_settings()?;
        self.validate_orgs()
    }

    /// Whether the mock imitates Groq (whose models come from the catalog).
    pub fn is_groq(&self) -> bool {
        self.provider == "groq"
    }

    /// The model, and the settings' ranges.
    fn validate_settings(&self) -> Result<(), ConfigError> {
        let bad = |msg: String| Err(ConfigError::Invalid(msg));
        if self.is_groq() && catalog::current().model(&self.model).is_none() {
            return bad(format!(
                "model `{}` is not in the catalog (known: {})",
                self.model,
                catalog::current().ids()
            ));
        }
        if !TIME_SCALE_RANGE.contains(&self.time_scale) {
            return bad(format!(
                "time_scale must be in [{}, {}] (windows pass that many times faster than real time), got {}",
                TIME_SCALE_RANGE.start(),
                TIME_SCALE_RANGE.end(),
                self.time_scale
            ));
        }
        if self.header_timeout.is_zero() || self.header_timeout > Duration::from_secs(600) {
            return bad(format!(
                "header_timeout must be in (0s, 10m], got {:?}",
                self.header_timeout
            ));
        }
        if !(0.0..=1.0).contains(&self.latency.jitter) {
            return bad(format!(
                "latency.jitter must be in [0, 1], got {}",
                self.latency.jitter
            ));
        }
        for (name, speed) in [
            ("prefill_tps", self.latency.prefill_tps),
            ("decode_tps", self.latency.decode_tps),
        ] {
            if speed.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
                return bad(format!("latency.{name} must be > 0"));
            }
        }
        let c = self.completion;
        if !(0.0 < c.min_fraction && c.min_fraction <= c.max_fraction && c.max_fraction <= 1.0) {
            return bad(format!(
                "completion fractions need 0 < min_fraction ≤ max_fraction ≤ 1, got {} and {}",
                c.min_fraction, c.max_fraction
            ));
        }
        if self.default_max_tokens == 0 {
            return bad("default_max_tokens must be at least 1".to_owned());
        }
        Ok(())
    }

    /// The organisations and their keys (some, each once), and what faults and events
    /// name.
    fn validate_orgs(&self) -> Result<(), ConfigError> {
        let bad = |msg: String| Err(ConfigError::Invalid(msg));
        if self.orgs.is_empty() {
            return bad(
                "no organisations: add at least one [[orgs]] with `id` and `keys` (see mock-groq/config.example.toml)"
                    .to_owned(),
            );
        }
        let mut org_ids = HashSet::new();
        let mut keys = HashSet::new();
        for org in &self.orgs {
            if !org_ids.insert(org.id.as_str()) {
                return bad(format!("organisation `{}` is listed twice", org.id));
            }
            if org.keys.is_empty() {
                return bad(format!("organisation `{}` has no keys", org.id));
            }
            for key in &org.keys {
                if key.expose().trim().is_empty() {
                    return bad(format!("organisation `{}` has an empty key", org.id));
                }
                if !keys.insert(key.expose()) {
                    return bad(format!("key {key} appears more than once"));
                }
            }
        }
        for fault in &self.faults {
            if !(0.0..=1.0).contains(&fault.probability) {
                return bad(format!(
                    "fault probability must be in [0, 1], got {}",
                    fault.probability
                ));
            }
            if let Some(org) = &fault.org
                && !org_ids.contains(org.as_str())
            {
                return bad(format!("fault names unknown organisation `{org}`"));
            }
        }
        for event in &self.events {
            match event {
                Event::RevokeKey { key, .. } if !keys.contains(key.expose()) => {
                    return bad(format!("revoke_key event names unknown key {key}"));
                }
                Event::ExhaustDaily { org, .. } if !org_ids.contains(org.as_str()) => {
                    return bad(format!(
                        "exhaust_daily event names unknown organisation `{org}`"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTRACT: &str = r#"
model = "llama-3.3-70b-versatile"
tier = "free"
seed = 7
time_scale = 1.0
[[orgs]]
id = "org_a"
keys = ["gsk_test_a1", "gsk_test_a2"]
limits = { rpm = 5, rpd = 1000, tpm = 12000, tpd = 100000 }
[[orgs]]
id = "org_b"
keys = ["gsk_test_b1"]
"#;

    #[test]
    fn parses_the_contract_example() {
        let config = Config::from_toml(CONTRACT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.orgs.len(), 2);
        assert_eq!(config.seed, 7);
        assert_eq!(config.orgs[0].limits.map(|l| l.rpm), Some(Some(5)));
        assert!(!format!("{config:?}").contains("gsk_test_a1"));
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let text = "seed = 1\nbogus = 3\n";
        let Err(err) = Config::from_toml(text) else {
            panic!("accepted an unknown field")
        };
        let message = err.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("bogus"), "{message}");
    }

    #[test]
    fn wrong_type_names_what_was_expected() {
        let Err(err) = Config::from_toml("seed = \"seven\"\n") else {
            panic!("accepted a string seed")
        };
        let message = err.to_string();
        assert!(
            message.contains("line 1") && message.contains("expected u64"),
            "{message}"
        );
    }

    #[test]
    fn semantic_errors_are_reported() {
        for (text, needle) in [
            ("model = \"gpt-9\"\n", "not in the catalog"),
            ("time_scale = 0.0\n", "time_scale"),
            ("time_scale = 1e20\n", "time_scale must be in"),
            ("time_scale = 1e308\n", "time_scale must be in"),
            ("seed = 1\n", "no organisations"),
            ("[[orgs]]\nid = \"a\"\nkeys = []\n", "no keys"),
            (
                "[[orgs]]\nid = \"a\"\nkeys = [\"k\", \"k\"]\n",
                "more than once",
            ),
            (
                "[[orgs]]\nid = \"a\"\nkeys = [\"k\"]\n[[events]]\nkind = \"exhaust_daily\"\nat = \"1m\"\norg = \"nope\"\n",
                "unknown organisation",
            ),
        ] {
            match Config::from_toml(text) {
                Err(e) => assert!(e.to_string().contains(needle), "{e} lacks {needle}"),
                Ok(_) => panic!("accepted {text}"),
            }
        }
    }

    #[test]
    fn zero_override_means_unlimited() {
        let over = LimitsOverride {
            tpd: Some(0),
            rpm: Some(7),
            ..Default::default()
        };
        let limits = over.apply(catalog::current().models[0].free);
        assert_eq!(limits.tpd, None);
        assert_eq!(limits.rpm, Some(7));
        assert_eq!(limits.tpm, catalog::current().models[0].free.tpm);
    }
}
