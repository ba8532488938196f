//! `POST /openai/v1/chat/completions`: authentication, request checks, faults, admission by
//! the organisation's ledger, simulated service time, and the response in Groq's shape —
//! a JSON body, or Server-Sent Events when `"stream": true`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rand::rngs::SmallRng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api_error::ApiError;
use crate::attribution;
use crate::catalog::{self, MODELS};
use crate::config::FaultKind;
use crate::generation::{self, Timing};
use crate::headers;
use crate::ledger::{Denial, Snapshot};
use crate::state::{Mock, Outcome, lock};
use crate::tokens;

/// The fields of a chat request the mock uses or checks; others are accepted and ignored.
/// Numbers keep their JSON type until checked, so an out-of-range value is Groq's 400 with
/// the field's name rather than a parse error or an overflow.
#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Option<Vec<Value>>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    n: Option<f64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
}

#[derive(Debug, Deserialize)]
struct StreamOptions {
    include_usage: Option<bool>,
}

/// Groq's `usage` object (seconds and token counts).
#[derive(Debug, Clone, Copy, Serialize)]
struct Usage {
    queue_time: f64,
    prompt_tokens: u64,
    prompt_time: f64,
    completion_tokens: u64,
    completion_time: f64,
    total_tokens: u64,
    total_time: f64,
}

#[derive(Serialize)]
struct XGroq<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'static str,
    choices: [Choice<'a>; 1],
    usage: Usage,
    usage_breakdown: Option<()>,
    system_fingerprint: &'static str,
    x_groq: XGroq<'a>,
    service_tier: &'static str,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'static str,
    system_fingerprint: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x_groq: Option<XGroq<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

const FINGERPRINT: &str = "fp_mockgroq01";

/// Everything decided about one admitted request.
struct Admitted {
    org: usize,
    model: usize,
    reserved: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    timing: Timing,
    extra_delay: Duration,
    created: u64,
    request_id: String,
    snapshot: Snapshot,
}

impl Admitted {
    /// A request admitted with `snapshot`: how long its completion is and how long it
    /// takes, drawn from the configuration with `rng`, delayed `extra_delay` more by a fault.
    fn sample(
        mock: &Mock,
        at: Asked,
        (prompt_tokens, max_tokens): (u64, u64),
        extra_delay: Duration,
        snapshot: Snapshot,
        rng: &mut SmallRng,
    ) -> Self {
        let config = &mock.config;
        let completion_tokens = generation::completion_tokens(&config.completion, max_tokens, rng);
        let model = &MODELS[at.model];
        let timing = Timing::sample(
            &config.latency,
            model,
            prompt_tokens,
            completion_tokens,
            rng,
        );
        Self {
            org: at.org,
            model: at.model,
            reserved: prompt_tokens.saturating_add(max_tokens),
            prompt_tokens,
            completion_tokens,
            timing,
            extra_delay,
            created: mock.start_unix + mock.clock.to_real(at.now).as_secs(),
            request_id: at.request_id,
            snapshot,
        }
    }

    fn usage(&self) -> Usage {
        Usage {
            queue_time: self.timing.queue,
            prompt_tokens: self.prompt_tokens,
            prompt_time: self.timing.prompt,
            completion_tokens: self.completion_tokens,
            completion_time: self.timing.completion,
            total_tokens: self.prompt_tokens + self.completion_tokens,
            total_time: self.timing.total(),
        }
    }

    fn finish_reason(&self) -> &'static str {
        if self.completion_tokens >= self.reserved - self.prompt_tokens {
            "length"
        } else {
            "stop"
        }
    }

    /// Gives the unused part of the token reservation back to the ledger.
    fn settle(&self, mock: &Mock) {
        let actual = self.prompt_tokens + self.completion_tokens;
        lock(mock.ledger(self.org, self.model)).settle(mock.clock.now(), self.reserved, actual);
    }
}

/// The handler.
pub async fn completions(
    State(mock): State<Arc<Mock>>,
    request_headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if mock.config.latency.enabled && !mock.config.latency.edge.is_zero() {
        tokio::time::sleep(mock.config.latency.edge).await;
    }
    let Some(log) = &mock.attribution else {
        return answer(&mock, &request_headers, body).await.2;
    };
    let marker = body.as_ref().ok().and_then(|b| attribution::find(b));
    let arrived = mock.clock.to_real(mock.clock.now());
    let (key, outcome, response) = answer(&mock, &request_headers, body).await;
    let broken = matches!(outcome, Some(Outcome::Dropped | Outcome::Stalled));
    let call = attribution::Call {
        key,
        arrived,
        answered: mock.clock.to_real(mock.clock.now()),
        status: if broken {
            0
        } else {
            response.status().as_u16()
        },
        retry_after: response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.parse().ok()),
    };
    lock(log).record(marker, call);
    response
}

