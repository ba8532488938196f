//! Observability of the mock: `GET /admin/state` (the ledger and per-key counters as JSON,
//! keys as fingerprints), `POST /admin/reset`, `GET /metrics` (Prometheus text) and
//! `GET /health`.

use std::fmt::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::catalog::MODELS;
use crate::ledger::WindowUsage;
use crate::state::{CounterValues, Mock, lock};

/// The whole admin view.
#[derive(Debug, Clone, Serialize)]
pub struct AdminState {
    /// Scaled seconds since the mock started.
    pub now_s: f64,
    /// The clock's scale.
    pub time_scale: f64,
    /// Per organisation.
    pub orgs: Vec<OrgState>,
    /// Requests that presented no valid key.
    pub unauthenticated: CounterValues,
    /// Sum over all keys and unauthenticated requests.
    pub totals: CounterValues,
}

/// One organisation in the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct OrgState {
    /// Its id.
    pub id: String,
    /// Models with any usage, and the default model.
    pub models: Vec<ModelState>,
    /// Its keys.
    pub keys: Vec<KeyState>,
}

/// One model's budgets in an organisation.
#[derive(Debug, Clone, Serialize)]
pub struct ModelState {
    /// Model id.
    pub model: &'static str,
    /// Used and remaining per limited window.
    pub windows: Vec<WindowUsage>,
}

/// One key in the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct KeyState {
    /// Fingerprint, never the key.
    pub fingerprint: String,
    /// Whether the key is revoked now.
    pub revoked: bool,
    /// Its counters.
    #[serde(flatten)]
    pub counters: CounterValues,
}

/// Builds the admin view.
pub fn snapshot(mock: &Mock) -> AdminState {
    let now = mock.clock.now();
    let mut totals = mock.unauthenticated.values();
    let orgs = mock
        .orgs
        .iter()
        .enumerate()
        .map(|(index, org)| {
            let models = org
                .ledgers
                .iter()
                .enumerate()
                .filter_map(|(m, ledger)| {
                    let windows = lock(ledger).usage(now);
                    let used = windows.iter().any(|w| w.used > 0.0);
                    (used || m == mock.default_model).then_some(ModelState {
                        model: MODELS[m].id,
                        windows,
                    })
                })
                .collect();
            let keys = mock
                .keys
                .iter()
                .filter(|k| k.org == index)
                .map(|k| {
                    let counters = k.counters.values();
                    add(&mut totals, &counters);
                    KeyState {
                        fingerprint: k.key.fingerprint(),
                        revoked: k.revoked_at.is_some_and(|at| now >= at),
                        counters,
                    }
                })
                .collect();
            OrgState {
                id: org.id.clone(),
                models,
                keys,
            }
        })
        .collect();
    AdminState {
        now_s: now.as_secs_f64(),
        time_scale: mock.clock.scale(),
        orgs,
        unauthenticated: mock.unauthenticated.values(),
        totals,
    }
}

fn add(total: &mut CounterValues, c: &CounterValues) {
    total.requests += c.requests;
    total.ok += c.ok;
    total.rate_limited += c.rate_limited;
    total.rate_limited_rpm += c.rate_limited_rpm;
    total.rate_limited_rpd += c.rate_limited_rpd;
    total.rate_limited_tpm += c.rate_limited_tpm;
    total.rate_limited_tpd += c.rate_limited_tpd;
    total.too_large += c.too_large;
    total.unauthorized += c.unauthorized;
    total.server_errors += c.server_errors;
    total.client_errors += c.client_errors;
    total.dropped += c.dropped;
    total.stalled += c.stalled;
    total.stream_errors += c.stream_errors;
}

/// `GET /admin/state`.
pub async fn state(State(mock): State<Arc<Mock>>) -> Json<AdminState> {
    Json(snapshot(&mock))
}

