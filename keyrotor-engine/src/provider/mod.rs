//! What differs between API providers, behind one small trait: where the chat endpoint is,
//! what a 429 says (which window ran out, how long to wait, which organisation), and which
//! window each rate-limit header counts. The rotor and the policies see only [`Failure`]s and
//! [`Observed`] budgets, so adding a provider touches neither.
//!
//! - [`Groq`]: `x-ratelimit-*-requests` count the *day* (RPD), `*-tokens` the minute (TPM);
//!   the 429 message names the window (`(RPM)`, `(TPD)` …) and the organisation in backticks;
//!   one request larger than the TPM limit is a 413.
//! - [`OpenAi`]: the same header names, but `*-requests` count the *minute* (RPM); the
//!   organisation is named without backticks; a request larger than the limit is a 429
//!   ("Request too large …"), which no wait or other key of the organisation can serve.
//! - [`Gemini`]: no rate-limit headers; the 429 body's quota id names the window, and a
//!   per-day quota comes back at midnight Pacific time ([`gemini`]).
//! - [`OpenRouter`]: headers on errors only; the 429 message names the free cap, and the daily
//!   one comes back at midnight UTC; every key shares one budget ([`openrouter`]).
//! - [`Cerebras`]: its own header names (`…-requests-day`, `…-tokens-minute`, resets in
//!   seconds) and a flat error body ([`cerebras`]).

use std::time::Duration;

use ::http::HeaderMap;
use tokio::time::Instant;

use crate::failure::{self, Failure};
use crate::pool::Observed;

pub mod cerebras;
pub mod gemini;
pub mod openrouter;
pub use cerebras::Cerebras;
pub use gemini::Gemini;
pub use openrouter::OpenRouter;

/// One provider's wire conventions.
pub trait Provider: std::fmt::Debug + Send + Sync + 'static {
    /// Its name, as reports show it.
    fn name(&self) -> &'static str;
    /// The chat completions path under a base URL.
    fn chat_path(&self) -> &'static str;
    /// What a 429 answer means.
    fn rate_limited(&self, headers: &HeaderMap, body: &[u8]) -> Failure;
    /// What an answer's rate-limit headers say about the key's budgets (`None`: nothing).
    fn observe(&self, headers: &HeaderMap, at: Instant) -> Option<Observed>;
    /// The environment variable apps keep its key in; [`crate::keys::from_env_named`] reads
    /// it and its variations (`_2`, `1`, `S`, `_BACKUP`, `_FALLBACK`).
    fn key_variable(&self) -> &'static str;

    /// Whether every key of a pool shares one budget, whichever account it belongs to
    /// (OpenRouter's limits are the account's, and "additional accounts or API keys will not
    /// affect your rate limits"): the rotor then treats its keys as one scope from the start,
    /// so one key's 429 rests them all and `adaptive` paces them as one. `false` by default:
    /// keys share a budget only when the pool learns they do.
    fn keys_share_one_scope(&self) -> bool {
        false
    }

    /// Status, headers and body → the failure they mean, or `None` for an answer.
    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Option<Failure> {
        match status {
            429 => Some(self.rate_limited(headers, body)),
            _ => failure::classify(status, headers, body),
        }
    }
}

/// Which API keys belong to, by the name configs and flags give it (`groq`, `openai`,
/// `gemini`, `openrouter`, `cerebras`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// Groq (`/openai/v1/chat/completions`, `GROQ_API_KEY`…).
    #[default]
    Groq,
    /// OpenAI-style headers and paths (`/v1/chat/completions`, `OPENAI_API_KEY`…).
    Openai,
    /// Google's Gemini API on its OpenAI-compatible surface
    /// (`/v1beta/openai/chat/completions`, `GEMINI_API_KEY`…): limits per project, a daily
    /// quota back at midnight Pacific time.
    Gemini,
    /// OpenRouter (`/api/v1/chat/completions`, `OPENROUTER_API_KEY`…): limits per account,
    /// shared by all its keys; the `:free` daily cap back at midnight UTC.
    Openrouter,
    /// Cerebras Inference (`/v1/chat/completions`, `CEREBRAS_API_KEY`…): limits per
    /// organization, its own `x-ratelimit-*-requests-day` / `-tokens-minute` headers.
    Cerebras,
}