/// The answer to a chat call, with the index of the key it presented if the mock knows it and
/// how it ended if known yet (a stream's end comes later).
async fn answer(
    mock: &Arc<Mock>,
    request_headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (Option<usize>, Option<Outcome>, Response) {
    let mut rng = mock.request_rng();
    let request_id = generation::request_id(&mut rng);
    let now = mock.clock.now();

    let presented = bearer(request_headers);
    let Some(key) = presented.and_then(|k| mock.key_index(k)) else {
        mock.unauthenticated.arrived();
        let unauthorized = Outcome::Status(StatusCode::UNAUTHORIZED);
        mock.unauthenticated.record(unauthorized);
        let response = error_response(&ApiError::invalid_api_key(), &request_id, None, mock);
        return (None, Some(unauthorized), response);
    };
    let entry = &mock.keys[key];
    entry.counters.arrived();
    if entry.revoked_at.is_some_and(|at| now >= at) {
        let unauthorized = Outcome::Status(StatusCode::UNAUTHORIZED);
        entry.counters.record(unauthorized);
        let response = error_response(&ApiError::invalid_api_key(), &request_id, None, mock);
        return (Some(key), Some(unauthorized), response);
    }

    let (outcome, response) = serve(mock, key, request_headers, body, &mut rng, request_id).await;
    if let Some(outcome) = outcome {
        entry.counters.record(outcome);
    }
    (Some(key), outcome, response)
}

/// How a request counts (`None` for a stream, which counts itself) and its answer.
type Served = (Option<Outcome>, Response);

/// A refusal with Groq's error body, counted under its status.
fn refused(err: &ApiError, request_id: &str, snapshot: Option<&Snapshot>, mock: &Mock) -> Served {
    (
        Some(Outcome::Status(err.status)),
        error_response(err, request_id, snapshot, mock),
    )
}

/// Checks, faults, admission and the response for an authenticated request of key `key`,
/// with how it ended; `None` for a stream, which counts itself when its last event is out
/// (a client that gives up on it first leaves it uncounted, as it does a JSON answer).
async fn serve(
    mock: &Arc<Mock>,
    key: usize,
    request_headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    rng: &mut SmallRng,
    request_id: String,
) -> Served {
    let org = mock.keys[key].org;
    let request = match parse(mock, request_headers, body) {
        Ok(r) => r,
        Err(err) => return refused(&err, &request_id, None, mock),
    };
    let model_name = request.model.as_deref().unwrap_or_default();
    let served = catalog::find(model_name).filter(|&m| MODELS[m].served_on(mock.as_of));
    let Some(model) = served else {
        return refused(
            &ApiError::model_not_found(model_name),
            &request_id,
            None,
            mock,
        );
    };
    let now = mock.clock.now();
    let stream = request.stream.unwrap_or(false);
    let at = Asked {
        org,
        model,
        now,
        request_id,
    };
    let faulted = match fault(mock, &at, stream, rng).await {
        Ok(faulted) => faulted,
        Err(served) => return *served,
    };
    let (prompt_tokens, max_tokens) = match sizes(mock, &request, model) {
        Ok(sizes) => sizes,
        Err(err) => return refused(&err, &at.request_id, None, mock),
    };
    let reserved = prompt_tokens.saturating_add(max_tokens);
    let snapshot = match admit(mock, &at, reserved) {
        Ok(snapshot) => snapshot,
        Err(served) => return *served,
    };
    let sizes = (prompt_tokens, max_tokens);
    let admitted = Admitted::sample(mock, at, sizes, faulted.extra_delay, snapshot, rng);
    let content = mock.text(admitted.completion_tokens, rng);
    if !stream {
        let response = json_response(mock, admitted, &content, rng).await;
        return (Some(Outcome::Status(StatusCode::OK)), response);
    }
    let include_usage = request
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    let shape = StreamShape {
        key,
        include_usage,
        break_off: faulted.break_off,
    };
    let response = stream_response(Arc::clone(mock), admitted, content.to_string(), shape, rng);
    (None, response)
}

/// The request's prompt tokens and the most it may generate. Checked before admission: a
/// client's max_tokens can be anything up to u64::MAX, and what cannot fit the model's
/// context is refused, never reserved or generated.
fn sizes(mock: &Mock, request: &ChatRequest, model: usize) -> Result<(u64, u64), ApiError> {
    let messages = request.messages.as_deref().unwrap_or_default();
    let prompt_tokens = tokens::prompt_tokens(messages);
    let max_tokens = request
        .max_completion_tokens
        .or(request.max_tokens)
        .unwrap_or(mock.config.default_max_tokens)
        .max(1);
    let context = MODELS[model].context_window;
    if prompt_tokens.saturating_add(max_tokens) > context {
        return Err(ApiError::context_length_exceeded(
            context,
            prompt_tokens,
            max_tokens,
        ));
    }
    Ok((prompt_tokens, max_tokens))
}

/// Which organisation asked for which model when, under which request id.
struct Asked {
    org: usize,
    model: usize,
    now: Duration,
    request_id: String,
}

/// What a fault leaves of a request that goes on: a slower answer, or a stream broken off.
#[derive(Default)]
struct Faulted {
    extra_delay: Duration,
    break_off: bool,
}

/// The fault the configuration injects into this request, if any: what it leaves of the
/// request, or the request's end (an error, a dropped or stalled connection).
async fn fault(
    mock: &Mock,
    at: &Asked,
    stream: bool,
    rng: &mut SmallRng,
) -> Result<Faulted, Box<Served>> {
    let Some(fault) = mock.faults.pick(at.now, at.org, rng) else {
        return Ok(Faulted::default());
    };
    let err = match fault.kind {
        FaultKind::Slow => {
            return Ok(Faulted {
                extra_delay: fault.duration,
                break_off: false,
            });
        }
        FaultKind::StreamError => {
            return Ok(Faulted {
                extra_delay: Duration::ZERO,
                break_off: stream,
            });
        }
        FaultKind::ServerError => ApiError::server_error(),
        FaultKind::OverCapacity => ApiError::over_capacity(MODELS[at.model].id),
        FaultKind::FlexCapacity => ApiError::flex_capacity(),
        FaultKind::Drop => return Err(Box::new((Some(Outcome::Dropped), dropped_response()))),
        FaultKind::Stall => {
            tokio::time::sleep(fault.duration).await;
            return Err(Box::new((Some(Outcome::Stalled), dropped_response())));
        }
    };
    let snap = lock(mock.ledger(at.org, at.model)).snapshot(at.now);
    Err(Box::new(refused(&err, &at.request_id, Some(&snap), mock)))
}

/// Admission of `reserved` tokens by the organisation's ledger for the model: the ledger's
/// figures for the answer's headers, or Groq's 429 (or 413) with its `retry-after`.
fn admit(mock: &Mock, at: &Asked, reserved: u64) -> Result<Snapshot, Box<Served>> {
    let (decision, snapshot) = {
        let mut ledger = lock(mock.ledger(at.org, at.model));
        let decision = ledger.admit(at.now, reserved);
        (decision, ledger.snapshot(at.now))
    };
    let Err(denial) = decision else {
        return Ok(snapshot);
    };
    let err = ApiError::from_denial(
        &denial,
        MODELS[at.model].id,
        &mock.orgs[at.org].id,
        mock.clock.scale(),
    );
    let mut response = error_response(&err, &at.request_id, Some(&snapshot), mock);
    let outcome = match denial {
        Denial::Limited { wait, window, .. } => {
            headers::insert_retry_after(response.headers_mut(), mock.clock.to_real(wait));
            Outcome::Limited(window)
        }
        Denial::TooLarge { .. } => Outcome::Status(err.status),
    };
    Err(Box::new((Some(outcome), response)))
}

fn parse(
    mock: &Mock,
    request_headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ChatRequest, ApiError> {
    let content_type = request_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(ApiError::bad_request(format!(
            "Invalid content type `{content_type}`: the request body must be JSON sent with Content-Type: application/json."
        )));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::body_too_large(mock.config.max_body_bytes)
        } else {
            ApiError::bad_request(format!("Failed to read the request body: {rejection}"))
        }
    })?;
    let request: ChatRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "We could not parse the JSON body of your request: {e}"
        ))
    })?;
    check_fields(&request)?;
    Ok(request)
}

