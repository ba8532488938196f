//! Rotation policies: each seed's behaviour as a preset with tunable parameters, and
//! `adaptive`, ours. A policy is two decisions over the shared [`Pool`]:
//! [`Policy::next`] (which key to try, whether to wait, or to give up) and
//! [`Policy::observe`] (what an answer changes). The rotor does the rest: counting,
//! timing, sending, and honouring [`Attempts::wait_next`] and [`Attempts::stop`].

mod adaptive;
mod cooldown;
mod daily_exhaust;
mod error_threshold;
mod round_robin;
mod sticky_failover;

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::failure::Failure;
use super::pool::Pool;

pub use adaptive::Adaptive;
pub use cooldown::Cooldown;
pub use daily_exhaust::DailyExhaust;
pub use error_threshold::ErrorThreshold;
pub use round_robin::RoundRobin;
pub use sticky_failover::StickyFailover;

/// What to do next for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send an attempt with this key.
    Try(usize),
    /// Sleep, then ask again.
    Wait(Duration),
    /// Stop: the request fails.
    Fail(GiveUp),
}

/// Why a request was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUp {
    /// Every key the policy allows was tried and failed.
    AllKeysFailed,
    /// No key is usable now (all cooling, exhausted or disabled) and the policy does not wait.
    NoKeyAvailable,
    /// The failure is one the policy does not retry.
    NotRetryable,
    /// The policy's limit on key switches was reached.
    SwitchLimit,
    /// The policy's limit on retries was reached.
    RetriesExhausted,
    /// The request's deadline passed.
    Deadline,
    /// The shared state store failed and the rotor refuses to send without it
    /// ([`crate::store::OnStoreError::FailClosed`]).
    StateUnavailable,
}

impl GiveUp {
    /// A short stable name.
    pub fn reason(self) -> &'static str {
        match self {
            GiveUp::AllKeysFailed => "all_keys_failed",
            GiveUp::NoKeyAvailable => "no_key_available",
            GiveUp::NotRetryable => "not_retryable",
            GiveUp::SwitchLimit => "switch_limit",
            GiveUp::RetriesExhausted => "retries_exhausted",
            GiveUp::Deadline => "deadline",
            GiveUp::StateUnavailable => "state_unavailable",
        }
    }
}

/// Per-request bookkeeping the policies read and write.
#[derive(Debug, Clone)]
pub struct Attempts {
    /// Attempts sent so far.
    pub count: u32,
    tried: u128,
    /// The first key tried.
    pub first: Option<usize>,
    /// Key switches so far (daily-exhaust).
    pub switches: u32,
    /// Retries on the current key so far (SDK retries, backoff retries).
    pub retries: u32,
    /// Completed SDK calls (sticky-failover).
    pub calls: u32,
    /// Set by `observe`: wait this long before the next step.
    pub wait_next: Option<Duration>,
    /// Set by `observe`: give up with this reason.
    pub stop: Option<GiveUp>,
    /// Set by a policy that answers with a fallback instead of an error.
    pub degraded: bool,
    /// Tokens the request reserves (prompt estimate + max_tokens).
    pub reserved_tokens: u64,
    /// When the request started.
    pub started: Instant,
    /// When the rotor gives up on it.
    pub deadline: Instant,
    /// When its user stops waiting (the latency budget; the deadline when none is given):
    /// a budget-aware policy does not wait for a key that cannot answer before it.
    pub budget_end: Instant,
    /// Set by a policy that gives up because no key is usable: when one is expected back.
    pub retry_after: Option<Duration>,
    /// A waiting request's place in a policy's queue (adaptive).
    pub ticket: Option<u64>,
}

impl Attempts {
    /// Bookkeeping for a new request.
    pub fn new(reserved_tokens: u64, started: Instant, deadline: Instant) -> Self {
        Self {
            count: 0,
            tried: 0,
            first: None,
            switches: 0,
            retries: 0,
            calls: 0,
            wait_next: None,
            stop: None,
            degraded: false,
            reserved_tokens,
            started,
            deadline,
            budget_end: deadline,
            retry_after: None,
            ticket: None,
        }
    }

