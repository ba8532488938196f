//! A completion streamed as Server-Sent Events, paced as Groq's output speed.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::StreamExt;
use rand::rngs::SmallRng;

use super::Admitted;
use super::wire::Usage;
use super::with_headers;
use crate::api_error::ApiError;
use crate::generation;
use crate::state::Mock;
use crate::state::Outcome;

use super::wire::{Chunk, ChunkChoice, Delta, FINGERPRINT, XGroq};

/// Content is split into at most this many chunks.
pub(super) const STREAM_CHUNKS: usize = 8;

/// Whose stream it is and what it ends with.
pub(super) struct StreamShape {
    /// The key it is counted for.
    pub(super) key: usize,
    /// A last chunk with the usage (`stream_options.include_usage`).
    pub(super) include_usage: bool,
    /// Break off halfway with an error event (the `stream_error` fault).
    pub(super) break_off: bool,
}

/// A streamed answer as Groq sends it: the role, the content in paced pieces, the finish
/// with usage, and `[DONE]` (or, broken off, half the content and an error event).
pub(super) fn stream_response(
    mock: Arc<Mock>,
    admitted: Admitted,
    content: String,
    shape: StreamShape,
    rng: &mut SmallRng,
) -> Response {
    let writer = ChunkWriter {
        id: generation::completion_id(rng),
        model: mock.models[admitted.model].id.clone(),
        created: admitted.created,
    };
    let pieces = split_words(&content, STREAM_CHUNKS);
    let pace = Pace::of(mock.config.latency.enabled, &admitted, pieces.len());
    let mut events: Vec<SseEvent> = Vec::with_capacity(pieces.len() + 4);
    // A broken stream sends half of the content, then the error event (Groq's way of failing
    // after its 200), and ends without [DONE]; the ledger settles as for a whole answer.
    let sent = if shape.break_off {
        pieces.len() / 2
    } else {
        pieces.len()
    };
    writer.opening(&admitted, &pieces[..sent], pace, &mut events);
    if shape.break_off {
        let error = format!("data: {}\n\n", ApiError::server_error().to_json());
        events.push((pace.per_piece, Bytes::from(error), true));
        return sse_response(mock, admitted, events, (shape.key, Outcome::StreamError));
    }
    // With one piece or none, the whole completion time passes before the end.
    let tail = if pieces.len() <= 1 {
        pace.per_piece
    } else {
        Duration::ZERO
    };
    writer.ending(&admitted, tail, shape.include_usage, &mut events);
    let ok = Outcome::Status(StatusCode::OK);
    sse_response(mock, admitted, events, (shape.key, ok))
}

/// One event of a stream: the delay before sending it, its bytes, and whether the ledger
/// settles before it is sent.
type SseEvent = (Duration, Bytes, bool);

/// When a stream's events go out: the first piece with the first token (after any fault's
/// delay), the others spread over the completion; all at once with latency off.
#[derive(Clone, Copy)]
pub(super) struct Pace {
    pub(super) first: Duration,
    pub(super) per_piece: Duration,
}

impl Pace {
    fn of(latency: bool, admitted: &Admitted, pieces: usize) -> Self {
        if !latency {
            return Self {
                first: admitted.extra_delay,
                per_piece: Duration::ZERO,
            };
        }
        let gaps = pieces.saturating_sub(1).max(1) as f64;
        Self {
            first: admitted.timing.first_token() + admitted.extra_delay,
            per_piece: Duration::from_secs_f64(admitted.timing.completion / gaps),
        }
    }
}

/// Writes one completion's `data:` chunks.
pub(super) struct ChunkWriter {
    pub(super) id: String,
    pub(super) model: String,
    pub(super) created: u64,
}

