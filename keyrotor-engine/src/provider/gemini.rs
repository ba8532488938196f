//! Google's Gemini API on its OpenAI-compatible surface (`/v1beta/openai/chat/completions`).
//! Its limits belong to the Google Cloud project, per model, and it sends no rate-limit
//! headers: a 429 is `RESOURCE_EXHAUSTED` with the window in `QuotaFailure`'s quota id
//! (`GenerateRequestsPerMinutePerProjectPerModel-FreeTier`, `…PerDay…`) and the wait in
//! `RetryInfo.retryDelay`. A per-minute 429 waits its `retryDelay`; a per-day one waits until
//! the daily quota comes back whole, at midnight Pacific time (the profile's fixed window,
//! [`groq_wire::providers`]), daylight saving included — not the seconds `retryDelay` says.

use std::time::Duration;

use ::http::HeaderMap;
use groq_wire::providers::Window;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::time::Instant;

use super::Provider;
use crate::failure::{Dimension, Failure, Scope};
use crate::pool::Observed;

/// The Gemini API.
#[derive(Debug, Clone)]
pub struct Gemini {
    /// Its daily requests window, which resets at a wall-clock time.
    daily: Option<Window>,
}

impl Default for Gemini {
    fn default() -> Self {
        Self {
            daily: super::daily_window("gemini"),
        }
    }
}

impl Gemini {
    /// When the daily quota next comes back after `now`: midnight Pacific time.
    pub fn daily_reset(&self, now: Timestamp) -> Option<Timestamp> {
        self.daily.as_ref().and_then(|w| w.next_reset(now))
    }

    /// What a 429 means when it arrives at `now` (wall-clock time, for the daily reset).
    pub fn rate_limited_at(&self, body: &[u8], now: Timestamp) -> Failure {
        let said = Said::read(body);
        let (scope, dimension) = match said.quota_id.as_deref() {
            Some(id) if id.contains("PerDay") => (Scope::Day, Some(counted(id))),
            Some(id) if id.contains("PerMinute") => (Scope::Minute, Some(counted(id))),
            _ => (Scope::Minute, None),
        };
        let wait = match scope {
            Scope::Day => self
                .daily_reset(now)
                .and_then(|at| at.duration_since(now).try_into().ok())
                .or(said.retry_delay),
            Scope::Minute => said.retry_delay,
        };
        Failure::RateLimited {
            scope,
            dimension,
            limit: said.limit,
            org: None,
            wait,
        }
    }
}

/// Requests or tokens, as a quota id names them.
fn counted(quota_id: &str) -> Dimension {
    if quota_id.contains("Token") {
        Dimension::Tokens
    } else {
        Dimension::Requests
    }
}

impl Provider for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn chat_path(&self) -> &'static str {
        "/v1beta/openai/chat/completions"
    }

    fn rate_limited(&self, _headers: &HeaderMap, body: &[u8]) -> Failure {
        self.rate_limited_at(body, Timestamp::now())
    }

    fn observe(&self, _headers: &HeaderMap, _at: Instant) -> Option<Observed> {
        None
    }

    fn key_variable(&self) -> &'static str {
        "GEMINI_API_KEY"
    }
}

/// What a `RESOURCE_EXHAUSTED` body says: the quota id of its first violation, that quota's
/// value, and the retry delay.
#[derive(Debug, Default)]
struct Said {
    quota_id: Option<String>,
    limit: Option<u64>,
    retry_delay: Option<Duration>,
}

/// The body: `{"error": …}`, or that object in an array (as the OpenAI-compatible surface
/// sends it).
#[derive(Deserialize)]
struct Wrapped {
    error: Error,
}

#[derive(Deserialize)]
struct Error {
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    #[serde(rename = "@type", default)]
    kind: String,
    #[serde(default)]
    violations: Vec<Violation>,
    #[serde(rename = "retryDelay")]
    retry_delay: Option<String>,
}

