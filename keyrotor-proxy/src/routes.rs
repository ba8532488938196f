//! The proxy's HTTP surface and its chat endpoint: Groq's OpenAI-compatible chat API under
//! both of its paths, a request's `model` picking its pool. A successful answer is passed on
//! as it arrives, its rate-limit headers rewritten to describe the whole pool; a request the
//! pool cannot serve gets Groq's 429 with a truthful `retry-after`, or the upstream's own
//! error. The other pages (models, health, ready, status, metrics, admin reload):
//! [`crate::pages`].

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use groq_wire::error::ErrorBody;
use groq_wire::header as rate;
use serde_json::Value;

use super::clients::{Client, OverLimit};
use super::pages;
use super::pools::{Pool, Route};
use super::prometheus::Metrics;
use super::reload::{Live, Served};
use keyrotor_engine::failure::Failure;
use keyrotor_engine::policy::GiveUp;
use keyrotor_engine::rotor::Failed;
use keyrotor_engine::transport::{Reply, Timeouts};
use keyrotor_engine::{ChatRequest, PoolBudget, Trace};

/// Completion tokens assumed for the budget estimate when a request names no `max_tokens`.
pub const DEFAULT_MAX_TOKENS: u64 = 1024;

/// Headers that describe one hop, not the answer: never passed on.
const HOP_BY_HOP: [HeaderName; 4] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::CONTENT_LENGTH,
    HeaderName::from_static("keep-alive"),
];

/// What every handler shares.
pub struct Proxy {
    /// What is served now (pools, clients), and how to read it again.
    pub live: Live,
    /// For the upstreams' model lists.
    client: reqwest::Client,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// The proxy's state around its first generation.
    pub fn new(live: Live, timeouts: Timeouts) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .build()?;
        Ok(Arc::new(Self {
            live,
            client,
            metrics: Metrics::new(),
        }))
    }

    /// The HTTP client for the upstreams' model lists.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.client
    }
}

/// The client presenting its token (`None` when the proxy asks for none), or
/// [`Unauthorised`].
pub(crate) fn client<'a>(
    served: &'a Served,
    headers: &HeaderMap,
) -> Result<Option<&'a Client>, Unauthorised> {
    if served.clients.open() {
        return Ok(None);
    }
    served
        .clients
        .identify(bearer(headers))
        .map(Some)
        .ok_or(Unauthorised)
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// No client's token was presented.
pub(crate) struct Unauthorised;

impl IntoResponse for Unauthorised {
    /// Groq's 401 for a wrong key.
    fn into_response(self) -> Response {
        error(
            StatusCode::UNAUTHORIZED,
            "Invalid API Key: this keyrotor proxy wants its own token (--token-env, or a [[client]] of --config)",
            "invalid_request_error",
            Some("invalid_api_key"),
        )
    }
}

/// A client's own 429 (or 413 for a request larger than its whole minute), in Groq's
/// shape, with when its own budget allows the request.
fn over_own_limit(over: &OverLimit) -> Response {
    let (status, kind) = match over {
        OverLimit::Requests { .. } => (StatusCode::TOO_MANY_REQUESTS, "requests"),
        OverLimit::Tokens { .. } => (StatusCode::TOO_MANY_REQUESTS, "tokens"),
        OverLimit::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "tokens"),
    };
    let message = match over.retry_after() {
        Some(wait) => format!(
            "Rate limit reached: {over} (a limit of this keyrotor proxy, not of the upstream). Please try again in {:.1}s.",
            wait.as_secs_f64()
        ),
        None => format!("Request too large: {over} (a limit of this keyrotor proxy)."),
    };
    let mut response = error(status, &message, kind, Some("rate_limit_exceeded"));
    if let Some(wait) = over.retry_after() {
        retry_after(&mut response, whole_seconds(wait));
    }
    response
}

/// A wait in whole seconds, rounded up (a `retry-after` never says to come back early).
fn whole_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Sets `retry-after` to `seconds`.
fn retry_after(response: &mut Response, seconds: u64) {
    response
        .headers_mut()
        .insert(rate::RETRY_AFTER, HeaderValue::from(seconds));
}

/// The chat and model-list paths the proxy answers on: every provider's own (Groq's
/// `/openai/v1`, OpenAI's and Cerebras's `/v1`, Gemini's `/v1beta/openai`, OpenRouter's
/// `/api/v1`), so an app moves its SDK's base URL from the provider to the proxy and keeps
/// the rest.
pub const API_PREFIXES: [&str; 4] = ["/openai/v1", "/v1", "/v1beta/openai", "/api/v1"];

