//! OpenRouter (`/api/v1/chat/completions`). Its limits belong to the account: every key of it
//! shares them. `:free` models are capped per minute and per day; the daily cap comes back
//! whole at midnight UTC (the profile's fixed window, [`groq_wire::providers`]). A 429's
//! message names the cap (`Rate limit exceeded: free-models-per-day…`, `…-per-min…`); its
//! `X-RateLimit-*` headers (on errors only) give the limit and the reset as a Unix time;
//! `retry-after` the wait of a per-minute cap.

use std::time::Duration;

use ::http::HeaderMap;
use groq_wire::providers::Window;
use jiff::Timestamp;
use tokio::time::Instant;

use super::Provider;
use crate::failure::{self, Dimension, Failure, MAX_WAIT, Scope};
use crate::pool::Observed;

/// OpenRouter.
#[derive(Debug, Clone)]
pub struct OpenRouter {
    /// Its daily cap, which resets at a wall-clock time.
    daily: Option<Window>,
}

impl Default for OpenRouter {
    fn default() -> Self {
        Self {
            daily: super::daily_window("openrouter"),
        }
    }
}

impl OpenRouter {
    /// What a 429 means when it arrives at `now` (wall-clock time, for the daily reset).
    pub fn rate_limited_at(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Failure {
        let message = failure::error_message(body).unwrap_or_default();
        let daily = message.contains("per-day");
        let number = |name: &str| {
            let value = headers.get(name)?.to_str().ok()?;
            value.trim().parse::<u64>().ok()
        };
        let wait = if daily {
            // The reset header is a Unix time; in milliseconds when it is that large.
            let reset =
                number("x-ratelimit-reset").map(|r| if r > 100_000_000_000 { r / 1000 } else { r });
            let said = reset
                .and_then(|r| i64::try_from(r).ok())
                .and_then(|r| Timestamp::from_second(r).ok());
            let next = said.or_else(|| self.daily.as_ref().and_then(|w| w.next_reset(now)));
            next.and_then(|at| at.duration_since(now).try_into().ok())
        } else {
            number("retry-after").map(Duration::from_secs)
        };
        Failure::RateLimited {
            scope: if daily { Scope::Day } else { Scope::Minute },
            dimension: Some(Dimension::Requests),
            limit: number("x-ratelimit-limit").filter(|&l| l > 0 && daily),
            org: None,
            wait: wait.map(|w: Duration| w.min(MAX_WAIT)),
        }
    }
}

impl Provider for OpenRouter {
    fn name(&self) -> &'static str {
        "openrouter"
    }

    fn chat_path(&self) -> &'static str {
        "/api/v1/chat/completions"
    }

    fn rate_limited(&self, headers: &HeaderMap, body: &[u8]) -> Failure {
        self.rate_limited_at(headers, body, Timestamp::now())
    }

    fn observe(&self, _headers: &HeaderMap, _at: Instant) -> Option<Observed> {
        None
    }

    fn key_variable(&self) -> &'static str {
        "OPENROUTER_API_KEY"
    }

    fn keys_share_one_scope(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// The per-day cap waits until its reset (from the header, seconds or milliseconds, or
    /// midnight UTC when none is said); the per-minute one its `retry-after`.
    #[test]
    fn the_daily_cap_waits_for_its_reset_and_the_minute_cap_its_retry_after() {
        let router = OpenRouter::default();
        let now = at("2026-12-07T20:00:00Z");
        let day = br#"{"error":{"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day","code":429}}"#;
        let midnight = "1796688000"; // 2026-12-08T00:00:00Z
        let expected = |wait| Failure::RateLimited {
            scope: Scope::Day,
            dimension: Some(Dimension::Requests),
            limit: Some(50),
            org: None,
            wait: Some(wait),
        };
        let four_hours = Duration::from_secs(4 * 3600);
        for reset in [midnight.to_owned(), format!("{midnight}000")] {
            let h = headers(&[("x-ratelimit-limit", "50"), ("x-ratelimit-reset", &reset)]);
            assert_eq!(
                router.rate_limited_at(&h, day, now),
                expected(four_hours),
                "{reset}"
            );
        }
        let h = headers(&[("x-ratelimit-limit", "50")]);
        assert_eq!(
            router.rate_limited_at(&h, day, now),
            expected(four_hours),
            "from the profile"
        );
        let minute =
            br#"{"error":{"message":"Rate limit exceeded: free-models-per-min. ","code":429}}"#;
        let h = headers(&[("retry-after", "7"), ("x-ratelimit-limit", "50")]);
        assert_eq!(
            router.rate_limited_at(&h, minute, now),
            Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(Dimension::Requests),
                limit: None,
                org: None,
                wait: Some(Duration::from_secs(7)),
            }
        );
    }
}
