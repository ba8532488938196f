//! Which provider the mock imitates, from its profile ([`groq_wire::providers`]): the paths
//! it answers on, the windows of its ledgers (refilling or fixed, per the profile), the
//! rate-limit headers it writes and on which answers, and its 429 bodies.
//!
//! Groq is the default and answers as it always did. Gemini answers on
//! `/v1beta/openai/chat/completions` with no rate-limit headers and a 429 body in Google's
//! shape — a list holding `{"error": {"code", "message", "status": "RESOURCE_EXHAUSTED",
//! "details": [QuotaFailure, RetryInfo]}}` — whose quota id names the window; its daily
//! window comes back at midnight Pacific time. OpenRouter answers on
//! `/api/v1/chat/completions`, its `:free` caps shared by every key of an account, its
//! `X-RateLimit-*` headers on errors only and in the 429 body's `metadata.headers`; its daily
//! cap comes back at midnight UTC. Cerebras answers on `/v1/chat/completions` with its
//! `x-ratelimit-*-requests-day` / `-tokens-minute` headers (resets in seconds) and its flat
//! error body. Other errors (401, 404, 400) keep Groq's bodies.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use groq_wire::providers::{Dimension, Profile, Profiles, Refill, ResetFormat, Span};
use jiff::Timestamp;
use serde_json::json;

use crate::catalog::{Limits, Model};
use crate::clock::Clock;
use crate::config::{Config, ConfigError, LimitsOverride, OrgConfig};
use crate::goduration;
use crate::ledger::{Ledger, Snapshot, Window};

/// The providers the mock speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    /// Groq (the default).
    Groq,
    /// Google's Gemini API, OpenAI-compatible surface.
    Gemini,
    /// OpenRouter.
    OpenRouter,
    /// Cerebras Inference.
    Cerebras,
}

impl Speaks {
    const ALL: [(&'static str, Speaks); 4] = [
        ("groq", Speaks::Groq),
        ("gemini", Speaks::Gemini),
        ("openrouter", Speaks::OpenRouter),
        ("cerebras", Speaks::Cerebras),
    ];
}

/// One rate-limit header triple (limit, remaining, reset) and the window it describes.
#[derive(Debug, Clone)]
struct Triple {
    names: [HeaderName; 3],
    window: Window,
}

/// The provider the mock imitates.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Which one.
    pub speaks: Speaks,
    /// Its profile.
    pub profile: Profile,
    triples: Vec<Triple>,
    format: ResetFormat,
}

impl Provider {
    /// The provider `config` names, checked: one the mock speaks, its models listed when it
    /// is not Groq, and every limit override a window the provider has.
    pub fn check(config: &Config) -> Result<Provider, ConfigError> {
        let bad = |msg: String| Err(ConfigError::Invalid(msg));
        let Some(&(_, speaks)) = Speaks::ALL.iter().find(|(id, _)| *id == config.provider) else {
            let known: Vec<&str> = Speaks::ALL.iter().map(|(id, _)| *id).collect();
            return bad(format!(
                "provider `{}`: the mock speaks {}",
                config.provider,
                known.join(", ")
            ));
        };
        let profiles = Profiles::builtin();
        let Some(profile) = profiles.find(&config.provider).cloned() else {
            return bad(format!("provider `{}` has no profile", config.provider));
        };
        match speaks {
            Speaks::Groq if !config.models.is_empty() => {
                return bad("models: Groq's models come from its catalog; `models` lists another provider's".to_owned());
            }
            Speaks::Groq => {}
            _ if config.models.is_empty() => {
                return bad(format!(
                    "provider `{}`: list the models it serves, e.g. models = [\"{}\"]",
                    profile.id,
                    example_model(speaks)
                ));
            }
            _ => {}
        }
        for org in &config.orgs {
            check_overrides(&profile, org)?;
        }
        let triples = triples(&profile);
        let format = profile
            .headers
            .reset_format
            .unwrap_or(ResetFormat::GoDuration);
        Ok(Provider {
            speaks,
            profile,
            triples,
            format,
        })
    }

