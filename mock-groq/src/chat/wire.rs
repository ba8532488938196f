//! The chat request and answer as they travel: the fields the mock reads, the completion
//! and the stream's chunks in Groq's shape.

use serde::Deserialize;
use serde::Serialize;

/// The fields of a chat request the mock uses or checks; others are accepted and ignored.
/// Numbers keep their JSON type until checked, so an out-of-range value is Groq's 400 with
/// the field's name rather than a parse error or an overflow.
#[derive(Debug, Deserialize)]
pub(super) struct ChatRequest {
    pub(super) model: Option<String>,
    /// Read for their number and token estimate only, without building a JSON tree.
    pub(super) messages: Option<groq_wire::tokens::Messages>,
    pub(super) max_tokens: Option<u64>,
    pub(super) max_completion_tokens: Option<u64>,
    pub(super) n: Option<f64>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) stream: Option<bool>,
    pub(super) stream_options: Option<StreamOptions>,
}

#[derive(Debug, Deserialize)]
pub(super) struct StreamOptions {
    pub(super) include_usage: Option<bool>,
}

/// Groq's `usage` object (seconds and token counts).
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Usage {
    pub(super) queue_time: f64,
    pub(super) prompt_tokens: u64,
    pub(super) prompt_time: f64,
    pub(super) completion_tokens: u64,
    pub(super) completion_time: f64,
    pub(super) total_tokens: u64,
    pub(super) total_time: f64,
}

#[derive(Serialize)]
pub(super) struct XGroq<'a> {
    pub(super) id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) usage: Option<Usage>,
}

#[derive(Serialize)]
pub(super) struct Completion<'a> {
    pub(super) id: &'a str,
    pub(super) object: &'static str,
    pub(super) created: u64,
    pub(super) model: &'a str,
    pub(super) choices: [Choice<'a>; 1],
    pub(super) usage: Usage,
    pub(super) usage_breakdown: Option<()>,
    pub(super) system_fingerprint: &'static str,
    pub(super) x_groq: XGroq<'a>,
    pub(super) service_tier: &'static str,
}

#[derive(Serialize)]
pub(super) struct Choice<'a> {
    pub(super) index: u32,
    pub(super) message: Message<'a>,
    pub(super) logprobs: Option<()>,
    pub(super) finish_reason: &'static str,
}

#[derive(Serialize)]
pub(super) struct Message<'a> {
    pub(super) role: &'static str,
    /// The text, already written as a JSON string.
    pub(super) content: &'a serde_json::value::RawValue,
}

#[derive(Serialize)]
pub(super) struct Chunk<'a> {
    pub(super) id: &'a str,
    pub(super) object: &'static str,
    pub(super) created: u64,
    pub(super) model: &'a str,
    pub(super) system_fingerprint: &'static str,
    pub(super) choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) x_groq: Option<XGroq<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) usage: Option<Usage>,
}

#[derive(Serialize)]
pub(super) struct ChunkChoice<'a> {
    pub(super) index: u32,
    pub(super) delta: Delta<'a>,
    pub(super) logprobs: Option<()>,
    pub(super) finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
pub(super) struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content: Option<&'a str>,
}

pub(super) const FINGERPRINT: &str = "fp_mockgroq01";
