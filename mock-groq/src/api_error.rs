//! Groq's error responses: status codes and the exact JSON bodies of shared/GROQ.md §3.
//! Every body is `{"error":{"message":…,"type":…,"code":…}}` (`code` omitted where Groq
//! omits it, no `param`).

use axum::http::StatusCode;

pub use crate::error::ErrorBody;
use crate::goduration;
use crate::ledger::{Denial, Window};

const UPGRADE: &str =
    "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing";

/// An error response: status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `error` object.
    pub body: ErrorBody,
}

impl ApiError {
    fn new(
        status: StatusCode,
        message: String,
        kind: &'static str,
        code: Option<&'static str>,
    ) -> Self {
        Self {
            status,
            body: ErrorBody {
                message,
                kind,
                code,
            },
        }
    }

    /// The JSON text of the body.
    pub fn to_json(&self) -> String {
        self.body.to_json()
    }

    /// 401 for an unknown, revoked or missing key.
    pub fn invalid_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Invalid API Key".to_owned(),
            "invalid_request_error",
            Some("invalid_api_key"),
        )
    }

    /// 429 or 413 from a ledger denial.
    pub fn from_denial(denial: &Denial, model: &str, org: &str, time_scale: f64) -> Self {
        match denial {
            Denial::TooLarge { limit, requested } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "Request too large for model `{model}` in organization `{org}` service tier `on_demand` on {}: Limit {limit}, Requested {requested}, please reduce your message size and try again. {UPGRADE}",
                    Window::Tpm.phrase()
                ),
                "tokens",
                Some("rate_limit_exceeded"),
            ),
            Denial::Limited {
                window,
                limit,
                used,
                requested,
                wait,
            } => {
                let wait = wait.div_f64(time_scale);
                let upgrade = match window.kind() {
                    "tokens" => format!(" {UPGRADE}"),
                    _ => String::new(),
                };
                Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Rate limit reached for model `{model}` in organization `{org}` service tier `on_demand` on {}: Limit {limit}, Used {used}, Requested {requested}. Please try again in {}.{upgrade}",
                        window.phrase(),
                        goduration::format_millis(wait)
                    ),
                    window.kind(),
                    Some("rate_limit_exceeded"),
                )
            }
        }
    }

    /// 503 over capacity.
    pub fn over_capacity(model: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{model} is currently over capacity. Please try again and back off exponentially. Visit https://groqstatus.com to see if there is an active incident."
            ),
            "internal_server_error",
            None,
        )
    }

    /// 498 flex tier at capacity (exact body unpublished; code as documented).
    pub fn flex_capacity() -> Self {
        Self::new(
            StatusCode::from_u16(498).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "Flex Tier Capacity Exceeded. Please try again later.".to_owned(),
            "internal_server_error",
            Some("capacity_exceeded"),
        )
    }

    /// 500 internal error.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error".to_owned(),
            "internal_server_error",
            None,
        )
    }

    /// 400 for a request the API cannot use.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            message.into(),
            "invalid_request_error",
            None,
        )
    }

    /// 400 for a request whose prompt and `max_tokens` together exceed the model's context
    /// window (OpenAI's wording and code; Groq's reference is silent on the body).
    pub fn context_length_exceeded(context: u64, prompt: u64, max_tokens: u64) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!(
                "This model's maximum context length is {context} tokens. However, you requested {} tokens ({prompt} in the messages, {max_tokens} in the completion). Please reduce the length of the messages or completion.",
                prompt.saturating_add(max_tokens)
            ),
            "invalid_request_error",
            Some("context_length_exceeded"),
        )
    }

    /// 404 for a model not in the catalog.
    pub fn model_not_found(model: &str) -> Self {
        let body = groq_wire::error::ErrorBody::model_not_found(model);
        Self::new(StatusCode::NOT_FOUND, body.message, body.kind, body.code)
    }

    /// 413 for a body over the size cap.
    pub fn body_too_large(cap: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body too large: the limit is {cap} bytes."),
            "invalid_request_error",
            Some("request_too_large"),
        )
    }

    /// 404 for a path the API does not have.
    pub fn unknown_path(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Unknown request URL: {path}. Please check the URL for typos."),
            "invalid_request_error",
            Some("unknown_url"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tpm_429_body_is_groqs() {
        let denial = Denial::Limited {
            window: Window::Tpm,
            limit: 12000,
            used: 11000,
            requested: 2000,
            wait: Duration::from_secs(5),
        };
        let err = ApiError::from_denial(
            &denial,
            "llama-3.3-70b-versatile",
            "org_01kjh7p9n8f1qs6nz2bz77vy6b",
            1.0,
        );
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            err.to_json(),
            r#"{"error":{"message":"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01kjh7p9n8f1qs6nz2bz77vy6b` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11000, Requested 2000. Please try again in 5s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing","type":"tokens","code":"rate_limit_exceeded"}}"#
        );
    }

    #[test]
    fn rpm_429_has_requests_type_and_scaled_wait() {
        let denial = Denial::Limited {
            window: Window::Rpm,
            limit: 30,
            used: 30,
            requested: 1,
            wait: Duration::from_secs(20),
        };
        let err = ApiError::from_denial(&denial, "m", "o", 10.0);
        assert_eq!(err.body.kind, "requests");
        assert!(err.body.message.ends_with("on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s."), "{}", err.body.message);
    }

    #[test]
    fn too_large_and_fixed_bodies() {
        let err = ApiError::from_denial(
            &Denial::TooLarge {
                limit: 6000,
                requested: 12328,
            },
            "llama-3.1-8b-instant",
            "org_xxx",
            1.0,
        );
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            err.to_json(),
            r#"{"error":{"message":"Request too large for model `llama-3.1-8b-instant` in organization `org_xxx` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 12328, please reduce your message size and try again. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing","type":"tokens","code":"rate_limit_exceeded"}}"#
        );
        assert_eq!(
            ApiError::invalid_api_key().to_json(),
            r#"{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}"#
        );
        assert_eq!(
            ApiError::over_capacity("llama-3.3-70b-versatile").to_json(),
            r#"{"error":{"message":"llama-3.3-70b-versatile is currently over capacity. Please try again and back off exponentially. Visit https://groqstatus.com to see if there is an active incident.","type":"internal_server_error"}}"#
        );
        assert_eq!(ApiError::flex_capacity().status.as_u16(), 498);
    }
}