    /// The models it serves: Groq's catalog, or the config's list (served on every day, no
    /// context limit, the service time from the latency settings).
    pub fn models(&self, config: &Config) -> Vec<Model> {
        if self.speaks == Speaks::Groq {
            return crate::catalog::current().models.clone();
        }
        let template = &crate::catalog::current().models[0];
        let source = self.profile.sources.first().cloned();
        config
            .models
            .iter()
            .map(|id| Model {
                id: id.clone(),
                owned_by: self.profile.name.clone(),
                context_window: u64::MAX,
                free: Limits::NONE,
                limits_source: source
                    .clone()
                    .unwrap_or_else(|| template.limits_source.clone()),
                developer: None,
                developer_source: None,
                price: None,
                price_source: None,
                since: None,
                deprecated: None,
                decommissioned: None,
                dates_source: None,
                replacement: None,
                note: String::new(),
                decode_tps: PROVIDED_DECODE_TPS,
                prefill_tps: PROVIDED_PREFILL_TPS,
            })
            .collect()
    }

    /// A fresh ledger for one scope and model: Groq's from the catalog's `limits`; another
    /// provider's windows from its profile (its free figures where it publishes them),
    /// overridden by the scope's `limits`, fixed windows resetting on the wall clock from
    /// `epoch`.
    pub fn ledger(&self, limits: Limits, over: LimitsOverride, epoch: Timestamp) -> Ledger {
        if self.speaks == Speaks::Groq {
            return Ledger::new(over.apply(limits));
        }
        let mut ledger = Ledger::unlimited().without_too_large();
        for w in &self.profile.windows {
            let window = Window::of(w.dimension, w.span);
            ledger = ledger.with_limit(window, limit_of(w, &over));
            if matches!(w.refill, Refill::Fixed { .. }) {
                ledger = ledger.with_fixed(window, w, epoch);
            }
        }
        ledger
    }

    /// The rate-limit headers this provider writes on an answer: on every answer, on errors
    /// only (`error`), or none. `start_unix` is the mock's start on the wall clock (read only
    /// for a reset written as a Unix time).
    pub fn insert_rate_limits(
        &self,
        headers: &mut HeaderMap,
        snap: &Snapshot,
        clock: &Clock,
        (start_unix, error): (u64, bool),
    ) {
        use groq_wire::providers::HeadersOn;
        match self.profile.headers.on {
            Some(HeadersOn::Every) => {}
            Some(HeadersOn::Errors) if error => {}
            _ => return,
        }
        for triple in &self.triples {
            let Some(view) = snap.of(triple.window) else {
                continue;
            };
            let reset = clock.to_real(view.reset);
            let reset = match self.format {
                ResetFormat::GoDuration => goduration::format_millis(reset),
                ResetFormat::Seconds => format!("{:.2}", reset.as_secs_f64()),
                ResetFormat::EpochSeconds => {
                    let now = start_unix.saturating_add(clock.to_real(clock.now()).as_secs());
                    now.saturating_add(reset.as_secs_f64().ceil() as u64)
                        .to_string()
                }
            };
            let [limit, remaining, reset_name] = &triple.names;
            headers.insert(limit.clone(), HeaderValue::from(view.limit));
            headers.insert(remaining.clone(), HeaderValue::from(view.remaining));
            if let Ok(v) = HeaderValue::from_str(&reset) {
                headers.insert(reset_name.clone(), v);
            }
        }
    }