#[derive(Deserialize)]
struct Violation {
    #[serde(rename = "quotaId")]
    quota_id: Option<String>,
    #[serde(rename = "quotaValue")]
    quota_value: Option<String>,
}

impl Said {
    fn read(body: &[u8]) -> Said {
        let first = serde_json::from_slice::<Vec<Wrapped>>(body)
            .ok()
            .and_then(|many| many.into_iter().next());
        let Some(Wrapped { error }) =
            first.or_else(|| serde_json::from_slice::<Wrapped>(body).ok())
        else {
            return Said::default();
        };
        let mut said = Said::default();
        for detail in error.details {
            if detail.kind.ends_with("google.rpc.QuotaFailure") {
                if let Some(v) = detail.violations.into_iter().next() {
                    said.limit = v.quota_value.and_then(|q| q.parse().ok());
                    said.quota_id = v.quota_id;
                }
            } else if detail.kind.ends_with("google.rpc.RetryInfo") {
                said.retry_delay = detail.retry_delay.as_deref().and_then(seconds);
            }
        }
        said
    }
}

/// A protobuf duration as JSON writes it: `"37s"`, `"0.5s"` (0 to one day).
fn seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(quota_id: &str, value: &str, delay: &str) -> Vec<u8> {
        format!(
            r#"[{{"error":{{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"{quota_id}","quotaValue":"{value}"}}]}},{{"@type":"type.googleapis.com/google.rpc.Help","links":[]}},{{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{delay}"}}]}}}}]"#
        )
        .into_bytes()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// A per-minute 429 waits its retryDelay; a per-day one waits until midnight Pacific:
    /// from 06:00 UTC on a winter day, 2 hours (midnight PST is 08:00 UTC); on the day the
    /// clocks spring forward, from just after midnight, 23 hours; on the autumn change, 25.
    #[test]
    fn a_per_day_quota_waits_for_midnight_pacific_and_a_per_minute_one_its_delay() {
        let gemini = Gemini::default();
        let minute = body(
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "10",
            "37s",
        );
        assert_eq!(
            gemini.rate_limited_at(&minute, at("2026-01-15T06:00:00Z")),
            Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(Dimension::Requests),
                limit: Some(10),
                org: None,
                wait: Some(Duration::from_secs(37)),
            }
        );
        let day = body(
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "250",
            "12s",
        );
        let wait = |now: &str| gemini.rate_limited_at(&day, at(now)).wait();
        let hours = |h: u64| Some(Duration::from_secs(h * 3600));
        assert_eq!(wait("2026-01-15T06:00:00Z"), hours(2));
        assert_eq!(wait("2026-03-08T08:00:00Z"), hours(23));
        assert_eq!(wait("2026-11-01T07:00:00Z"), hours(25));
        assert!(matches!(
            gemini.rate_limited_at(&day, at("2026-01-15T06:00:00Z")),
            Failure::RateLimited {
                scope: Scope::Day,
                limit: Some(250),
                ..
            }
        ));
        let tokens = body(
            "GenerateContentInputTokensPerModelPerMinute-FreeTier",
            "250000",
            "20s",
        );
        assert!(matches!(
            gemini.rate_limited_at(&tokens, at("2026-01-15T06:00:00Z")),
            Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(Dimension::Tokens),
                ..
            }
        ));
        // The same body not wrapped in an array reads the same.
        let object = &day[1..day.len() - 1];
        assert_eq!(
            wait("2026-01-15T06:00:00Z"),
            gemini
                .rate_limited_at(object, at("2026-01-15T06:00:00Z"))
                .wait()
        );
        // Through the provider seam: a 429 is classified as the body says.
        assert!(matches!(
            gemini.classify(429, &HeaderMap::new(), &day),
            Some(Failure::RateLimited {
                scope: Scope::Day,
                ..
            })
        ));
        // A body it cannot read is still a rate limit, of unknown window and wait.
        assert_eq!(
            gemini
                .rate_limited_at(b"<html>", at("2026-01-15T06:00:00Z"))
                .wait(),
            None
        );
    }
}