/// Groq's validation of the body's fields, in its own words (`'field' : reason`): `model`
/// and `messages` are required, `n` must be 1 (Groq serves one choice), `temperature` lies
/// in [0, 2] and `top_p` in [0, 1], as its API reference states.
fn check_fields(request: &ChatRequest) -> Result<(), ApiError> {
    let bad = |text: &str| Err(ApiError::bad_request(text.to_owned()));
    match &request.messages {
        None => return bad("'messages' : property 'messages' is missing"),
        Some(m) if m.is_empty() => return bad("'messages' : minimum number of items is 1"),
        Some(_) => {}
    }
    if request.model.as_deref().is_none_or(str::is_empty) {
        return bad("'model' : property 'model' is missing");
    }
    if let Some(n) = request.n
        && n != 1.0
    {
        return bad("'n' : number must be at most 1");
    }
    for (name, value, max) in [
        ("temperature", request.temperature, 2.0),
        ("top_p", request.top_p, 1.0),
    ] {
        match value {
            Some(v) if v < 0.0 => return bad(&format!("'{name}' : number must be at least 0")),
            Some(v) if v > max => {
                return bad(&format!("'{name}' : number must be at most {max}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The key of an `Authorization: Bearer …` header.
pub(crate) fn bearer(request_headers: &HeaderMap) -> Option<&str> {
    let value = request_headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// An error response with Groq's body and no rate-limit headers.
pub fn error_response_plain(err: &ApiError) -> Response {
    (
        err.status,
        [(header::CONTENT_TYPE, "application/json")],
        err.to_json(),
    )
        .into_response()
}

/// An error response with Groq's body and headers.
pub fn error_response(
    err: &ApiError,
    request_id: &str,
    snapshot: Option<&Snapshot>,
    mock: &Mock,
) -> Response {
    let mut response = error_response_plain(err);
    headers::insert_request_id(response.headers_mut(), request_id);
    if let Some(snap) = snapshot {
        headers::insert_rate_limits(response.headers_mut(), snap, &mock.clock);
    }
    response
}

/// A response whose body fails at once: the client sees the connection close without a
/// complete response.
fn dropped_response() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("fault injected: connection dropped"))
    });
    Response::new(Body::from_stream(failing))
}

fn with_headers(
    mut response: Response,
    admitted: &Admitted,
    mock: &Mock,
    content_type: &'static str,
) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers::insert_request_id(h, &admitted.request_id);
    headers::insert_rate_limits(h, &admitted.snapshot, &mock.clock);
    response
}

async fn json_response(
    mock: &Mock,
    admitted: Admitted,
    content: &str,
    rng: &mut SmallRng,
) -> Response {
    if mock.config.latency.enabled {
        tokio::time::sleep(Duration::from_secs_f64(admitted.timing.total()) + admitted.extra_delay)
            .await;
    } else if !admitted.extra_delay.is_zero() {
        tokio::time::sleep(admitted.extra_delay).await;
    }
    admitted.settle(mock);
    let id = generation::completion_id(rng);
    let body = Completion {
        id: &id,
        object: "chat.completion",
        created: admitted.created,
        model: MODELS[admitted.model].id,
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content,
            },
            logprobs: None,
            finish_reason: admitted.finish_reason(),
        }],
        usage: admitted.usage(),
        usage_breakdown: None,
        system_fingerprint: FINGERPRINT,
        x_groq: XGroq {
            id: &admitted.request_id,
            usage: None,
        },
        service_tier: "on_demand",
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    with_headers(
        Response::new(Body::from(json)),
        &admitted,
        mock,
        "application/json",
    )
}

