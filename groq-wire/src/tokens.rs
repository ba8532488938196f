//! How the mock counts tokens, since it has no tokenizer.
//!
//! - Prompt: `3 + Σ over messages (4 + ⌈characters ÷ 4⌉)`, characters being the message's
//!   text (string content, or the `text` of each content part). This is OpenAI's rule of
//!   thumb (about four characters a token, a few tokens of framing per message).
//! - Reserved at admission: prompt + `max_completion_tokens` (or `max_tokens`, or the config's
//!   `default_max_tokens`). This is what TPM/TPD must have room for, and what the 413 check
//!   compares against the TPM limit.
//! - Settled after the response: prompt + the completion tokens actually generated; the
//!   unused part of the reservation is given back to the TPM and TPD buckets.

use serde_json::Value;

/// Tokens of framing per message.
pub const PER_MESSAGE: u64 = 4;
/// Tokens that prime the reply.
pub const PER_REQUEST: u64 = 3;

/// Estimated prompt tokens of a list of chat messages.
pub fn prompt_tokens(messages: &[Value]) -> u64 {
    messages.iter().fold(PER_REQUEST, |sum, m| {
        sum.saturating_add(PER_MESSAGE.saturating_add(text_chars(m.get("content")).div_ceil(4)))
    })
}

fn text_chars(content: Option<&Value>) -> u64 {
    match content {
        Some(Value::String(s)) => s.chars().count() as u64,
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .map(|s| s.chars().count() as u64)
            .fold(0, u64::saturating_add),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_characters_by_four_plus_framing() {
        let messages = [json!({"role": "user", "content": "abcdefgh"})];
        assert_eq!(prompt_tokens(&messages), 3 + 4 + 2);
        let messages = [
            json!({"role": "system", "content": "abcde"}),
            json!({"role": "user", "content": [{"type": "text", "text": "abcd"}, {"type": "text", "text": "é"}]}),
        ];
        assert_eq!(prompt_tokens(&messages), 3 + (4 + 2) + (4 + 2));
        assert_eq!(
            prompt_tokens(&[json!({"role": "assistant", "content": null})]),
            7
        );
    }
}
