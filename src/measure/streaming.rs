//! Streamed answers as their user reads them: when the first token arrived, when the last
//! did, and how many came, from the Server-Sent Events as they arrive. The report turns
//! these into the figures LLM load testers (GuideLLM, AIPerf) name:
//!
//! - time to first token (TTFT): from the request's intended send to the first event that
//!   carries content (empty role and usage events do not count);
//! - inter-token latency (ITL): from the first token to the last, over the output tokens
//!   after the first (`(last − first) ÷ (tokens − 1)`);
//! - output tokens per second: output tokens over the request's whole latency.
//!
//! Output tokens are the API's `completion_tokens` when the stream reports its usage, and
//! else the number of content events.
//!
//! Failover happens before the first byte reaches the caller ([`Rotor::stream`]); an error
//! event or a broken connection after it is the user's failure, counted as such.

use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::time::Instant;

use crate::engine::failure::Failure;
use crate::engine::policy::GiveUp;
use crate::engine::rotor::{Failed, Sent};
use crate::engine::transport::{Reply, StreamReply, Transport, TransportError};
use crate::engine::{ChatRequest, Rotor};

/// Longest event line accepted; a longer one is a malformed answer (no unbounded buffer).
const MAX_LINE: usize = 1024 * 1024;

/// When a streamed answer's tokens arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTimes {
    /// The first event with content.
    pub first: Instant,
    /// The last event with content.
    pub last: Instant,
    /// Output tokens (reported usage, or content events).
    pub tokens: u64,
}

/// Sends `request` as a stream through `rotor` and reads the answer to its end.
pub async fn send<T: Transport>(
    rotor: &Rotor<T>,
    request: &ChatRequest,
) -> (Sent, Option<TokenTimes>) {
    let crate::engine::rotor::Streamed { outcome, trace } = rotor.stream(request).await;
    match outcome {
        Err(failed) => (
            Sent {
                outcome: Err(failed),
                trace,
            },
            None,
        ),
        Ok(reply) => {
            let (outcome, times) = read(reply).await;
            (Sent { outcome, trace }, times)
        }
    }
}

/// One event's fields that matter here.
#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
    x_groq: Option<XGroq>,
    error: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Choice {
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

#[derive(Deserialize)]
struct XGroq {
    usage: Option<Usage>,
}

#[derive(Deserialize, Clone, Copy)]
struct Usage {
    completion_tokens: Option<u64>,
}

/// What the events said so far.
#[derive(Default)]
struct Tally {
    first: Option<Instant>,
    last: Option<Instant>,
    content_events: u64,
    reported: Option<u64>,
    /// The last event that reported the usage: all of the answer that is kept (the report
    /// counts its tokens from it), so memory does not grow with the answer.
    usage_event: Vec<u8>,
}

impl Tally {
    /// Reads one event line; a failure when the line is an error event or not an event.
    fn line(&mut self, line: &[u8], now: Instant) -> Result<(), Failure> {
        let Some(data) = line.strip_prefix(b"data:") else {
            return Ok(()); // comments, `event:` and `id:` lines, blank separators
        };
        let data = data.trim_ascii();
        if data == b"[DONE]" {
            return Ok(());
        }
        let event: Event = serde_json::from_slice(data).map_err(|_| Failure::MalformedAnswer)?;
        if event.error.is_some() {
            return Err(Failure::StreamError);
        }
        if event.choices.iter().any(|c| {
            c.delta
                .as_ref()
                .and_then(|d| d.content.as_deref())
                .is_some_and(|t| !t.is_empty())
        }) {
            self.first.get_or_insert(now);
            self.last = Some(now);
            self.content_events += 1;
        }
        if let Some(usage) = event.usage.or(event.x_groq.and_then(|x| x.usage)) {
            self.reported = usage.completion_tokens.or(self.reported);
            self.usage_event = data.to_vec();
        }
        Ok(())
    }

    fn times(&self) -> Option<TokenTimes> {
        Some(TokenTimes {
            first: self.first?,
            last: self.last?,
            tokens: self.reported.unwrap_or(self.content_events),
        })
    }
}

/// Reads a successful answer to its end: its head with, as its body, the event that
/// reported its usage, and its token times; or the failure that broke it off.
async fn read(reply: StreamReply) -> (Result<Reply, Failed>, Option<TokenTimes>) {
    let StreamReply {
        status,
        headers,
        mut body,
    } = reply;
    let (mut line, mut tally) = (Vec::new(), Tally::default());
    let broken = |failure: Failure| Failed {
        // The caller has the answer's first bytes: no key can take it over now.
        give_up: GiveUp::NotRetryable,
        last: Some(failure),
        degraded: false,
        retry_after: None,
        answer: None,
    };
    while let Some(chunk) = body.next().await {
        let now = Instant::now();
        let chunk: Bytes = match chunk {
            Ok(chunk) => chunk,
            Err(TransportError::Timeout) => return (Err(broken(Failure::Timeout)), None),
            Err(_) => return (Err(broken(Failure::Connection)), None),
        };
        for piece in chunk.split_inclusive(|&b| b == b'\n') {
            line.extend_from_slice(piece);
            if line.len() > MAX_LINE {
                return (Err(broken(Failure::MalformedAnswer)), None);
            }
            if line.ends_with(b"\n") {
                let result = tally.line(line.trim_ascii_end(), now);
                line.clear();
                if let Err(failure) = result {
                    return (Err(broken(failure)), None);
                }
            }
        }
    }
    if let Err(failure) = tally.line(line.trim_ascii_end(), Instant::now()) {
        return (Err(broken(failure)), None);
    }
    let times = tally.times();
    let reply = Reply {
        status,
        headers,
        body: Bytes::from(tally.usage_event),
    };
    (Ok(reply), times)
}

/// A streamed request's figures, from its intended send (offsets into the run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenFigures {
    /// Time to first token.
    pub ttft: Duration,
    /// Mean time between tokens after the first; `None` with one token.
    pub itl: Option<Duration>,
    /// Output tokens.
    pub tokens: u64,
}

