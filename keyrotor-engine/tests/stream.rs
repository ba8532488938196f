//! `Rotor::stream`: the caller gets an event stream's first chunk before the API has sent the
//! rest, and a stream that starts with an error event (or a 429) fails over before the caller
//! sees a byte.

use std::sync::Mutex;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue};
use keyrotor_engine::transport::{BodyStream, Reply, StreamReply, Transport, TransportError};
use keyrotor_engine::{ApiKey, ChatRequest, Rotor, RotorOptions};
use tokio::sync::mpsc;

/// Per attempt, in order: the answer's status and the receiving end of its body's chunks.
type Planned = (u16, mpsc::UnboundedReceiver<Bytes>);

/// Opens answers from a plan; the test feeds each body through its channel.
struct Planned429ThenStreams(Mutex<Vec<Planned>>);

impl Transport for Planned429ThenStreams {
    async fn send(&self, _key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
        Err(TransportError::Connection("this test only opens".into()))
    }

    async fn open(&self, _key: &ApiKey, _body: Bytes) -> Result<StreamReply, TransportError> {
        let next = self
            .0
            .lock()
            .ok()
            .and_then(|mut p| (!p.is_empty()).then(|| p.remove(0)));
        let Some((status, chunks)) = next else {
            return Err(TransportError::Connection("no more answers planned".into()));
        };
        let mut headers = HeaderMap::new();
        let kind = if status == 200 {
            "text/event-stream"
        } else {
            "application/json"
        };
        headers.insert("content-type", HeaderValue::from_static(kind));
        let body = futures_util::stream::unfold(chunks, |mut rx| async move {
            rx.recv().await.map(|chunk| (Ok(chunk), rx))
        });
        Ok(StreamReply {
            status,
            headers,
            body: BodyStream::new(body),
        })
    }
}

const RPM: &[u8] = br#"{"error":{"message":"Rate limit reached for model `openai/gpt-oss-120b` in organization `org_a` service tier `on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s.","type":"requests","code":"rate_limit_exceeded"}}"#;
const ERROR_EVENT: &[u8] = b"data: {\"error\":{\"message\":\"Service unavailable\",\"type\":\"internal_server_error\"}}\n\n";

fn rotor(plan: Vec<Planned>, keys: usize) -> Rotor<Planned429ThenStreams> {
    let keys = (0..keys).map(|i| ApiKey::new(format!("gsk_{i}"))).collect();
    let policy = "adaptive".parse().unwrap_or_else(|e| panic!("{e}"));
    Rotor::new(
        keys,
        policy,
        Planned429ThenStreams(Mutex::new(plan)),
        RotorOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_stream_reaches_the_caller_before_it_ends_after_failing_over_twice() {
    let (limited, limited_rx) = mpsc::unbounded_channel();
    let (broken, broken_rx) = mpsc::unbounded_channel();
    let (good, good_rx) = mpsc::unbounded_channel();
    let r = rotor(vec![(429, limited_rx), (200, broken_rx), (200, good_rx)], 3);
    // Key 0 answers a whole 429; key 1's stream starts with an error event; key 2's stream
    // has sent its first event only.
    let _ = limited.send(Bytes::from_static(RPM));
    drop(limited);
    let _ = broken.send(Bytes::from_static(ERROR_EVENT));
    let _ = good.send(Bytes::from_static(b"data: {\"choices\":[]}\n\n"));

    let request = ChatRequest::synthetic("openai/gpt-oss-120b", 20, 10, true);
    let streamed = r.stream(&request).await;
    let failures: Vec<_> = streamed
        .trace
        .attempts
        .iter()
        .map(|a| a.failure.as_ref().map(|f| f.reason()))
        .collect();
    assert_eq!(
        failures,
        [Some("rate_limited_minute"), Some("stream_error"), None],
        "the 429 and the error event failed over before the caller got anything"
    );
    let reply = streamed
        .outcome
        .unwrap_or_else(|f| panic!("no answer: {}", f.reason()));
    assert_eq!(reply.status, 200);
    let mut body = reply.body;
    let first = body.next().await.and_then(Result::ok);
    assert_eq!(first.as_deref(), Some(&b"data: {\"choices\":[]}\n\n"[..]));
    // The API sends the rest only now: the caller had the first event before it existed.
    let _ = good.send(Bytes::from_static(b"data: [DONE]\n\n"));
    drop(good);
    let rest = body.collect(1 << 20).await.ok();
    assert_eq!(rest.as_deref(), Some(&b"data: [DONE]\n\n"[..]));
    let status = r.status();
    assert_eq!(status.keys[2].successes, 1);
    assert_eq!(status.totals.failures, 2);
}

#[tokio::test]
async fn a_stream_that_is_not_server_sent_events_fails_over() {
    let (bad, bad_rx) = mpsc::unbounded_channel();
    let r = rotor(vec![(200, bad_rx)], 1);
    let _ = bad.send(Bytes::from_static(b"<html>gateway</html>"));
    let streamed = r
        .stream(&ChatRequest::synthetic("openai/gpt-oss-120b", 20, 10, true))
        .await;
    let first = streamed.trace.attempts.first();
    let reason = first.and_then(|a| a.failure.as_ref()).map(|f| f.reason());
    assert_eq!(reason, Some("malformed_answer"));
    assert!(streamed.outcome.is_err(), "no key gave a stream");
}
