//! Before an answer: a request's size checked against the model, its fields against
//! Groq's rules, the fault that hits it, and the ledger that admits it or not.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header;
use rand::rngs::SmallRng;

use super::dropped_response;
use super::error_response;
use super::wire::ChatRequest;
use super::{Served, refused};
use crate::api_error::ApiError;
use crate::config::FaultKind;
use crate::headers;
use crate::ledger::Denial;
use crate::ledger::Snapshot;
use crate::ledger::Window;
use crate::provider::{Denied, Speaks};
use crate::state::Mock;
use crate::state::Outcome;
use crate::state::lock;
use crate::tokens;

/// The request's prompt tokens and the most it may generate. Checked before admission: a
/// client's max_tokens can be anything up to u64::MAX, and what cannot fit the model's
/// context is refused, never reserved or generated.
pub(super) fn sizes(
    mock: &Mock,
    request: &ChatRequest,
    model: usize,
) -> Result<(u64, u64), ApiError> {
    let prompt_tokens = request
        .messages
        .map_or(tokens::PER_REQUEST, |m| m.prompt_tokens);
    let max_tokens = request
        .max_completion_tokens
        .or(request.max_tokens)
        .unwrap_or(mock.config.default_max_tokens)
        .max(1);
    let context = mock.models[model].context_window;
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
pub(super) struct Asked {
    pub(super) org: usize,
    pub(super) model: usize,
    pub(super) now: Duration,
    pub(super) request_id: String,
}

/// What a fault leaves of a request that goes on: a slower answer, or a stream broken off.
#[derive(Default)]
pub(super) struct Faulted {
    pub(super) extra_delay: Duration,
    pub(super) break_off: bool,
}

/// The fault the configuration injects into this request, if any: what it leaves of the
/// request, or the request's end (an error, a dropped or stalled connection).
pub(super) async fn fault(
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
        FaultKind::OverCapacity => ApiError::over_capacity(mock.models[at.model].id.as_str()),
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
pub(super) fn admit(mock: &Mock, at: &Asked, reserved: u64) -> Result<Snapshot, Box<Served>> {
    let (decision, snapshot) = {
        let mut ledger = lock(mock.ledger(at.org, at.model));
        let decision = ledger.admit(at.now, reserved);
        (decision, ledger.snapshot(at.now))
    };
    let Err(denial) = decision else {
        return Ok(snapshot);
    };
    if mock.provider.speaks != Speaks::Groq
        && let Denial::Limited {
            window,
            limit,
            wait,
            ..
        } = denial
    {
        return Err(Box::new(provider_429(
            mock,
            at,
            &snapshot,
            (window, limit, wait),
        )));
    }
    let err = ApiError::from_denial(
        &denial,
        mock.models[at.model].id.as_str(),
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

/// A 429 in the words of a provider other than Groq, with its headers.
fn provider_429(
    mock: &Mock,
    at: &Asked,
    snapshot: &Snapshot,
    (window, limit, wait): (Window, u64, Duration),
) -> Served {
    let mut said = HeaderMap::new();
    mock.insert_rate_limits(&mut said, snapshot, true);
    let denied = Denied {
        window,
        limit,
        model: mock.models[at.model].id.as_str(),
        scope: &mock.orgs[at.org].id,
        wait_real: mock.clock.to_real(wait),
        headers: &said,
    };
    let mut response = mock.provider.rate_limited(denied);
    response.headers_mut().extend(said);
    headers::insert_request_id(response.headers_mut(), &at.request_id);
    (Some(Outcome::Limited(window)), response)
}

pub(super) fn parse(
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
pub(super) fn check_fields(request: &ChatRequest) -> Result<(), ApiError> {
    let bad = |text: &str| Err(ApiError::bad_request(text.to_owned()));
    match &request.messages {
        None => return bad("'messages' : property 'messages' is missing"),
        Some(m) if m.count == 0 => return bad("'messages' : minimum number of items is 1"),
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
