//! The proxy's pages beside chat: the model list, `/health` (liveness, per pool and key,
//! fingerprints only), `/ready` (readiness), `/status` (every pool's keys and budget, the
//! clients' usage, the last reload), `/metrics` (Prometheus text) and `POST /admin/reload`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use keyrotor_engine::transport::Reply;

use crate::pools::Pool;
use crate::routes::{Proxy, bearer, client, error, whole};

/// The models served: the upstream's own list when one pool takes every model; otherwise
/// each pool's listed models, and the catch-all pool's upstream list after them.
pub async fn models(State(proxy): State<Arc<Proxy>>, headers: HeaderMap) -> Response {
    let live = proxy.live.now();
    if let Err(refused) = client(&live, &headers) {
        return refused.into_response();
    }
    let catch_all = live.pools.catch_all();
    if !live.pools.by_model()
        && let Some(pool) = catch_all
    {
        return match upstream_models(&proxy, pool).await {
            Ok(reply) => whole(reply),
            Err(why) => cannot_list(&why),
        };
    }
    let mut data: Vec<Value> = live
        .pools
        .iter()
        .flat_map(|pool| {
            pool.models
                .iter()
                .map(|m| json!({"id": m, "object": "model", "owned_by": pool.name}))
        })
        .collect();
    if let Some(pool) = catch_all {
        let listed = match upstream_models(&proxy, pool).await {
            Ok(reply) if (200..300).contains(&reply.status) => {
                serde_json::from_slice::<Value>(&reply.body).unwrap_or_default()
            }
            Ok(reply) => return whole(reply),
            Err(why) => return cannot_list(&why),
        };
        let known = |id: &Value| data.iter().any(|d| d["id"] == *id);
        let more: Vec<Value> = listed["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| !known(&entry["id"]))
            .cloned()
            .collect();
        data.extend(more);
    }
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// A pool's upstream model list, asked with its first ready key.
async fn upstream_models(proxy: &Proxy, pool: &Pool) -> Result<Reply, String> {
    let status = pool.rotor.status();
    let key = status
        .keys
        .iter()
        .find(|k| k.state == "ready")
        .map_or(0, |k| k.index);
    let sent = proxy
        .http()
        .get(pool.models_url.clone())
        .bearer_auth(pool.rotor.keys()[key].expose())
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
    answer.await.map_err(|e| e.without_url().to_string())
}

fn cannot_list(why: &str) -> Response {
    let message = format!("keyrotor proxy: cannot fetch the model list: {why}");
    error(
        StatusCode::BAD_GATEWAY,
        &message,
        "internal_server_error",
        None,
    )
}

/// One pool's liveness verdict: `ok`, `degraded` (some keys resting), `limited` (every
/// usable key resting), `down` (every key disabled).
fn verdict(status: &keyrotor_engine::Status) -> &'static str {
    let usable = status.totals.keys - status.totals.disabled;
    match (status.totals.ready, usable) {
        (_, 0) => "down",
        (0, _) => "limited",
        (r, _) if r < status.totals.keys => "degraded",
        _ => "ok",
    }
}

/// Liveness: 200 while the proxy serves (a restart would not bring an exhausted or revoked
/// key back), with each pool's key states as the seeds' health endpoints show them; the
/// top `status` is the worst pool's.
pub async fn health(State(proxy): State<Arc<Proxy>>) -> Response {
    let live = proxy.live.now();
    let rank = ["ok", "degraded", "limited", "down"];
    let mut worst = 0;
    let pools: Vec<Value> = live
        .pools
        .iter()
        .map(|pool| {
            let status = pool.rotor.status();
            let verdict = verdict(&status);
            worst = worst.max(rank.iter().position(|r| *r == verdict).unwrap_or(0));
            json!({
                "name": pool.name,
                "status": verdict,
                "keys": status.totals.keys,
                "ready": status.totals.ready,
                "cooling": status.totals.cooling,
                "exhausted": status.totals.exhausted,
                "disabled": status.totals.disabled,
                "state": status.store,
                "key_states": status.keys.iter().map(|k| json!({
                    "fingerprint": k.fingerprint,
                    "state": k.state,
                    "ready_in_ms": k.ready_in_ms,
                    "reason": k.reason,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let body = json!({"status": rank[worst], "generation": live.generation, "pools": pools});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Readiness: 200 when every pool could serve a request — some key is usable (not
/// disabled) and, under fail-closed shared state, the store is reachable; 503 naming the
/// pool and the reason otherwise, so a load balancer sends the traffic to another replica.
pub async fn ready(State(proxy): State<Arc<Proxy>>) -> Response {
    let live = proxy.live.now();
    let mut why = None;
    let pools: Vec<Value> = live
        .pools
        .iter()
        .map(|pool| {
            let status = pool.rotor.status();
            let usable = status.totals.keys - status.totals.disabled;
            let store_down = status.store.as_ref().is_some_and(|s| {
                !s.reachable && s.on_error == keyrotor_engine::OnStoreError::FailClosed
            });
            let own = if usable == 0 {
                Some("every key is disabled (refused by the upstream)")
            } else if store_down {
                Some("the shared key state is unreachable and this proxy fails closed")
            } else {
                None
            };
            if let (None, Some(reason)) = (&why, own) {
                why = Some(format!("pool `{}`: {reason}", pool.name));
            }
            json!({"name": pool.name, "usable_keys": usable, "why": own})
        })
        .collect();
    let code = if why.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = json!({"ready": why.is_none(), "why": why, "pools": pools});
    (code, axum::Json(body)).into_response()
}

/// Every pool's [`keyrotor_engine::Status`] and budget, the clients' usage and the last
/// reload; with client tokens set, only for a client that presents one (per-key state,
/// budgets and last errors are the operator's).
pub async fn status(State(proxy): State<Arc<Proxy>>, headers: HeaderMap) -> Response {
    // The last reload first: a reload serves its generation before it records itself, so
    // the generation read next is at least the one that reload made.
    let last = proxy.live.last();
    let live = proxy.live.now();
    if let Err(refused) = client(&live, &headers) {
        return refused.into_response();
    }
    let pools: Vec<Value> = live
        .pools
        .iter()
        .map(|pool| {
            json!({
                "name": pool.name,
                "models": pool.models,
                "status": pool.rotor.status(),
                "budget": pool.rotor.budget(),
            })
        })
        .collect();
    let body = json!({
        "generation": live.generation,
        "pools": pools,
        "clients": live.clients.usage(),
        "last_reload": last,
    });
    axum::Json(body).into_response()
}

/// The Prometheus text ([`crate::prometheus`]).
pub async fn metrics(State(proxy): State<Arc<Proxy>>) -> Response {
    // As /status: the last reload, then the generation serving.
    let last = proxy.live.last();
    let live = proxy.live.now();
    let text = proxy.metrics.render(&live, &proxy.live, last.as_ref());
    keyrotor_serve::exposition::response(text)
}

/// `POST /admin/reload` with the admin token: reads the config and key files again
/// ([`crate::reload`]); 200 with what changed per pool, or 422 with why the old
/// configuration still serves.
pub async fn reload(State(proxy): State<Arc<Proxy>>, headers: HeaderMap) -> Response {
    match proxy.live.now().admin(bearer(&headers)) {
        None => {
            return error(
                StatusCode::NOT_FOUND,
                "keyrotor proxy: no admin token is set ([admin] in --config, or --admin-token-env), so reloads come only from SIGHUP",
                "invalid_request_error",
                Some("unknown_url"),
            );
        }
        Some(false) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "Invalid API Key: /admin/reload wants the admin token",
                "invalid_request_error",
                Some("invalid_api_key"),
            );
        }
        Some(true) => {}
    }
    let reloading = Arc::clone(&proxy);
    let done = tokio::task::spawn_blocking(move || reloading.live.reload()).await;
    let generation = proxy.live.now().generation;
    match done {
        Ok(Ok(pools)) => {
            let body = json!({"reloaded": true, "generation": generation, "pools": pools});
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Ok(Err(why)) => {
            let body = json!({"reloaded": false, "generation": generation, "error": why});
            (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
        }
        Err(panicked) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("keyrotor proxy: the reload did not finish: {panicked}"),
            "internal_server_error",
            None,
        ),
    }
}

/// Any other path: Groq's 404, naming the paths there are.
pub async fn unknown_path(uri: axum::http::Uri) -> Response {
    let message = format!(
        "Unknown request URL: {}. The keyrotor proxy serves POST /openai/v1/chat/completions, POST /v1/chat/completions, GET /openai/v1/models, /health, /ready, /status, /metrics and POST /admin/reload.",
        uri.path()
    );
    error(
        StatusCode::NOT_FOUND,
        &message,
        "invalid_request_error",
        Some("unknown_url"),
    )
}