impl ChunkWriter {
    fn chunk(
        &self,
        choices: Vec<ChunkChoice<'_>>,
        x_groq: Option<XGroq<'_>>,
        usage: Option<Usage>,
    ) -> Bytes {
        let c = Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            system_fingerprint: FINGERPRINT,
            choices,
            x_groq,
            usage,
        };
        Bytes::from(format!(
            "data: {}\n\n",
            serde_json::to_string(&c).unwrap_or_default()
        ))
    }

    /// The assistant's role with the request id, then `pieces` of the content, paced.
    fn opening(&self, admitted: &Admitted, pieces: &[&str], pace: Pace, out: &mut Vec<SseEvent>) {
        let role = Delta {
            role: Some("assistant"),
            content: Some(""),
        };
        let x_groq = XGroq {
            id: &admitted.request_id,
            usage: None,
        };
        let first = self.chunk(vec![choice(role, None)], Some(x_groq), None);
        out.push((pace.first, first, false));
        for (i, piece) in pieces.iter().enumerate() {
            let delta = Delta {
                role: None,
                content: Some(piece),
            };
            let delay = if i == 0 {
                Duration::ZERO
            } else {
                pace.per_piece
            };
            out.push((
                delay,
                self.chunk(vec![choice(delta, None)], None, None),
                false,
            ));
        }
    }

    /// The finish reason with Groq's usage (the ledger settles before it goes out), the
    /// OpenAI-style usage chunk when asked for, and `[DONE]`.
    fn ending(
        &self,
        admitted: &Admitted,
        delay: Duration,
        include_usage: bool,
        out: &mut Vec<SseEvent>,
    ) {
        let usage = admitted.usage();
        let x_groq = XGroq {
            id: &admitted.request_id,
            usage: Some(usage),
        };
        let finish = Delta::default();
        let choices = vec![choice(finish, Some(admitted.finish_reason()))];
        out.push((delay, self.chunk(choices, Some(x_groq), None), true));
        if include_usage {
            out.push((
                Duration::ZERO,
                self.chunk(Vec::new(), None, Some(usage)),
                false,
            ));
        }
        let done = Bytes::from_static(b"data: [DONE]\n\n");
        out.push((Duration::ZERO, done, false));
    }
}

/// Sends `events` (delay before each, bytes, settle the ledger first) as an SSE body, and
/// records `outcome` for the key when the last event is out.
pub(super) fn sse_response(
    mock: Arc<Mock>,
    admitted: Admitted,
    events: Vec<SseEvent>,
    (key, outcome): (usize, Outcome),
) -> Response {
    let response_headers = with_headers(
        Response::new(Body::empty()),
        &admitted,
        &mock,
        "text/event-stream",
    );
    let admitted = Arc::new(admitted);
    let last = events.len().saturating_sub(1);
    let events = futures_util::stream::iter(events.into_iter().enumerate());
    let body = events.then(move |(i, (delay, bytes, settle))| {
        let mock = Arc::clone(&mock);
        let admitted = Arc::clone(&admitted);
        async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if settle {
                admitted.settle(&mock);
            }
            if i == last {
                mock.keys[key].counters.record(outcome);
            }
            Ok::<Bytes, std::io::Error>(bytes)
        }
    });
    let (parts, _) = response_headers.into_parts();
    Response::from_parts(parts, Body::from_stream(body))
}

pub(super) fn choice<'a>(delta: Delta<'a>, finish: Option<&'static str>) -> ChunkChoice<'a> {
    ChunkChoice {
        index: 0,
        delta,
        logprobs: None,
        finish_reason: finish,
    }
}

/// Splits text at spaces into at most `n` pieces that concatenate back to it.
pub(super) fn split_words(text: &str, n: usize) -> Vec<&str> {
    let words = text.split(' ').count();
    let per = words.div_ceil(n).max(1);
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    let mut seen = 0;
    for (i, _) in text.match_indices(' ') {
        seen += 1;
        if seen % per == 0 {
            pieces.push(&text[start..=i]);
            start = i + 1;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn split_words_keeps_all_text() {
        for text in ["a", "a b c d e f g h i j", "one two", ""] {
            let pieces = split_words(text, 3);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.len() <= 4, "{pieces:?}");
        }
    }
}