/// The router over a proxy; request bodies over `max_body` bytes get a 413.
pub fn router(proxy: Arc<Proxy>, max_body: u64) -> Router {
    let mut router = Router::new();
    for prefix in API_PREFIXES {
        router = router
            .route(&format!("{prefix}/chat/completions"), post(chat))
            .route(&format!("{prefix}/models"), get(pages::models));
    }
    router
        .route("/health", get(pages::health))
        .route("/ready", get(pages::ready))
        .route("/status", get(pages::status))
        .route("/metrics", get(pages::metrics))
        .route("/admin/reload", post(pages::reload))
        .fallback(pages::unknown_path)
        .layer(DefaultBodyLimit::max(
            usize::try_from(max_body).unwrap_or(usize::MAX),
        ))
        .with_state(proxy)
}

async fn chat(State(proxy): State<Arc<Proxy>>, headers: HeaderMap, body: Bytes) -> Response {
    let id = super::access::request_id(&headers);
    // The generation current now serves this request to its end, a reload or not.
    let live = proxy.live.now();
    let (mut response, trace, pool) = served(&proxy, &live, &headers, body).await;
    let status = response.status().as_u16();
    super::access::record(response.headers_mut(), &id, status, &trace, pool);
    response
}

/// The answer to a chat request, what happened on the way (empty when it was refused before
/// any key was tried) and the pool that served it.
async fn served<'a>(
    proxy: &Proxy,
    live: &'a Served,
    headers: &HeaderMap,
    body: Bytes,
) -> (Response, Trace, Option<&'a Pool>) {
    let refuse = |response| (response, Trace::default(), None);
    let client = match client(live, headers) {
        Ok(client) => client,
        Err(refused) => return refuse(refused.into_response()),
    };
    // A chat body is JSON: a cross-site form or `text/plain` POST (which a browser sends
    // without asking first) is refused before it can spend a key.
    if !keyrotor_serve::local::is_json(headers) {
        return refuse(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "keyrotor proxy: a chat request's body is JSON: send `Content-Type: application/json`",
            "invalid_request_error",
            None,
        ));
    }
    let asked = match chat_request(body, live.pools.by_model()) {
        Ok(asked) => asked,
        Err(why) => {
            return refuse(error(
                StatusCode::BAD_REQUEST,
                &why,
                "invalid_request_error",
                None,
            ));
        }
    };
    let pool = match live.pools.route(asked.model.as_deref()) {
        Route::To(pool) => pool,
        Route::Unserved => {
            let body = ErrorBody::model_not_found(asked.model.as_deref().unwrap_or_default());
            return refuse(error(
                StatusCode::NOT_FOUND,
                &body.message,
                body.kind,
                body.code,
            ));
        }
    };
    let request = asked.request;
    if let Some(Err(over)) = client.map(|c| c.admit(request.reserved_tokens)) {
        tracing::info!(client = %over, "refused by the client's own limit");
        return refuse(over_own_limit(&over));
    }
    // A stream is passed on as it arrives; a whole answer is read whole, which lets the
    // engine check all of it (and take the lean HTTP client, where there is one).
    let (outcome, trace) = if asked.stream {
        let streamed = pool.rotor.stream(&request).await;
        let outcome = streamed
            .outcome
            .map(|r| (r.status, r.headers, Body::from_stream(r.body)));
        (outcome, streamed.trace)
    } else {
        let sent = pool.rotor.send(&request).await;
        if let (Some(client), Ok(reply)) = (client, &sent.outcome) {
            client.answered(&reply.body);
        }
        let outcome = sent
            .outcome
            .map(|r| (r.status, r.headers, Body::from(r.body)));
        (outcome, sent.trace)
    };
    proxy.metrics.record(&trace, outcome.is_ok());
    pool.record(&trace);
    let response = match outcome {
        Ok((status, headers, body)) => forward(pool, status, headers, body, &trace),
        Err(failed) => give_up(pool, failed),
    };
    (response, trace, Some(pool))
}

