//! Cerebras Inference (`/v1/chat/completions`). Its limits belong to the organization, per
//! model, as continuously refilling buckets; every answer carries
//! `x-ratelimit-{limit,remaining,reset}-requests-day` and `…-tokens-minute` (resets in
//! seconds); a 429's flat body (`{"message": "Requests per minute limit exceeded - …",
//! "type": "too_many_requests_error", "code": "request_quota_exceeded"}`) names the window,
//! and `retry-after` the wait.

use std::time::Duration;

use ::http::HeaderMap;
use serde::Deserialize;
use tokio::time::Instant;

use super::{DAY, MINUTE, Provider};
use crate::failure::{Dimension, Failure, MAX_WAIT, Scope};
use crate::pool::Observed;

/// Cerebras Inference.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cerebras;

const LIMIT_REQUESTS: &str = "x-ratelimit-limit-requests-day";
const REMAINING_REQUESTS: &str = "x-ratelimit-remaining-requests-day";
const LIMIT_TOKENS: &str = "x-ratelimit-limit-tokens-minute";
const REMAINING_TOKENS: &str = "x-ratelimit-remaining-tokens-minute";
const RESET_TOKENS: &str = "x-ratelimit-reset-tokens-minute";

#[derive(Deserialize)]
struct Flat {
    #[serde(default)]
    message: String,
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    text(headers, name)?.parse().ok()
}

/// Seconds as Cerebras writes them (`11.38`), 0 to a day.
fn seconds(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let secs: f64 = text(headers, name)?.parse().ok()?;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

impl Provider for Cerebras {
    fn name(&self) -> &'static str {
        "cerebras"
    }

    fn chat_path(&self) -> &'static str {
        "/v1/chat/completions"
    }

    fn rate_limited(&self, headers: &HeaderMap, body: &[u8]) -> Failure {
        let message = serde_json::from_slice::<Flat>(body)
            .map(|f| f.message)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let dimension = if message.starts_with("tokens") {
            Dimension::Tokens
        } else {
            Dimension::Requests
        };
        let daily = message.contains("per day");
        let limit = match (daily, dimension) {
            (true, Dimension::Requests) => number(headers, LIMIT_REQUESTS),
            (false, Dimension::Tokens) if message.contains("per minute") => {
                number(headers, LIMIT_TOKENS)
            }
            _ => None,
        };
        Failure::RateLimited {
            scope: if daily { Scope::Day } else { Scope::Minute },
            dimension: Some(dimension),
            limit: limit.filter(|&l| l > 0),
            org: None,
            wait: number(headers, "retry-after").map(|s| Duration::from_secs(s).min(MAX_WAIT)),
        }
    }

    fn observe(&self, headers: &HeaderMap, at: Instant) -> Option<Observed> {
        let observed = Observed {
            at,
            limit_requests: number(headers, LIMIT_REQUESTS),
            remaining_requests: number(headers, REMAINING_REQUESTS),
            requests_window: DAY,
            limit_tokens: number(headers, LIMIT_TOKENS),
            remaining_tokens: number(headers, REMAINING_TOKENS),
            tokens_window: MINUTE,
            reset_tokens: seconds(headers, RESET_TOKENS),
        };
        (observed.remaining_requests.is_some() || observed.remaining_tokens.is_some())
            .then_some(observed)
    }

    fn key_variable(&self) -> &'static str {
        "CEREBRAS_API_KEY"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn a_429_names_its_window_and_the_headers_their_budgets() {
        let body = br#"{"message":"Requests per minute limit exceeded - too many requests sent.","type":"too_many_requests_error","param":"quota","code":"request_quota_exceeded"}"#;
        let h = headers(&[("retry-after", "12")]);
        assert_eq!(
            Cerebras.classify(429, &h, body),
            Some(Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(Dimension::Requests),
                limit: None,
                org: None,
                wait: Some(Duration::from_secs(12)),
            })
        );
        let tokens = br#"{"message":"Tokens per minute limit exceeded - too many tokens processed.","type":"too_many_requests_error","param":"quota","code":"token_quota_exceeded"}"#;
        let h = headers(&[("retry-after", "3"), (LIMIT_TOKENS, "60000")]);
        assert!(matches!(
            Cerebras.classify(429, &h, tokens),
            Some(Failure::RateLimited {
                dimension: Some(Dimension::Tokens),
                limit: Some(60_000),
                ..
            })
        ));
        let answer = headers(&[
            (LIMIT_REQUESTS, "14400"),
            (REMAINING_REQUESTS, "14399"),
            (LIMIT_TOKENS, "60000"),
            (REMAINING_TOKENS, "59900"),
            (RESET_TOKENS, "0.10"),
        ]);
        let now = Instant::now();
        let seen = Cerebras.observe(&answer, now);
        assert_eq!(seen.and_then(|o| o.limit_requests), Some(14_400));
        assert_eq!(seen.map(|o| o.requests_window), Some(DAY));
        assert_eq!(
            seen.and_then(|o| o.reset_tokens),
            Some(Duration::from_millis(100))
        );
        // Groq's header names are not Cerebras's.
        assert_eq!(
            Cerebras.observe(&headers(&[("x-ratelimit-remaining-requests", "5")]), now),
            None
        );
    }
}