    /// Whether key `k` was tried for this request.
    pub fn tried(&self, k: usize) -> bool {
        k < 128 && self.tried & (1u128 << k) != 0
    }

    /// Marks key `k` as tried.
    pub fn mark_tried(&mut self, k: usize) {
        if k < 128 {
            self.tried |= 1u128 << k;
        }
        self.first.get_or_insert(k);
    }

    /// The step when no allowed key is left: `no_key_available` before any attempt,
    /// `all_keys_failed` after some.
    pub fn none_left(&self) -> Step {
        Step::Fail(if self.count == 0 {
            GiveUp::NoKeyAvailable
        } else {
            GiveUp::AllKeysFailed
        })
    }
}

/// What one attempt returned, as the policies see it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The classified failure; `None` for a success.
    pub failure: Option<&'a Failure>,
    /// HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The body, when there was an answer.
    pub body: &'a [u8],
}

/// A rotation policy.
pub trait Policy: Send + Sync + 'static {
    /// Chooses the next step for a request.
    fn next(&self, pool: &mut Pool, request: &mut Attempts, now: Instant) -> Step;
    /// Updates the pool and the request after an attempt on `key`.
    fn observe(
        &self,
        pool: &mut Pool,
        request: &mut Attempts,
        key: usize,
        answer: Answer<'_>,
        now: Instant,
    );

    /// Whether the policy paces keys by their organisation's learned per-minute request
    /// limit. With a shared store ([`crate::store`]), such a policy's attempts are admitted
    /// against that limit across all replicas.
    fn paces(&self) -> bool {
        false
    }

    /// The window over which the policy counts errors per key ([`crate::pool::KeyState::errors`]),
    /// if it does (error-threshold: its reset interval). With a shared store the counts are
    /// shared: every replica's errors on a key count toward its threshold.
    fn counts_errors(&self) -> Option<Duration> {
        None
    }
}

/// A policy preset with its parameters: what scenarios and `--policy` name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PolicyConfig {
    /// Rotate per request; on 429 or a network error try the next key (multi-key Groq seed).
    RoundRobin,
    /// Stay on one key; rotate when the error text looks like a limit (SmartLLM seed).
    StickyFailover(sticky_failover::Params),
    /// Primary first; switch only on a daily limit (GroqKeyManager seed).
    DailyExhaust(daily_exhaust::Params),
    /// Round-robin; failed keys cool for a fixed time (multi-key architecture seed).
    Cooldown(cooldown::Params),
    /// Primary first; disable keys past an error count (fallback setup seed).
    ErrorThreshold(error_threshold::Params),
    /// Budget-aware, organisation-aware, paced; waits instead of failing (keyrotor's).
    Adaptive(adaptive::Params),
}

/// One preset as a listing shows it: name, seed, behaviour, parameters.
#[derive(Debug)]
pub struct PresetInfo {
    /// Preset name.
    pub name: &'static str,
    /// The seed it reproduces.
    pub seed: &'static str,
    /// What it does.
    pub behaviour: &'static str,
    /// Where the seed's text and code are silent or ambiguous, what the preset does, and
    /// why (read against the seed line by line).
    pub choices: &'static [&'static str],
    /// Its default configuration.
    pub default: PolicyConfig,
}