/// A client's body as the proxy reads it; `by_model`: the request's model picks its pool
/// (else it is not looked at, nor copied).
fn chat_request(body: Bytes, by_model: bool) -> Result<Asked, String> {
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| format!("the request body is not JSON: {e}"))?;
    let Some(fields) = value.as_object() else {
        return Err("the request body must be a JSON object".into());
    };
    let messages = fields
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let max_tokens = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|name| fields.get(*name).and_then(Value::as_u64))
        .unwrap_or(DEFAULT_MAX_TOKENS);
    let stream = fields.get("stream").and_then(Value::as_bool) == Some(true);
    let model = by_model
        .then(|| fields.get("model").and_then(Value::as_str))
        .flatten()
        .map(str::to_owned);
    let request = ChatRequest {
        reserved_tokens: groq_wire::tokens::prompt_tokens(messages).saturating_add(max_tokens),
        body,
    };
    Ok(Asked {
        request,
        stream,
        model,
    })
}

/// A client's chat request as the proxy reads it.
#[derive(Debug)]
struct Asked {
    /// The engine's view: the bytes as they are, and the tokens they reserve.
    request: ChatRequest,
    /// Whether it asks for a stream.
    stream: bool,
    /// The model it names, when routing looks at it.
    model: Option<String>,
}

/// A successful answer, passed on as it arrives, with the pool's budget in its rate-limit
/// headers and which key served it.
fn forward(
    pool: &Pool,
    status: u16,
    mut headers: HeaderMap,
    body: Body,
    trace: &Trace,
) -> Response {
    pool_budget_headers(&mut headers, pool.rotor.budget());
    if let Some(last) = trace.attempts.last() {
        let key = pool.rotor.keys()[last.key].fingerprint();
        if let Ok(value) = HeaderValue::from_str(&key) {
            headers.insert(HeaderName::from_static("x-keyrotor-key"), value);
        }
    }
    headers.insert(
        HeaderName::from_static("x-keyrotor-attempts"),
        HeaderValue::from(trace.attempts.len()),
    );
    passed_on(status, headers, body)
}