    /// A 429 in this provider's words for `window` of `model` running out in scope `scope`
    /// (not Groq, whose answer is [`crate::api_error::ApiError::from_denial`]): status, body
    /// and, where the provider says the wait in a header, `retry-after`. `wait_real` is the
    /// wait in real time, `limit` the window's.
    pub fn rate_limited(&self, denied: Denied<'_>) -> Response {
        let secs = denied.wait_real.as_secs_f64().ceil().max(1.0) as u64;
        let body = match self.speaks {
            Speaks::Gemini => gemini_body(&denied, secs),
            Speaks::OpenRouter => openrouter_body(&denied),
            Speaks::Cerebras | Speaks::Groq => cerebras_body(denied.window),
        };
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        if self.profile.errors.retry_after == groq_wire::providers::RetryAfter::Header {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The per-minute and per-day limits (RPM, RPD, TPM, TPD) a scope of provider `id` (not Groq,
/// whose come from the catalog: [`crate::config::limits_in_force`]) has with `over`, and a
/// phrase saying where they come from (for reports); hourly windows are not among them.
pub fn limits_in_force(id: &str, over: Option<LimitsOverride>) -> (Limits, String) {
    let profiles = Profiles::builtin();
    let Some(profile) = profiles.find(id) else {
        return (Limits::NONE, format!("none: no profile {id}"));
    };
    let set = over.unwrap_or_default();
    let figure = |window: Window| {
        let published = profile.window(window.dimension(), window.span())?;
        limit_of(published, &set)
    };
    let limits = Limits {
        rpm: figure(Window::Rpm),
        rpd: figure(Window::Rpd),
        tpm: figure(Window::Tpm),
        tpd: figure(Window::Tpd),
    };
    let publishes = profile.windows.iter().any(|w| w.free.is_some());
    let published = format!("{}'s published free figures (providers.toml)", profile.name);
    let source = match (over, publishes) {
        (Some(_), true) => format!("overrides on {published}"),
        (Some(_), false) => "explicit limits".to_owned(),
        (None, true) => published,
        (None, false) => format!(
            "none: {} publishes no free figures keyrotor cites, so the mock limits nothing unless told (`limits`)",
            profile.name
        ),
    };
    (limits, source)
}

/// What ran out, for a 429 in a provider's words.
pub struct Denied<'a> {
    /// The window.
    pub window: Window,
    /// Its limit.
    pub limit: u64,
    /// The model asked for.
    pub model: &'a str,
    /// The scope's id (project, account, organisation).
    pub scope: &'a str,
    /// Until the request would fit, in real time.
    pub wait_real: Duration,
    /// The window's headers as the provider writes them (OpenRouter repeats them in the body).
    pub headers: &'a HeaderMap,
}

/// Output speed of a model of another provider, when the latency settings give none.
const PROVIDED_DECODE_TPS: f64 = 200.0;
/// Prompt speed of a model of another provider, when the latency settings give none.
const PROVIDED_PREFILL_TPS: f64 = 2_000.0;

fn example_model(speaks: Speaks) -> &'static str {
    match speaks {
        Speaks::Gemini => "gemini-2.5-flash",
        Speaks::OpenRouter => "meta-llama/llama-3.3-70b-instruct:free",
        Speaks::Cerebras | Speaks::Groq => "gpt-oss-120b",
    }
}

/// The config's figure for `window`, if it sets one.
fn override_of(over: &LimitsOverride, window: Window) -> Option<u64> {
    match window {
        Window::Rpm => over.rpm,
        Window::Rpd => over.rpd,
        Window::Tpm => over.tpm,
        Window::Tpd => over.tpd,
        Window::Rph => over.rph,
        Window::Tph => over.tph,
    }
}

/// A window's limit in a scope: the scope's override (0: unlimited), else the published
/// free figure (none: unlimited).
fn limit_of(published: &groq_wire::providers::Window, over: &LimitsOverride) -> Option<u64> {
    match override_of(over, Window::of(published.dimension, published.span)) {
        Some(0) => None,
        Some(v) => Some(v),
        None => published.free,
    }
}

/// Every limit a scope overrides must be a window of the provider.
fn check_overrides(profile: &Profile, org: &OrgConfig) -> Result<(), ConfigError> {
    let over = org.limits.unwrap_or_default();
    for window in Window::ALL {
        let has = profile.window(window.dimension(), window.span()).is_some();
        if override_of(&over, window).is_some() && !has {
            return Err(ConfigError::Invalid(format!(
                "organisation `{}`: limits.{} — {} has no {} limit",
                org.id,
                window.name(),
                profile.name,
                window.phrase()
            )));
        }
    }
    Ok(())
}

/// The profile's header triples, with the window each describes.
fn triples(profile: &Profile) -> Vec<Triple> {
    let h = &profile.headers;
    let mut out = Vec::new();
    for (names, span, dimension) in [
        (&h.requests, h.requests_span, Dimension::Requests),
        (&h.tokens, h.tokens_span, Dimension::Tokens),
    ] {
        let [Some(limit), Some(remaining), Some(reset)] = names else {
            continue;
        };
        let parsed = [limit, remaining, reset].map(|n| HeaderName::try_from(n.as_str()).ok());
        if let ([Some(a), Some(b), Some(c)], Some(span)) = (parsed, span) {
            out.push(Triple {
                names: [a, b, c],
                window: Window::of(dimension, span),
            });
        }
    }
    out
}

/// Gemini's quota id and metric for a window (as its 429s name them).
fn gemini_quota(window: Window) -> (&'static str, &'static str) {
    match (window.dimension(), window.span()) {
        (Dimension::Tokens, _) => (
            "GenerateContentInputTokensPerModelPerMinute-FreeTier",
            "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
        ),
        (Dimension::Requests, Span::Day) => (
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        ),
        (Dimension::Requests, _) => (
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        ),
    }
}

fn gemini_body(d: &Denied<'_>, secs: u64) -> serde_json::Value {
    let (quota_id, metric) = gemini_quota(d.window);
    json!([{"error": {
        "code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": metric,
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": d.model},
                "quotaValue": d.limit.to_string(),
            }]},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                "description": "Learn more about Gemini API quotas",
                "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
            }]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{secs}s")},
        ],
    }}])
}