impl ProviderName {
    /// Every provider, in the order help texts list them.
    pub const ALL: [ProviderName; 5] = [
        ProviderName::Groq,
        ProviderName::Openai,
        ProviderName::Gemini,
        ProviderName::Openrouter,
        ProviderName::Cerebras,
    ];

    /// Its name in configs and flags (also its profile's id, `keyrotor providers`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Groq => "groq",
            Self::Openai => "openai",
            Self::Gemini => "gemini",
            Self::Openrouter => "openrouter",
            Self::Cerebras => "cerebras",
        }
    }

    /// Its wire conventions.
    ///
    /// ```
    /// use keyrotor_engine::provider::ProviderName;
    /// let gemini: ProviderName = "gemini".parse().expect("a provider");
    /// assert_eq!(gemini.provider().chat_path(), "/v1beta/openai/chat/completions");
    /// ```
    pub fn provider(self) -> Box<dyn Provider> {
        match self {
            Self::Groq => Box::new(Groq),
            Self::Openai => Box::new(OpenAi),
            Self::Gemini => Box::new(Gemini::default()),
            Self::Openrouter => Box::new(OpenRouter::default()),
            Self::Cerebras => Box::new(Cerebras),
        }
    }
}

impl std::str::FromStr for ProviderName {
    type Err = String;

    /// A provider by its [`ProviderName::id`]; the error lists them all.
    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == text)
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|p| p.id()).collect();
                format!("unknown provider `{text}`: one of {}", all.join(", "))
            })
    }
}

impl std::fmt::Display for ProviderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A boxed provider is one (the proxy picks its provider when it reads its config).
impl<P: Provider + ?Sized> Provider for Box<P> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn chat_path(&self) -> &'static str {
        (**self).chat_path()
    }
    fn rate_limited(&self, headers: &HeaderMap, body: &[u8]) -> Failure {
        (**self).rate_limited(headers, body)
    }
    fn observe(&self, headers: &HeaderMap, at: Instant) -> Option<Observed> {
        (**self).observe(headers, at)
    }
    fn key_variable(&self) -> &'static str {
        (**self).key_variable()
    }
    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Option<Failure> {
        (**self).classify(status, headers, body)
    }
    fn keys_share_one_scope(&self) -> bool {
        (**self).keys_share_one_scope()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// The daily requests window of built-in profile `id` (Gemini's and OpenRouter's come back
/// whole at a wall-clock time).
fn daily_window(id: &str) -> Option<groq_wire::providers::Window> {
    use groq_wire::providers::{Dimension, Profiles, Span};
    let profiles = Profiles::builtin();
    let profile = profiles.find(id)?;
    profile.window(Dimension::Requests, Span::Day).cloned()
}
const DAY: Duration = Duration::from_secs(86_400);

/// Groq (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Groq;

impl Provider for Groq {
    fn name(&self) -> &'static str {
        "groq"
    }

    fn chat_path(&self) -> &'static str {
        crate::transport::CHAT_PATH
    }

    fn rate_limited(&self, headers: &HeaderMap, body: &[u8]) -> Failure {
        failure::rate_limited(headers, body)
    }

    fn observe(&self, headers: &HeaderMap, at: Instant) -> Option<Observed> {
        Observed::read(headers, at, DAY, MINUTE)
    }

    fn key_variable(&self) -> &'static str {
        "GROQ_API_KEY"
    }
}

/// OpenAI and APIs that follow its headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAi;

