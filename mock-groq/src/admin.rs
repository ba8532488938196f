//! Observability of the mock: `GET /admin/state` (the ledger and per-key counters as JSON,
//! keys as fingerprints), `POST /admin/reset`, `GET /metrics` (Prometheus text) and
//! `GET /health`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{counter::ConstCounter, gauge::ConstGauge};
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::ledger::{Window, WindowUsage};
use crate::state::{CounterValues, Mock, lock};
use keyrotor_serve::exposition::{self, Ordered};

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
    pub model: String,
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
                        model: mock.models[m].id.clone(),
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
    total.rate_limited_rph += c.rate_limited_rph;
    total.rate_limited_tph += c.rate_limited_tph;
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
    if !keyrotor_serve::local::is_json(&headers) {
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

/// `GET /metrics`: Prometheus text exposition (version 0.0.4), written by prometheus-client
/// from a snapshot taken at scrape time, label values escaped (organisation ids come from the
/// config file).
pub async fn metrics(State(mock): State<Arc<Mock>>) -> Response {
    let view = snapshot(&mock);
    let mut registry = Registry::default();
    registry.register(
        "mock_groq_requests",
        "Requests by key and outcome",
        requests_total(&view),
    );
    registry.register(
        "mock_groq_rate_limited",
        "429 answers by key and the limit window that ran out",
        rate_limited_total(&view),
    );
    registry.register(
        "mock_groq_quota_used",
        "Current usage of each limit window",
        quota_used(&view),
    );
    exposition::response(exposition::text(&[&registry]))
}

/// Labels of a key's requests: its organisation and fingerprint, and how they ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyOutcome {
    org: String,
    key: String,
    outcome: &'static str,
}

/// Labels of a key's 429s: its organisation and fingerprint, and the window that ran out.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyWindow {
    org: String,
    key: String,
    window: &'static str,
}

/// Labels of a quota series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuotaSeries {
    org: String,
    model: String,
    window: &'static str,
}

/// `mock_groq_requests_total` by organisation, key and outcome.
fn requests_total(view: &AdminState) -> Ordered<KeyOutcome, ConstCounter> {
    let mut family = Ordered::default();
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
            let labels = KeyOutcome {
                org: org.to_owned(),
                key: key.to_owned(),
                outcome,
            };
            family.push(labels, ConstCounter::new(value));
        }
    };
    for org in &view.orgs {
        for key in &org.keys {
            series(&org.id, &key.fingerprint, &key.counters);
        }
    }
    series("", "none", &view.unauthenticated);
    family
}

/// `mock_groq_rate_limited_total` by organisation, key and the window that ran out.
fn rate_limited_total(view: &AdminState) -> Ordered<KeyWindow, ConstCounter> {
    let mut family = Ordered::default();
    for org in &view.orgs {
        for key in &org.keys {
            let c = &key.counters;
            for (window, value) in [
                (Window::Rpm, c.rate_limited_rpm),
                (Window::Rpd, c.rate_limited_rpd),
                (Window::Tpm, c.rate_limited_tpm),
                (Window::Tpd, c.rate_limited_tpd),
                (Window::Rph, c.rate_limited_rph),
                (Window::Tph, c.rate_limited_tph),
            ] {
                let labels = KeyWindow {
                    org: org.id.clone(),
                    key: key.fingerprint.clone(),
                    window: window.name(),
                };
                family.push(labels, ConstCounter::new(value));
            }
        }
    }
    family
}

/// `mock_groq_quota_used` by organisation, model and window.
fn quota_used(view: &AdminState) -> Ordered<QuotaSeries, ConstGauge<f64>> {
    let mut family = Ordered::default();
    for org in &view.orgs {
        for model in &org.models {
            for w in &model.windows {
                let labels = QuotaSeries {
                    org: org.id.clone(),
                    model: model.model.clone(),
                    window: w.window.name(),
                };
                family.push(labels, ConstGauge::new(w.used));
            }
        }
    }
    family
}