/// Content is split into at most this many chunks.
const STREAM_CHUNKS: usize = 8;

/// Whose stream it is and what it ends with.
struct StreamShape {
    /// The key it is counted for.
    key: usize,
    /// A last chunk with the usage (`stream_options.include_usage`).
    include_usage: bool,
    /// Break off halfway with an error event (the `stream_error` fault).
    break_off: bool,
}

/// A streamed answer as Groq sends it: the role, the content in paced pieces, the finish
/// with usage, and `[DONE]` (or, broken off, half the content and an error event).
fn stream_response(
    mock: Arc<Mock>,
    admitted: Admitted,
    content: String,
    shape: StreamShape,
    rng: &mut SmallRng,
) -> Response {
    let writer = ChunkWriter {
        id: generation::completion_id(rng),
        model: MODELS[admitted.model].id,
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
struct Pace {
    first: Duration,
    per_piece: Duration,
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
struct ChunkWriter {
    id: String,
    model: &'static str,
    created: u64,
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
            model: self.model,
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
fn sse_response(
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

fn choice<'a>(delta: Delta<'a>, finish: Option<&'static str>) -> ChunkChoice<'a> {
    ChunkChoice {
        index: 0,
        delta,
        logprobs: None,
        finish_reason: finish,
    }
}

/// Splits text at spaces into at most `n` pieces that concatenate back to it.
fn split_words(text: &str, n: usize) -> Vec<&str> {
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
