//! Answers whose body is still arriving: [`StreamReply`] (the head, then the body as a
//! [`BodyStream`] of chunks as the server sends them), which [`super::Transport::open`]
//! returns and [`crate::Rotor::stream`] hands to its caller.

use std::pin::Pin;
use std::task::{Context, Poll};

use ::http::HeaderMap;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};

use super::{Reply, TransportError};

/// The body of an answer, chunk by chunk, as it arrives. An error ends it.
pub struct BodyStream(Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>);

impl BodyStream {
    /// Wraps any stream of chunks.
    pub fn new(chunks: impl Stream<Item = Result<Bytes, TransportError>> + Send + 'static) -> Self {
        Self(Box::pin(chunks))
    }

    /// A body that is complete already.
    pub fn whole(body: Bytes) -> Self {
        Self::new(stream::iter((!body.is_empty()).then_some(Ok(body))))
    }

    /// `first`, then the rest of this stream.
    pub fn after(self, first: Bytes) -> Self {
        Self::new(stream::iter((!first.is_empty()).then_some(Ok(first))).chain(self))
    }

    /// Reads the rest of the body into one buffer of at most `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, TransportError> {
        let mut whole = Vec::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            if whole.len().saturating_add(chunk.len()) > limit {
                return Err(TransportError::Connection(format!(
                    "answer body over {limit} bytes"
                )));
            }
            whole.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(whole))
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyStream")
    }
}

/// An answer whose head has arrived; its body follows as a stream.
#[derive(Debug)]
pub struct StreamReply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, chunk by chunk.
    pub body: BodyStream,
}

impl From<Reply> for StreamReply {
    fn from(reply: Reply) -> Self {
        Self {
            status: reply.status,
            headers: reply.headers,
            body: BodyStream::whole(reply.body),
        }
    }
}

/// Most bytes of an answer read before the rotor decides on it (an error body, a JSON
/// completion); an event stream is decided on its first chunk instead.
pub const MAX_DECIDED_BODY: usize = 64 * 1024 * 1024;

/// A [`StreamReply`] with as much of its body read as deciding on it takes: all of it, unless
/// it is a successful event stream, whose first chunk is enough (an error event or not).
#[derive(Debug)]
pub(crate) struct Peeked {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// The body read so far.
    pub(crate) seen: Bytes,
    /// What is still to come: `Some` only for an event stream that is still open.
    pub(crate) rest: Option<BodyStream>,
}

impl Peeked {
    /// Reads what deciding on `reply` takes.
    pub(crate) async fn read(reply: StreamReply) -> Result<Self, TransportError> {
        let StreamReply {
            status,
            headers,
            mut body,
        } = reply;
        let event_stream = (200..300).contains(&status)
            && headers
                .get(::http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if event_stream {
            let seen = body.next().await.transpose()?.unwrap_or_default();
            return Ok(Self {
                status,
                headers,
                seen,
                rest: Some(body),
            });
        }
        let seen = body.collect(MAX_DECIDED_BODY).await?;
        Ok(Self {
            status,
            headers,
            seen,
            rest: None,
        })
    }

    /// The answer again, whole, for the caller.
    pub(crate) fn into_reply(self) -> StreamReply {
        let body = match self.rest {
            Some(rest) => rest.after(self.seen),
            None => BodyStream::whole(self.seen),
        };
        StreamReply {
            status: self.status,
            headers: self.headers,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(chunks: &[&'static str]) -> StreamReply {
        let mut headers = HeaderMap::new();
        headers.insert(
            ::http::header::CONTENT_TYPE,
            ::http::HeaderValue::from_static("text/event-stream"),
        );
        let chunks: Vec<_> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        StreamReply {
            status: 200,
            headers,
            body: BodyStream::new(stream::iter(chunks)),
        }
    }

    #[tokio::test]
    async fn an_event_stream_is_decided_on_its_first_chunk_and_given_back_whole() {
        let peeked = Peeked::read(sse(&["data: 1\n\n", "data: 2\n\n", "data: [DONE]\n\n"]))
            .await
            .map_err(|e| e.to_string());
        let peeked = peeked.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&peeked.seen[..], b"data: 1\n\n");
        assert!(peeked.rest.is_some());
        let body = peeked.into_reply().body.collect(1 << 20).await;
        assert_eq!(
            body.ok().as_deref(),
            Some(&b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n"[..])
        );
    }

    #[tokio::test]
    async fn other_answers_are_read_whole_within_a_limit() {
        let reply = StreamReply {
            status: 429,
            headers: HeaderMap::new(),
            body: BodyStream::new(stream::iter(vec![
                Ok(Bytes::from_static(b"{\"error\":")),
                Ok(Bytes::from_static(b"{}}")),
            ])),
        };
        let peeked = Peeked::read(reply).await.map_err(|e| e.to_string());
        let peeked = peeked.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&peeked.seen[..], b"{\"error\":{}}");
        assert!(peeked.rest.is_none());
        let big = BodyStream::whole(Bytes::from(vec![b'x'; 11]));
        assert!(big.collect(10).await.is_err());
    }
}
