//! `GET /openai/v1/models`: the catalog in OpenAI's list shape.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::catalog::MODELS;
use crate::state::Mock;

/// The handler.
pub async fn list(State(mock): State<Arc<Mock>>) -> Json<Value> {
    let data: Vec<Value> = MODELS
        .iter()
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
    Json(json!({"object": "list", "data": data}))
}