impl PolicyConfig {
    /// Every preset, with defaults.
    pub fn presets() -> Vec<PresetInfo> {
        vec![
            PresetInfo {
                name: "round-robin",
                seed: "000 multi-key Groq system",
                behaviour: "next key per request; any failed attempt (429, 401, 5xx, network error) tries the next key, each at most once; then fail",
                choices: &[
                    "the loop `if (response.status === 429) continue; if (response.ok) return success;` falls through to the next key on every other answer too (401, 5xx), and network errors \"recover with the next available key\"",
                    "the starting key advances by one per request (currentKeyIndex); a request tries each key at most once (attempt < GROQ_KEYS.length)",
                    "no wait between attempts and no memory of failed keys: the seed shows neither",
                ],
                default: PolicyConfig::RoundRobin,
            },
            PresetInfo {
                name: "sticky-failover",
                seed: "004 SmartLLM (aurora_v2.py)",
                behaviour: "stay on the current key (the SDK retries 429/5xx itself); rotate when the error text contains rate/limit/quota; attempts = keys; then a fallback answer",
                choices: &[
                    "one current key shared by every request (self.client), moved only by _rotate_api_key",
                    "each attempt is a groq-python call with its defaults: 2 retries of 408/409/429/5xx, timeouts and connection errors, honouring retry-after up to 60 s, else 0.5 s·2ⁿ up to 8 s less up to 25 % jitter",
                    "str(e) is the SDK's `Error code: <status> - <body>`: a 413 (`rate_limit_exceeded`) rotates, a 503 (`over capacity`) does not",
                    "the last attempt does not rotate (`attempt < max_retries - 1`); after it, or after another error, the user gets fallback_response(): counted as failed and degraded",
                    "a stream that breaks after its 200 is not retried by the SDK",
                ],
                default: PolicyConfig::StickyFailover(Default::default()),
            },
            PresetInfo {
                name: "daily-exhaust",
                seed: "001 GroqKeyManager",
                behaviour: "primary first; switch only on a daily token limit and mark the key exhausted; other 429s back off on the same key; 401 fails at once; at most 10 switches",
                choices: &[
                    "only a daily token limit (TPD) switches keys (\"Key switching only happens for daily token limit errors\"); a daily request limit (RPD) is a \"rate limit error\" to the seed and backs off on the same key",
                    "the exponential backoff is 1 s·2ⁿ, 3 retries: the seed names no figures",
                    "an exhausted key returns when its daily window resets (the seed's resetExhaustedKeys() is called by hand \"at the start of a new day\")",
                    "other errors (5xx, timeouts) are thrown to the caller without a switch",
                ],
                default: PolicyConfig::DailyExhaust(Default::default()),
            },
            PresetInfo {
                name: "cooldown",
                seed: "002 multi-key architecture (PromptLord)",
                behaviour: "round-robin over ready keys; a failed key cools 60 s; up to 3 attempts on different keys; all cooling fails at once",
                choices: &[
                    "any failure of the key cools it (\"Rate limit (429) or error\" → FAILED → 60 seconds); a request error (400, 404, 422) is the request's, not the key's: the request stops and no key cools",
                    "when every key is cooling the request fails at once: the seed shows no wait",
                ],
                default: PolicyConfig::Cooldown(Default::default()),
            },
            PresetInfo {
                name: "error-threshold",
                seed: "003 fallback setup (groq_config)",
                behaviour: "primary first; count errors per key, disable a key at the threshold, reset counts periodically",
                choices: &[
                    "every error (rate limit, quota, invalid key, timeout, unavailable) counts against its key and moves the request to the next enabled key; a 4xx request error (400/404/422) stops, as no key can fix it",
                    "\"too many errors\" is 3; counts and disabled keys reset every hour (\"usually 1 hour\")",
                ],
                default: PolicyConfig::ErrorThreshold(Default::default()),
            },
            PresetInfo {
                name: "adaptive",
                seed: "keyrotor",
                behaviour: "reads rate-limit headers, learns shared organisations, paces below the budget, cools exactly until reset, waits (bounded) when all keys rest, 413 fails fast, 401 disables",
                choices: &[],
                default: PolicyConfig::Adaptive(Default::default()),
            },
        ]
    }

