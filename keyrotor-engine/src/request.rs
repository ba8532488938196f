//! A chat request as the engine sends it: the JSON body, built once, and the token estimate
//! the adaptive policy budgets with.

use bytes::Bytes;
use serde_json::{Value, json};

/// One chat completion request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The JSON body, sent as is with every attempt.
    pub body: Bytes,
    /// Tokens the API will reserve: prompt estimate + max_tokens (groq_wire::tokens' rule).
    pub reserved_tokens: u64,
}

impl ChatRequest {
    /// A request for `model` with these messages and completion cap.
    pub fn new(model: &str, messages: Vec<Value>, max_tokens: u64, stream: bool) -> Self {
        let reserved_tokens =
            groq_wire::tokens::prompt_tokens(&messages).saturating_add(max_tokens);
        let mut body = json!({"model": model, "messages": messages, "max_tokens": max_tokens});
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        Self {
            body: Bytes::from(body.to_string()),
            reserved_tokens,
        }
    }

    /// A one-message user request whose prompt is about `prompt_tokens` tokens: its body
    /// holds about 4 × `prompt_tokens` bytes, so bound the figure before passing it (a
    /// model's context is at most a few hundred thousand tokens).
    pub fn synthetic(model: &str, prompt_tokens: u64, max_tokens: u64, stream: bool) -> Self {
        let overhead = groq_wire::tokens::PER_REQUEST + groq_wire::tokens::PER_MESSAGE;
        let quads = prompt_tokens.saturating_sub(overhead);
        let content = "abcd".repeat(usize::try_from(quads).unwrap_or(usize::MAX));
        Self::new(
            model,
            vec![json!({"role": "user", "content": content})],
            max_tokens,
            stream,
        )
    }
}

/// `total_tokens` of the last usage object in an answer body (JSON or SSE), found without
/// parsing the whole body.
pub fn reported_tokens(body: &[u8]) -> Option<u64> {
    const NEEDLE: &[u8] = b"\"total_tokens\":";
    let pos = body.windows(NEEDLE.len()).rposition(|w| w == NEEDLE)?;
    let digits: Vec<u8> = body[pos + NEEDLE.len()..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_total_tokens() {
        assert_eq!(
            reported_tokens(br#"{"usage":{"total_tokens": 123}}"#),
            Some(123)
        );
        assert_eq!(
            reported_tokens(
                b"data: {\"total_tokens\":5}\n\ndata: {\"total_tokens\":42}\n\ndata: [DONE]"
            ),
            Some(42)
        );
        assert_eq!(reported_tokens(b"{}"), None);
    }

    #[test]
    fn a_huge_completion_cap_saturates_the_reservation() {
        let r = ChatRequest::new(
            "m",
            vec![json!({"role": "user", "content": "hi"})],
            u64::MAX,
            false,
        );
        assert_eq!(r.reserved_tokens, u64::MAX);
    }

    #[test]
    fn synthetic_prompt_has_the_asked_size() {
        let r = ChatRequest::synthetic("m", 100, 50, false);
        assert_eq!(r.reserved_tokens, 150);
        let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        assert_eq!(body["max_tokens"], 50);
        assert!(body.get("stream").is_none());
    }
}
