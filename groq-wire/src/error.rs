//! Groq's error bodies: `{"error":{"message":…,"type":…,"code":…}}`, with `code` omitted
//! where Groq omits it and no `param` (GROQ.md §3).

use serde::Serialize;

/// The `error` object of an error response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: String,
    /// Error type, e.g. `tokens`, `requests`, `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Machine-readable code, where Groq sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ErrorBody,
}

impl ErrorBody {
    /// Groq's 404 body for a model it does not serve (`model_not_found`).
    pub fn model_not_found(model: &str) -> Self {
        Self {
            message: format!("The model `{model}` does not exist or you do not have access to it."),
            kind: "invalid_request_error",
            code: Some("model_not_found"),
        }
    }

    /// The whole response body, as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Envelope { error: self }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_groqs_envelope_without_a_missing_code() {
        let body = ErrorBody {
            message: "m".into(),
            kind: "requests",
            code: None,
        };
        assert_eq!(
            body.to_json(),
            r#"{"error":{"message":"m","type":"requests"}}"#
        );
    }
}