    /// The preset's name.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyConfig::RoundRobin => "round-robin",
            PolicyConfig::StickyFailover(_) => "sticky-failover",
            PolicyConfig::DailyExhaust(_) => "daily-exhaust",
            PolicyConfig::Cooldown(_) => "cooldown",
            PolicyConfig::ErrorThreshold(_) => "error-threshold",
            PolicyConfig::Adaptive(_) => "adaptive",
        }
    }

    /// Builds the policy.
    pub fn build(&self) -> Box<dyn Policy> {
        match self {
            PolicyConfig::RoundRobin => Box::new(RoundRobin),
            PolicyConfig::StickyFailover(p) => Box::new(StickyFailover(p.clone())),
            PolicyConfig::DailyExhaust(p) => Box::new(DailyExhaust(p.clone())),
            PolicyConfig::Cooldown(p) => Box::new(Cooldown(p.clone())),
            PolicyConfig::ErrorThreshold(p) => Box::new(ErrorThreshold(p.clone())),
            PolicyConfig::Adaptive(p) => Box::new(Adaptive::new(p.clone())),
        }
    }
}

/// A policy parameter outside its documented range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be between {min} and {max}, got {value}")]
pub struct OutOfRange {
    /// The parameter.
    pub name: &'static str,
    /// Its smallest allowed value, as written.
    pub min: String,
    /// Its largest allowed value, as written.
    pub max: String,
    /// The value given, as written.
    pub value: String,
}

/// Why a policy text (`NAME` or `NAME:param=value,…`) was refused; the message says which
/// part and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A parameter not written as `name=value`.
    #[error("policy parameter `{0}` is not of the form name=value")]
    NotNameValue(String),
    /// No preset by that name, or a parameter value that does not read as its type.
    #[error("invalid policy `{text}`: {reason} (presets: {presets})")]
    Unreadable {
        /// The text given.
        text: String,
        /// What did not read.
        reason: String,
        /// The presets' names.
        presets: String,
    },
    /// A parameter the preset does not take.
    #[error("invalid policy `{text}`: {policy} takes no parameter `{name}`")]
    NoSuchParameter {
        /// The text given.
        text: String,
        /// The preset.
        policy: &'static str,
        /// The parameter it does not take.
        name: String,
    },
    /// A parameter outside its range.
    #[error("invalid policy `{text}`: {range}")]
    OutOfRange {
        /// The text given.
        text: String,
        /// Which parameter, its range and the value.
        range: OutOfRange,
    },
}

/// Parses `name` or `name:param=value,param=value`, e.g. `cooldown:cooldown=30s,max_attempts=2`.
impl FromStr for PolicyConfig {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, params) = text.split_once(':').unwrap_or((text, ""));
        let mut toml_text = format!("name = {:?}\n", name.trim());
        for pair in params.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| PolicyError::NotNameValue(pair.to_owned()))?;
            let v = v.trim();
            let literal = if v.parse::<f64>().is_ok() || v == "true" || v == "false" {
                v.to_owned()
            } else {
                format!("{v:?}")
            };
            toml_text.push_str(&format!("{} = {literal}\n", k.trim()));
        }
        let config: Self = toml::from_str(&toml_text).map_err(|e| {
            let names: Vec<&str> = Self::presets().iter().map(|p| p.name).collect();
            PolicyError::Unreadable {
                text: text.to_owned(),
                reason: e.message().trim().to_owned(),
                presets: names.join(", "),
            }
        })?;
        // A preset without parameters would ignore any given: refuse what it does not take.
        let taken = serde_json::to_value(&config).unwrap_or_default();
        for pair in params.split(',').filter(|p| !p.trim().is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(k, _)| k).trim();
            if taken.get(name).is_none() || name == "name" {
                return Err(PolicyError::NoSuchParameter {
                    text: text.to_owned(),
                    policy: config.name(),
                    name: name.to_owned(),
                });
            }
        }
        config.validate().map_err(|range| PolicyError::OutOfRange {
            text: text.to_owned(),
            range,
        })?;
        Ok(config)
    }
}