/// Replaces the answering key's rate-limit figures with the pool's, where the pool knows them.
fn pool_budget_headers(headers: &mut HeaderMap, budget: PoolBudget) {
    let figures = [
        (rate::LIMIT_REQUESTS, budget.limit_requests),
        (rate::REMAINING_REQUESTS, budget.remaining_requests),
        (rate::LIMIT_TOKENS, budget.limit_tokens),
        (rate::REMAINING_TOKENS, budget.remaining_tokens),
    ];
    for (name, value) in figures {
        if let Some(value) = value {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// The answer to a request the pool could not serve: Groq's 429 with the earliest key's
/// return as `retry-after` when the keys are rate limited; the upstream's own answer for
/// anything else it said (a 400 is the client's to see); 504 or 502 when it said nothing.
fn give_up(pool: &Pool, failed: Failed) -> Response {
    if failed.give_up == GiveUp::StateUnavailable {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "keyrotor proxy: the shared key state is unreachable and this proxy fails closed (state_unavailable)",
            "internal_server_error",
            None,
        );
    }
    if failed.give_up == GiveUp::NoKeyAvailable
        && let Some(refused) = pool_refused(pool)
    {
        return refused;
    }
    let rate_limited = failed.give_up == GiveUp::NoKeyAvailable
        || failed.last.as_ref().is_some_and(Failure::is_rate_limit);
    if rate_limited {
        return pool_rate_limited(pool, &failed);
    }
    let reason = failed.reason();
    if let Some(answer) = failed.answer {
        // A 2xx that is no completion (HTML, an empty or cut-off body) is never passed on as
        // a success: the client gets a 502 that says what came back.
        if (200..300).contains(&answer.status) {
            return non_answer(&answer, reason);
        }
        return whole(answer);
    }
    let (status, what) = match (&failed.last, failed.give_up) {
        (Some(Failure::Timeout), _) | (_, GiveUp::Deadline) => (
            StatusCode::GATEWAY_TIMEOUT,
            "the upstream did not answer in time",
        ),
        _ => (StatusCode::BAD_GATEWAY, "the upstream could not be reached"),
    };
    let message = format!("keyrotor proxy: {what} ({})", failed.reason());
    error(status, &message, "internal_server_error", None)
}

/// When every key is disabled (the upstream refused them: 401, revoked), a 403 that says
/// so: retrying cannot help until the keys change, so no SDK should retry it as it would a
/// 429. `None` when some key is only resting.
fn pool_refused(pool: &Pool) -> Option<Response> {
    let status = pool.rotor.status();
    if status.keys.is_empty() || status.keys.iter().any(|k| k.state != "disabled") {
        return None;
    }
    let mut reasons: Vec<&str> = status
        .keys
        .iter()
        .filter_map(|k| k.reason.as_deref())
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    let message = format!(
        "keyrotor proxy: every key of this pool ({} keys) was refused by the upstream ({}); a retry will not help until the keys are replaced",
        status.keys.len(),
        if reasons.is_empty() {
            "disabled".to_owned()
        } else {
            reasons.join("; ")
        }
    );
    Some(error(
        StatusCode::FORBIDDEN,
        &message,
        "invalid_request_error",
        Some("keys_refused"),
    ))
}

/// The 502 for an upstream 2xx without a completion: its status, what it said it was and
/// how long it was (not its text, which may be anything).
fn non_answer(answer: &Reply, reason: &str) -> Response {
    let kind = answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type");
    let message = format!(
        "keyrotor proxy: the upstream answered {} with no completion ({} bytes of {kind}; {})",
        answer.status,
        answer.body.len(),
        reason
    );
    error(
        StatusCode::BAD_GATEWAY,
        &message,
        "internal_server_error",
        None,
    )
}

fn pool_rate_limited(pool: &Pool, failed: &Failed) -> Response {
    let keys = pool.rotor.keys().len();
    let wait = failed.retry_after.map(whole_seconds);
    let when = match wait {
        Some(secs) => format!("Please try again in {secs}s."),
        None => "No key has said when it is back.".to_owned(),
    };
    let message = format!(
        "Rate limit reached on every key of this keyrotor pool ({keys} keys, {}). {when}",
        failed.reason()
    );
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        &message,
        "requests",
        Some("rate_limit_exceeded"),
    );
    if let Some(secs) = wait {
        retry_after(&mut response, secs);
    }
    pool_budget_headers(response.headers_mut(), pool.rotor.budget());
    response
}

/// An upstream answer passed on whole.
pub(crate) fn whole(answer: Reply) -> Response {
    passed_on(answer.status, answer.headers, Body::from(answer.body))
}

/// An upstream answer as the client gets it: its status, its headers but the hop-by-hop
/// ones, and `body`.
fn passed_on(status: u16, mut headers: HeaderMap, body: Body) -> Response {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    *response.headers_mut() = headers;
    response
}

/// An answer with Groq's error body.
pub(crate) fn error(
    status: StatusCode,
    message: &str,
    kind: &'static str,
    code: Option<&'static str>,
) -> Response {
    let body = ErrorBody {
        message: message.to_owned(),
        kind,
        code,
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_json(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SDK pointed at the proxy with a provider's own path finds it there.
    #[test]
    fn every_providers_chat_path_is_served() {
        use keyrotor_engine::Provider;
        for name in keyrotor_engine::provider::ProviderName::ALL {
            let path = name.provider().chat_path();
            let served = API_PREFIXES.map(|p| format!("{p}/chat/completions"));
            assert!(served.iter().any(|s| s == path), "{name}: {path}");
        }
    }

    #[test]
    fn a_request_reserves_its_prompt_and_its_cap() {
        let body =
            br#"{"model":"m","messages":[{"role":"user","content":"abcdabcd"}],"max_tokens":50}"#;
        let request = chat_request(Bytes::from_static(body), false).map_err(|e| e.to_string());
        let reserved = request.map(|a| (a.request.reserved_tokens, a.stream));
        let prompt = groq_wire::tokens::prompt_tokens(&[
            serde_json::json!({"role":"user","content":"abcdabcd"}),
        ]);
        assert_eq!(reserved, Ok((prompt + 50, false)));
        assert!(chat_request(Bytes::from_static(b"[1]"), false).is_err());
        assert!(chat_request(Bytes::from_static(b"{"), false).is_err());
        let no_cap = chat_request(Bytes::from_static(br#"{"stream":true}"#), false);
        let no_cap = no_cap.map(|a| (a.request.reserved_tokens, a.stream));
        let prompt = groq_wire::tokens::prompt_tokens(&[]);
        assert_eq!(no_cap, Ok((prompt + DEFAULT_MAX_TOKENS, true)));
        // Routing by model reads the request's model; without it the model is not copied.
        let model = |body: &'static [u8], by_model| {
            chat_request(Bytes::from_static(body), by_model).map(|a| a.model)
        };
        assert_eq!(model(body, true), Ok(Some("m".to_owned())));
        assert_eq!(model(body, false), Ok(None));
        assert_eq!(model(b"{}", true), Ok(None));
    }
}
