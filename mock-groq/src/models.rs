//! `GET /openai/v1/models` (or the provider's models path): the models served on the mock's
//! `as_of` day, in OpenAI's list shape, for a valid key only (as Groq: no key, an unknown key
//! or a revoked key is the same 401 as on chat).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::chat::{bearer, error_response_plain};
use crate::state::Mock;

/// The handler.
pub async fn list(State(mock): State<Arc<Mock>>, headers: HeaderMap) -> Response {
    let now = mock.clock.now();
    let valid = bearer(&headers)
        .and_then(|k| mock.key_index(k))
        .is_some_and(|k| mock.keys[k].revoked_at.is_none_or(|at| now < at));
    if !valid {
        return error_response_plain(&ApiError::invalid_api_key());
    }
    let data: Vec<Value> = mock
        .models
        .iter()
        .filter(|m| m.served_on(mock.as_of))
        .map(|m| {
            json!({
                "id": m.id,
                "object": "model",
                "created": mock.start_unix,
                "owned_by": m.owned_by,
                "active": true,
                "context_window": m.context_window,
                "public_apps": null,
            })
        })
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}