impl PolicyConfig {
    /// Checks every parameter against its documented range.
    pub fn validate(&self) -> Result<(), OutOfRange> {
        match self {
            PolicyConfig::RoundRobin => Ok(()),
            PolicyConfig::StickyFailover(p) => p.validate(),
            PolicyConfig::DailyExhaust(p) => p.validate(),
            PolicyConfig::Cooldown(p) => p.validate(),
            PolicyConfig::ErrorThreshold(p) => p.validate(),
            PolicyConfig::Adaptive(p) => p.validate(),
        }
    }
}

/// The range of every policy's `backoff_base`: 1 ms to 60 s.
pub(crate) fn within_backoff_base(value: Duration) -> Result<(), OutOfRange> {
    within(
        "backoff_base",
        value,
        Duration::from_millis(1),
        Duration::from_secs(60),
    )
}

/// `Ok` when `value` is in `[min, max]`, else an error naming the parameter and the range.
pub(crate) fn within<T: PartialOrd + std::fmt::Debug>(
    name: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<(), OutOfRange> {
    if value >= min && value <= max {
        Ok(())
    } else {
        Err(OutOfRange {
            name,
            min: format!("{min:?}"),
            max: format!("{max:?}"),
            value: format!("{value:?}"),
        })
    }
}

/// `base · 2^n`, capped, with "full jitter": uniform in [0, that].
pub fn jittered_backoff(
    base: Duration,
    n: u32,
    cap: Duration,
    rng: &mut rand::rngs::SmallRng,
) -> Duration {
    use rand::Rng;
    let ceiling = base.saturating_mul(1u32 << n.min(16)).min(cap);
    ceiling.mul_f64(rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_parameters() {
        assert_eq!(
            "round-robin".parse::<PolicyConfig>(),
            Ok(PolicyConfig::RoundRobin)
        );
        let parsed: PolicyConfig = "cooldown:cooldown=30s,max_attempts=2"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed,
            PolicyConfig::Cooldown(cooldown::Params {
                cooldown: Duration::from_secs(30),
                max_attempts: 2
            })
        );
        for preset in PolicyConfig::presets() {
            assert_eq!(
                preset.name.parse::<PolicyConfig>().map(|p| p.name()),
                Ok(preset.name)
            );
            assert_eq!(preset.default.name(), preset.name);
        }
    }

    #[test]
    fn rejects_unknown_names_and_parameters() {
        for bad in [
            "nope",
            "cooldown:bogus=1",
            "cooldown:max_attempts",
            "cooldown:cooldown=soon",
            "round-robin:cooldown=5s",
            "cooldown:max_wait=1s",
            "cooldown:max_attempts=0",
            "cooldown:cooldown=1000y",
            "error-threshold:threshold=0",
            "daily-exhaust:max_switches=0",
            "daily-exhaust:backoff_base=0s",
            "adaptive:max_wait=1000y",
            "adaptive:name=cooldown",
        ] {
            let err = bad
                .parse::<PolicyConfig>()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains("invalid policy") || err.contains("name=value"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn each_refusal_is_its_own_error_and_names_no_command_of_another_crate() {
        let err = |text: &str| text.parse::<PolicyConfig>().err();
        assert!(matches!(err("nope"), Some(PolicyError::Unreadable { .. })));
        assert_eq!(
            err("cooldown:max_attempts"),
            Some(PolicyError::NotNameValue("max_attempts".to_owned()))
        );
        assert!(matches!(
            err("round-robin:cooldown=5s"),
            Some(PolicyError::NoSuchParameter { policy: "round-robin", ref name, .. }) if name == "cooldown"
        ));
        let Some(PolicyError::OutOfRange { range, .. }) = err("cooldown:max_attempts=0") else {
            panic!("max_attempts=0 is out of range");
        };
        assert_eq!(range.name, "max_attempts");
        assert_eq!(
            range.to_string(),
            "max_attempts must be between 1 and 100, got 0"
        );
        for text in ["nope", "cooldown:bogus=1", "cooldown:max_attempts=0"] {
            let message = err(text).map(|e| e.to_string()).unwrap_or_default();
            assert!(!message.contains("keyrotor "), "{text}: {message}");
        }
    }
}
