//! `POST /openai/v1/chat/completions`: authentication, request checks, faults, admission by
//! the organisation's ledger, simulated service time, and the response in Groq's shape —
//! a JSON body, or Server-Sent Events when `"stream": true`.
//!
//! Here the request's flow and the error answers; `wire` the request and answer types,
//! `admission` the checks, faults and the ledger before an answer, `json` and `sse` the two
//! shapes of an answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::rngs::SmallRng;

use crate::api_error::ApiError;
use crate::attribution;
use crate::generation::{self, Timing};
use crate::headers;
use crate::ledger::Snapshot;
use crate::state::{Mock, Outcome, lock};

mod admission;
mod json;
mod sse;
mod wire;

use admission::{Asked, admit, fault, parse, sizes};
use json::json_response;
use sse::{StreamShape, stream_response};
use wire::Usage;

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
        let model = &mock.models[at.model];
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
pub(super) fn refused(
    err: &ApiError,
    request_id: &str,
    snapshot: Option<&Snapshot>,
    mock: &Mock,
) -> Served {
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
    let served = mock
        .find_model(model_name)
        .filter(|&m| mock.models[m].served_on(mock.as_of));
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
        let response = json_response(mock, admitted, &content.json, rng).await;
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
    let response = stream_response(
        Arc::clone(mock),
        admitted,
        content.plain.to_string(),
        shape,
        rng,
    );
    (None, response)
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
        mock.insert_rate_limits(response.headers_mut(), snap, true);
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
    mock.insert_rate_limits(h, &admitted.snapshot, false);
    response
}