fn openrouter_body(d: &Denied<'_>) -> serde_json::Value {
    let message = match d.window.span() {
        Span::Day => {
            "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"
        }
        _ => "Rate limit exceeded: free-models-per-min. ",
    };
    let said = |name: &str| {
        d.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    json!({
        "error": {
            "message": message,
            "code": 429,
            "metadata": {
                "headers": {
                    "X-RateLimit-Limit": said("x-ratelimit-limit"),
                    "X-RateLimit-Remaining": said("x-ratelimit-remaining"),
                    "X-RateLimit-Reset": said("x-ratelimit-reset"),
                },
                "provider_name": null,
            },
        },
        "user_id": format!("user_{}", d.scope),
    })
}

fn cerebras_body(window: Window) -> serde_json::Value {
    let span = match window.span() {
        Span::Minute => "minute",
        Span::Hour => "hour",
        Span::Day => "day",
    };
    let (what, too_many, code) = match window.dimension() {
        Dimension::Requests => (
            "Requests",
            "too many requests sent",
            "request_quota_exceeded",
        ),
        Dimension::Tokens => (
            "Tokens",
            "too many tokens processed",
            "token_quota_exceeded",
        ),
    };
    json!({
        "message": format!("{what} per {span} limit exceeded - {too_many}."),
        "type": "too_many_requests_error",
        "param": "quota",
        "code": code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_in_force_say_where_they_come_from() {
        let (limits, source) = limits_in_force("gemini", None);
        assert_eq!(limits, Limits::NONE);
        assert!(
            source.starts_with("none: Google Gemini API publishes no free figures"),
            "{source}"
        );
        let (limits, source) = limits_in_force("openrouter", None);
        assert_eq!(
            (limits.rpm, limits.rpd, limits.tpm),
            (Some(20), Some(50), None)
        );
        assert_eq!(
            source,
            "OpenRouter's published free figures (providers.toml)"
        );
        let over = LimitsOverride {
            rpm: Some(2),
            tpd: Some(0),
            ..LimitsOverride::default()
        };
        let (limits, source) = limits_in_force("cerebras", Some(over));
        assert_eq!(
            (limits.rpm, limits.rpd, limits.tpm, limits.tpd),
            (Some(2), None, Some(30_000), None)
        );
        assert!(
            source.starts_with("overrides on Cerebras Inference's"),
            "{source}"
        );
        let (_, source) = limits_in_force("gemini", Some(over));
        assert_eq!(source, "explicit limits");
    }
}