impl Provider for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn chat_path(&self) -> &'static str {
        "/v1/chat/completions"
    }

    fn rate_limited(&self, headers: &HeaderMap, body: &[u8]) -> Failure {
        let message = failure::error_message(body).unwrap_or_default();
        if message.starts_with("Request too large") {
            return Failure::TooLarge;
        }
        let mut read = failure::rate_limited(headers, body);
        if let Failure::RateLimited { org, .. } = &mut read {
            // "… in organization org-abc on requests per min (RPM) …"
            *org = message
                .split_once("in organization ")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .map(|o| o.trim_matches('`').to_owned());
        }
        read
    }

    fn observe(&self, headers: &HeaderMap, at: Instant) -> Option<Observed> {
        Observed::read(headers, at, MINUTE, MINUTE)
    }

    fn key_variable(&self) -> &'static str {
        "OPENAI_API_KEY"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{Dimension, Scope};
    use crate::test_support::headers;

    /// The same header reads as a day's budget from Groq and a minute's from OpenAI: after
    /// 30 s, Groq's 0 of 1,000 requests has refilled by 0.35, OpenAI's 0 of 1,000 by 500.
    #[tokio::test(start_paused = true)]
    async fn the_requests_header_counts_a_day_at_groq_and_a_minute_at_openai() {
        let h = headers(&[
            ("x-ratelimit-limit-requests", "1000"),
            ("x-ratelimit-remaining-requests", "0"),
        ]);
        let now = Instant::now();
        let later = now + Duration::from_secs(30);
        let left = |p: &dyn Provider| {
            p.observe(&h, now)
                .and_then(|o| o.requests_at(later))
                .unwrap_or(f64::NAN)
        };
        assert!((left(&Groq) - 1000.0 * 30.0 / 86_400.0).abs() < 1e-9);
        assert!((left(&OpenAi) - 500.0).abs() < 1e-9);
    }

    #[test]
    fn openai_429s_name_their_window_wait_and_organisation() {
        let body = br#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc123 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        let failure = OpenAi.classify(429, &headers(&[]), body);
        assert_eq!(
            failure,
            Some(Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(Dimension::Requests),
                limit: Some(3),
                org: Some("org-abc123".to_owned()),
                wait: Some(Duration::from_secs(20)),
            })
        );
        let too_large = br#"{"error":{"message":"Request too large for gpt-4 in organization org-abc123 on tokens per min (TPM): Limit 10000, Requested 20000. The input or output tokens must be reduced in order to run successfully.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
        assert_eq!(
            OpenAi.classify(429, &headers(&[]), too_large),
            Some(Failure::TooLarge)
        );
        // Groq reads the same body as a plain rate limit: its oversized requests are 413s.
        assert!(matches!(
            Groq.classify(429, &headers(&[]), too_large),
            Some(Failure::RateLimited { .. })
        ));
        assert_eq!(
            OpenAi.classify(200, &headers(&[]), b"{\"choices\":[{}]}"),
            None
        );
    }

    /// Each provider's keys come from its own variable family, in the same conventions.
    #[test]
    fn keys_come_from_the_providers_own_variables() {
        let vars = [
            ("OPENAI_API_KEY", "sk-one"),
            ("OPENAI_API_KEY_2", "sk-two"),
            ("OPENAI_API_KEYS", "sk-three,sk-one"),
            ("GROQ_API_KEY", "gsk-other"),
        ];
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let openai = crate::keys::from_vars_named(OpenAi.key_variable(), lookup);
        let shown: Vec<&str> = openai.keys.iter().map(|k| k.expose()).collect();
        assert_eq!(shown, ["sk-one", "sk-two", "sk-three"]);
        assert_eq!(
            openai.warnings.len(),
            1,
            "the repeated key is skipped, with a warning"
        );
        let groq = crate::keys::from_vars_named(Groq.key_variable(), lookup);
        assert_eq!(groq.keys.len(), 1);
    }
}
