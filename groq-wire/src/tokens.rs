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

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// Estimated prompt tokens of one user message of `text`: what [`prompt_tokens`] counts for
/// `[{"role": "user", "content": text}]`.
///
/// ```
/// assert_eq!(groq_wire::tokens::one_message_tokens("abcdefgh"), 3 + 4 + 2);
/// ```
pub fn one_message_tokens(text: &str) -> u64 {
    PER_REQUEST
        .saturating_add(PER_MESSAGE)
        .saturating_add((text.chars().count() as u64).div_ceil(4))
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

/// A chat request's `messages` as the token estimate reads them, parsed without building a
/// JSON tree (a quarter of the mock's parse of a request was the tree): how many messages
/// there are, and [`prompt_tokens`] of them. Accepts what `Vec<Value>` accepts, any array,
/// and counts as [`prompt_tokens`] does (a duplicated key counts its last value).
///
/// ```
/// let m: groq_wire::tokens::Messages =
///     serde_json::from_str(r#"[{"role": "user", "content": "abcdefgh"}]"#).unwrap();
/// assert_eq!((m.count, m.prompt_tokens), (1, 3 + 4 + 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Messages {
    /// How many messages.
    pub count: usize,
    /// Their estimated prompt tokens.
    pub prompt_tokens: u64,
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(MessagesVisitor)
    }
}

struct MessagesVisitor;

impl<'de> Visitor<'de> for MessagesVisitor {
    type Value = Messages;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Messages, A::Error> {
        let mut messages = Messages {
            count: 0,
            prompt_tokens: PER_REQUEST,
        };
        while let Some(chars) = seq.next_element_seed(Read::Message)? {
            messages.count += 1;
            messages.prompt_tokens = messages
                .prompt_tokens
                .saturating_add(PER_MESSAGE.saturating_add(chars.div_ceil(4)));
        }
        Ok(messages)
    }
}

/// What a JSON value is read as; each yields the characters of text it holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// A message: an object's last `content`, read as [`Read::Content`].
    Message,
    /// A message's content: a string, or an array of parts, each read as [`Read::Part`].
    Content,
    /// A content part: an object's last `text`, read as [`Read::PartText`].
    Part,
    /// A part's text: a string.
    PartText,
}

impl<'de> serde::de::DeserializeSeed<'de> for Read {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Read {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u64, E> {
        Ok(match self {
            Read::Content | Read::PartText => text.chars().count() as u64,
            Read::Message | Read::Part => 0,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut chars: u64 = 0;
        if self == Read::Content {
            while let Some(part) = seq.next_element_seed(Read::Part)? {
                chars = chars.saturating_add(part);
            }
        } else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        }
        Ok(chars)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let (key, inner) = match self {
            Read::Message => ("content", Read::Content),
            Read::Part => ("text", Read::PartText),
            Read::Content | Read::PartText => ("", self),
        };
        let mut chars = 0;
        while let Some(wanted) = map.next_key_seed(IsKey(key))? {
            if wanted {
                // The last such key counts, as in a `Value` object.
                chars = map.next_value_seed(inner)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(chars)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }
}

/// Whether an object's key is the one sought (`""`: none is), read without allocating.
struct IsKey(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for IsKey {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsKey {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(!self.0.is_empty() && key == self.0)
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

    #[test]
    fn messages_parsed_without_a_tree_count_as_the_tree_does() {
        let cases = [
            r#"[]"#,
            r#"[{"role": "user", "content": "abcdefgh"}]"#,
            r#"[{"content": "a\u00e9\"b\\c"}, {"content": null}, {"content": 5}, {"content": {"text": "x"}}]"#,
            r#"[{"content": [{"type": "text", "text": "abcd"}, {"text": "é"}, {"text": 3}, {"text": ["nested"]}, "bare", 7, null, {"nope": "x"}]}]"#,
            r#"[{"content": "first", "content": "second one"}]"#,
            r#"[{"content": [{"text": "a", "text": "bbbb"}, {"text": "cc", "text": null}]}]"#,
            r#"["a string", 1, true, null, [1, 2], {"role": "user"}]"#,
            r#"[{"role": "user", "content": [], "name": {"deep": [1, {"content": "not this"}]}}]"#,
            r#"[{"content": "日本語のテキスト", "extra": [[[]]]}]"#,
        ];
        for text in cases {
            let values: Vec<Value> = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            let parsed: Messages =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (parsed.count, parsed.prompt_tokens),
                (values.len(), prompt_tokens(&values)),
                "{text}"
            );
        }
        for refused in [r#"{"content": "x"}"#, r#""x""#, r#"[{"content": "x"}"#, "3"] {
            assert!(
                serde_json::from_str::<Messages>(refused).is_err(),
                "{refused}"
            );
            assert!(
                serde_json::from_str::<Vec<Value>>(refused).is_err(),
                "{refused}"
            );
        }
    }
}