impl TokenFigures {
    /// The figures of `times`, for a request intended at `intended` into a run that started
    /// at `start`.
    pub fn of(times: TokenTimes, start: Instant, intended: Duration) -> Self {
        let ttft = times.first.duration_since(start).saturating_sub(intended);
        let itl = (times.tokens > 1).then(|| {
            let between = times.last.duration_since(times.first);
            between / u32::try_from(times.tokens - 1).unwrap_or(u32::MAX)
        });
        Self {
            ttft,
            itl,
            tokens: times.tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::transport::BodyStream;

    fn reply(chunks: Vec<Result<Bytes, TransportError>>) -> StreamReply {
        StreamReply {
            status: 200,
            headers: Default::default(),
            body: BodyStream::new(futures_util::stream::iter(chunks)),
        }
    }

    #[tokio::test]
    async fn events_split_across_chunks_are_read_whole() {
        let events = concat!(
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n",
            "data: {\"choices\":[],\"x_groq\":{\"usage\":{\"completion_tokens\":7,\"total_tokens\":19}}}\n\n",
            "data: [DONE]\n\n"
        )
        .as_bytes();
        // Cut mid-event, mid-line.
        let chunks = events
            .chunks(13)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (outcome, times) = read(reply(chunks)).await;
        let reply = outcome.unwrap_or_else(|f| panic!("failed: {f:?}"));
        assert_eq!(
            crate::engine::request::reported_tokens(&reply.body),
            Some(19),
            "the usage event is kept for the report's token count"
        );
        let times = times.unwrap_or_else(|| panic!("no token times"));
        assert_eq!(
            times.tokens, 7,
            "the reported usage, not the 2 content events"
        );
    }

    #[tokio::test]
    async fn an_error_event_after_content_fails_the_request() {
        let chunks = vec![
            Ok(Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            )),
            Ok(Bytes::from_static(
                b"data: {\"error\":{\"message\":\"boom\",\"type\":\"internal_server_error\"}}\n\n",
            )),
        ];
        let (outcome, times) = read(reply(chunks)).await;
        let failed = outcome
            .err()
            .unwrap_or_else(|| panic!("an error event passed"));
        assert_eq!(failed.reason(), "stream_error");
        assert_eq!(times, None);
        let broken = vec![
            Ok(Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            )),
            Err(TransportError::Connection("reset".into())),
        ];
        let (outcome, _) = read(reply(broken)).await;
        assert_eq!(outcome.err().map(|f| f.reason()), Some("connection"));
    }

    #[tokio::test]
    async fn without_usage_tokens_are_content_events_and_an_endless_line_is_refused() {
        let chunks = vec![Ok(Bytes::from_static(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
        ))];
        let (_, times) = read(reply(chunks)).await;
        assert_eq!(times.map(|t| t.tokens), Some(2));
        let endless = (0..MAX_LINE / 4096 + 2)
            .map(|_| Ok(Bytes::from(vec![b'x'; 4096])))
            .collect();
        let (outcome, _) = read(reply(endless)).await;
        assert_eq!(outcome.err().map(|f| f.reason()), Some("malformed_answer"));
    }

    #[test]
    fn figures_count_from_the_intended_send() {
        let start = Instant::now();
        let times = TokenTimes {
            first: start + Duration::from_millis(300),
            last: start + Duration::from_millis(1_200),
            tokens: 10,
        };
        let s = TokenFigures::of(times, start, Duration::from_millis(100));
        assert_eq!(s.ttft, Duration::from_millis(200));
        assert_eq!(s.itl, Some(Duration::from_millis(100)));
        let one = TokenTimes { tokens: 1, ..times };
        assert_eq!(TokenFigures::of(one, start, Duration::ZERO).itl, None);
    }
}