/// `POST /admin/reset`: empties budgets and counters. Only for a JSON request from no
/// foreign origin: a web page the user visits can send a form or `text/plain` POST to the
/// mock without asking, but not a JSON one (that needs a CORS preflight the mock never
/// grants), and a browser names the page's origin, which must then be the mock's own.
pub async fn reset(State(mock): State<Arc<Mock>>, headers: HeaderMap) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /admin/reset needs Content-Type: application/json",
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(_, rest)| Some(rest) == host);
        if !same {
            return refuse(
                StatusCode::FORBIDDEN,
                "POST /admin/reset refuses cross-origin requests",
            );
        }
    }
    mock.reset();
    Json(serde_json::json!({"reset": true})).into_response()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"error": {"message": message, "type": "invalid_request_error"}});
    (status, Json(body)).into_response()
}

/// `GET /admin/attribution`: every chat call by the driver's marker (config `attribution =
/// true`; 404 otherwise).
pub async fn attribution(State(mock): State<Arc<Mock>>) -> Response {
    match &mock.attribution {
        Some(log) => Json(crate::state::lock(log).clone()).into_response(),
        None => refuse(
            StatusCode::NOT_FOUND,
            "attribution is off: set `attribution = true` in the mock's config",
        ),
    }
}

/// `GET /health`.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(mock): State<Arc<Mock>>) -> Response {
    let view = snapshot(&mock);
    let mut out = String::new();
    requests_total(&mut out, &view);
    rate_limited_total(&mut out, &view);
    quota_used(&mut out, &view);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// `mock_groq_requests_total` by organisation, key and outcome.
fn requests_total(out: &mut String, view: &AdminState) {
    let _ = writeln!(
        out,
        "# HELP mock_groq_requests_total Requests by key and outcome."
    );
    let _ = writeln!(out, "# TYPE mock_groq_requests_total counter");
    let mut series = |org: &str, key: &str, c: &CounterValues| {
        for (outcome, value) in [
            ("ok", c.ok),
            ("rate_limited", c.rate_limited),
            ("too_large", c.too_large),
            ("unauthorized", c.unauthorized),
            ("server_error", c.server_errors),
            ("client_error", c.client_errors),
            ("dropped", c.dropped),
            ("stalled", c.stalled),
            ("stream_error", c.stream_errors),
        ] {
            let _ = writeln!(
                out,
                "mock_groq_requests_total{{org=\"{org}\",key=\"{key}\",outcome=\"{outcome}\"}} {value}"
            );
        }
    };
    for org in &view.orgs {
        for key in &org.keys {
            series(&org.id, &key.fingerprint, &key.counters);
        }
    }
    series("", "none", &view.unauthenticated);
}

/// `mock_groq_rate_limited_total` by organisation, key and the window that ran out.
fn rate_limited_total(out: &mut String, view: &AdminState) {
    let _ = writeln!(
        out,
        "# HELP mock_groq_rate_limited_total 429 answers by key and the limit window that ran out."
    );
    let _ = writeln!(out, "# TYPE mock_groq_rate_limited_total counter");
    for org in &view.orgs {
        for key in &org.keys {
            let c = &key.counters;
            for (window, value) in [
                ("rpm", c.rate_limited_rpm),
                ("rpd", c.rate_limited_rpd),
                ("tpm", c.rate_limited_tpm),
                ("tpd", c.rate_limited_tpd),
            ] {
                let _ = writeln!(
                    out,
                    "mock_groq_rate_limited_total{{org=\"{}\",key=\"{}\",window=\"{window}\"}} {value}",
                    org.id, key.fingerprint
                );
            }
        }
    }
}

/// `mock_groq_quota_used` by organisation, model and window.
fn quota_used(out: &mut String, view: &AdminState) {
    let _ = writeln!(
        out,
        "# HELP mock_groq_quota_used Current usage of each limit window."
    );
    let _ = writeln!(out, "# TYPE mock_groq_quota_used gauge");
    for org in &view.orgs {
        for model in &org.models {
            for w in &model.windows {
                let window = serde_json::to_value(w.window).ok();
                let window = window.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
                let _ = writeln!(
                    out,
                    "mock_groq_quota_used{{org=\"{}\",model=\"{}\",window=\"{window}\"}} {}",
                    org.id, model.model, w.used
                );
            }
        }
    }
}
