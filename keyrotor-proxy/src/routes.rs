//! The proxy's HTTP surface: Groq's OpenAI-compatible chat endpoint under both of its paths,
//! the upstream's model list, `/health` (liveness) and `/status` (per key state,
//! fingerprints only), `/ready` (readiness) and `/metrics` (Prometheus text). A successful
//! answer is passed on as it arrives, its rate-limit headers rewritten to describe the whole
//! pool; a request the pool cannot serve gets Groq's 429 with a truthful `retry-after`, or the
//! upstream's own error.

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

use super::clients::{Client, Clients, OverLimit};
use super::prometheus::Metrics;
use keyrotor_engine::failure::Failure;
use keyrotor_engine::policy::GiveUp;
use keyrotor_engine::rotor::Failed;
use keyrotor_engine::transport::{HttpTransport, Reply, Timeouts};
use keyrotor_engine::{ChatRequest, PoolBudget, Rotor, Trace};

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
    /// The engine, over the keys.
    pub rotor: Rotor<HttpTransport>,
    /// Who may spend the pool, each by its own token; none: anyone who reaches it.
    pub clients: Clients,
    /// The models served; a request for another answers the provider's 404. Empty: any.
    models: Vec<String>,
    /// The upstream's model list.
    models_url: reqwest::Url,
    client: reqwest::Client,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("rotor", &self.rotor)
            .field("clients", &self.clients)
            .field("models_url", &self.models_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// The proxy's state around a rotor.
    pub fn new(
        rotor: Rotor<HttpTransport>,
        clients: Clients,
        models: Vec<String>,
        models_url: &str,
        timeouts: Timeouts,
    ) -> anyhow::Result<Arc<Self>> {
        let models_url = reqwest::Url::parse(models_url)?;
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .build()?;
        let metrics = Metrics::new(rotor.keys());
        Ok(Arc::new(Self {
            rotor,
            clients,
            models,
            models_url,
            client,
            metrics,
        }))
    }

    /// The client presenting its token (`None` when the proxy asks for none), or
    /// [`Unauthorised`].
    fn client(&self, headers: &HeaderMap) -> Result<Option<&Client>, Unauthorised> {
        if self.clients.open() {
            return Ok(None);
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        self.clients
            .identify(presented)
            .map(Some)
            .ok_or(Unauthorised)
    }
}

/// No client's token was presented.
struct Unauthorised;

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

/// The router over a proxy; request bodies over `max_body` bytes get a 413.
pub fn router(proxy: Arc<Proxy>, max_body: u64) -> Router {
    Router::new()
        .route("/openai/v1/chat/completions", post(chat))
        .route("/v1/chat/completions", post(chat))
        .route("/openai/v1/models", get(models))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .fallback(unknown_path)
        .layer(DefaultBodyLimit::max(
            usize::try_from(max_body).unwrap_or(usize::MAX),
        ))
        .with_state(proxy)
}

async fn chat(State(proxy): State<Arc<Proxy>>, headers: HeaderMap, body: Bytes) -> Response {
    let id = super::access::request_id(&headers);
    let (mut response, trace) = served(&proxy, &headers, body).await;
    let status = response.status().as_u16();
    super::access::record(
        response.headers_mut(),
        &id,
        status,
        &trace,
        proxy.rotor.keys(),
    );
    response
}

/// The answer to a chat request, and what happened on the way (empty when it was refused
/// before any key was tried).
async fn served(proxy: &Arc<Proxy>, headers: &HeaderMap, body: Bytes) -> (Response, Trace) {
    let refuse = |response| (response, Trace::default());
    let client = match proxy.client(headers) {
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
    let Asked {
        request,
        stream,
        unserved,
    } = match chat_request(body, &proxy.models) {
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
    if let Some(model) = unserved {
        let body = ErrorBody::model_not_found(&model);
        return refuse(error(
            StatusCode::NOT_FOUND,
            &body.message,
            body.kind,
            body.code,
        ));
    }
    if let Some(Err(over)) = client.map(|c| c.admit(request.reserved_tokens)) {
        tracing::info!(client = %over, "refused by the client's own limit");
        return refuse(over_own_limit(&over));
    }
    // A stream is passed on as it arrives; a whole answer is read whole, which lets the
    // engine check all of it (and take the lean HTTP client, where there is one).
    let (outcome, trace) = if stream {
        let streamed = proxy.rotor.stream(&request).await;
        let outcome = streamed
            .outcome
            .map(|r| (r.status, r.headers, Body::from_stream(r.body)));
        (outcome, streamed.trace)
    } else {
        let sent = proxy.rotor.send(&request).await;
        if let (Some(client), Ok(reply)) = (client, &sent.outcome) {
            client.answered(&reply.body);
        }
        let outcome = sent
            .outcome
            .map(|r| (r.status, r.headers, Body::from(r.body)));
        (outcome, sent.trace)
    };
    proxy.metrics.record(&trace, outcome.is_ok());
    let response = match outcome {
        Ok((status, headers, body)) => forward(proxy, status, headers, body, &trace),
        Err(failed) => give_up(proxy, failed),
    };
    (response, trace)
}

/// A client's body as the proxy reads it; `served` are the models the pool serves (empty:
/// any).
fn chat_request(body: Bytes, served: &[String]) -> Result<Asked, String> {
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
    // Only a pool that names its models looks at the request's (and only then copies it).
    let unserved = (!served.is_empty())
        .then(|| {
            fields
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
        })
        .filter(|model| !served.iter().any(|m| m == model))
        .map(str::to_owned);
    let request = ChatRequest {
        reserved_tokens: groq_wire::tokens::prompt_tokens(messages).saturating_add(max_tokens),
        body,
    };
    Ok(Asked {
        request,
        stream,
        unserved,
    })
}

/// A client's chat request as the proxy reads it.
#[derive(Debug)]
struct Asked {
    /// The engine's view: the bytes as they are, and the tokens they reserve.
    request: ChatRequest,
    /// Whether it asks for a stream.
    stream: bool,
    /// The model it names, when the pool does not serve it.
    unserved: Option<String>,
}

/// A successful answer, passed on as it arrives, with the pool's budget in its rate-limit
/// headers and which key served it.
fn forward(
    proxy: &Proxy,
    status: u16,
    mut headers: HeaderMap,
    body: Body,
    trace: &Trace,
) -> Response {
    pool_budget_headers(&mut headers, proxy.rotor.budget());
    if let Some(last) = trace.attempts.last() {
        let key = proxy.rotor.keys()[last.key].fingerprint();
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
fn give_up(proxy: &Proxy, failed: Failed) -> Response {
    if failed.give_up == GiveUp::StateUnavailable {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "keyrotor proxy: the shared key state is unreachable and this proxy fails closed (state_unavailable)",
            "internal_server_error",
            None,
        );
    }
    if failed.give_up == GiveUp::NoKeyAvailable
        && let Some(refused) = pool_refused(proxy)
    {
        return refused;
    }
    let rate_limited = failed.give_up == GiveUp::NoKeyAvailable
        || failed.last.as_ref().is_some_and(Failure::is_rate_limit);
    if rate_limited {
        return pool_rate_limited(proxy, &failed);
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
fn pool_refused(proxy: &Proxy) -> Option<Response> {
    let status = proxy.rotor.status();
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

fn pool_rate_limited(proxy: &Proxy, failed: &Failed) -> Response {
    let keys = proxy.rotor.keys().len();
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
    pool_budget_headers(response.headers_mut(), proxy.rotor.budget());
    response
}

/// An upstream answer passed on whole.
fn whole(answer: Reply) -> Response {
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
fn error(
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

/// The upstream's model list, fetched with the first ready key.
async fn models(State(proxy): State<Arc<Proxy>>, headers: HeaderMap) -> Response {
    if let Err(refused) = proxy.client(&headers) {
        return refused.into_response();
    }
    let status = proxy.rotor.status();
    let key = status
        .keys
        .iter()
        .find(|k| k.state == "ready")
        .map_or(0, |k| k.index);
    let sent = proxy
        .client
        .get(proxy.models_url.clone())
        .bearer_auth(proxy.rotor.keys()[key].expose())
        .send()
        .await;
    let answer = async {
        let response = sent?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Ok::<_, reqwest::Error>(Reply {
            status,
            headers,
            body: response.bytes().await?,
        })
    };
    match answer.await {
        Ok(reply) => whole(reply),
        Err(e) => {
            let message = format!(
                "keyrotor proxy: cannot fetch the model list: {}",
                e.without_url()
            );
            error(
                StatusCode::BAD_GATEWAY,
                &message,
                "internal_server_error",
                None,
            )
        }
    }
}

/// Liveness: 200 while the proxy serves (a restart would not bring an exhausted or revoked
/// key back), with per key state as the seeds' health endpoints show it: `ok`, `degraded`
/// (some keys resting), `limited` (every usable key resting), `down` (every key disabled).
async fn health(State(proxy): State<Arc<Proxy>>) -> Response {
    let status = proxy.rotor.status();
    let usable = status.totals.keys - status.totals.disabled;
    let verdict = match (status.totals.ready, usable) {
        (_, 0) => "down",
        (0, _) => "limited",
        (r, _) if r < status.totals.keys => "degraded",
        _ => "ok",
    };
    let code = StatusCode::OK;
    let body = serde_json::json!({
        "status": verdict,
        "keys": status.totals.keys,
        "ready": status.totals.ready,
        "cooling": status.totals.cooling,
        "exhausted": status.totals.exhausted,
        "disabled": status.totals.disabled,
        "state": status.store,
        "key_states": status.keys.iter().map(|k| serde_json::json!({
            "fingerprint": k.fingerprint,
            "state": k.state,
            "ready_in_ms": k.ready_in_ms,
            "reason": k.reason,
        })).collect::<Vec<_>>(),
    });
    (code, axum::Json(body)).into_response()
}

/// Readiness: 200 when a request could be served — some key is usable (not disabled) and,
/// under fail-closed shared state, the store is reachable; 503 with the reason otherwise, so a
/// load balancer sends the traffic to another replica.
async fn ready(State(proxy): State<Arc<Proxy>>) -> Response {
    let status = proxy.rotor.status();
    let usable = status.totals.keys - status.totals.disabled;
    let store_down = status
        .store
        .as_ref()
        .is_some_and(|s| !s.reachable && s.on_error == keyrotor_engine::OnStoreError::FailClosed);
    let why = if usable == 0 {
        Some("every key is disabled (refused by the upstream)")
    } else if store_down {
        Some("the shared key state is unreachable and this proxy fails closed")
    } else {
        None
    };
    let code = if why.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = serde_json::json!({"ready": why.is_none(), "usable_keys": usable, "why": why});
    (code, axum::Json(body)).into_response()
}

/// The whole [`keyrotor_engine::Status`] and the pool's budget; with a token set, only for
/// a client that presents it (per-key state, budgets and last errors are the operator's).
async fn status(State(proxy): State<Arc<Proxy>>, headers: HeaderMap) -> Response {
    if let Err(refused) = proxy.client(&headers) {
        return refused.into_response();
    }
    let body = serde_json::json!({
        "status": proxy.rotor.status(),
        "budget": proxy.rotor.budget(),
        "clients": proxy.clients.usage(),
    });
    axum::Json(body).into_response()
}

async fn metrics(State(proxy): State<Arc<Proxy>>) -> Response {
    let text = proxy
        .metrics
        .render(&proxy.rotor.status(), proxy.rotor.budget(), &proxy.clients);
    keyrotor_serve::exposition::response(text)
}

async fn unknown_path(uri: axum::http::Uri) -> Response {
    let message = format!(
        "Unknown request URL: {}. The keyrotor proxy serves POST /openai/v1/chat/completions, POST /v1/chat/completions, GET /openai/v1/models, /health, /ready, /status and /metrics.",
        uri.path()
    );
    error(
        StatusCode::NOT_FOUND,
        &message,
        "invalid_request_error",
        Some("unknown_url"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reserves_its_prompt_and_its_cap() {
        let body =
            br#"{"model":"m","messages":[{"role":"user","content":"abcdabcd"}],"max_tokens":50}"#;
        let request = chat_request(Bytes::from_static(body), &[]).map_err(|e| e.to_string());
        let reserved = request.map(|a| (a.request.reserved_tokens, a.stream));
        let prompt = groq_wire::tokens::prompt_tokens(&[
            serde_json::json!({"role":"user","content":"abcdabcd"}),
        ]);
        assert_eq!(reserved, Ok((prompt + 50, false)));
        assert!(chat_request(Bytes::from_static(b"[1]"), &[]).is_err());
        assert!(chat_request(Bytes::from_static(b"{"), &[]).is_err());
        let no_cap = chat_request(Bytes::from_static(br#"{"stream":true}"#), &[]);
        let no_cap = no_cap.map(|a| (a.request.reserved_tokens, a.stream));
        let prompt = groq_wire::tokens::prompt_tokens(&[]);
        assert_eq!(no_cap, Ok((prompt + DEFAULT_MAX_TOKENS, true)));
        // A pool that names its models finds the request's model among them, or says which.
        let served = ["m".to_owned()];
        let unserved = |body: &'static [u8]| {
            chat_request(Bytes::from_static(body), &served).map(|a| a.unserved)
        };
        assert_eq!(unserved(body), Ok(None));
        assert_eq!(unserved(br#"{"model":"x"}"#), Ok(Some("x".to_owned())));
        assert_eq!(unserved(b"{}"), Ok(Some(String::new())));
    }
}
