//! A completion answered whole, as one JSON body.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use rand::rngs::SmallRng;

use super::Admitted;
use super::with_headers;
use crate::generation;
use crate::state::Mock;

use super::wire::{Choice, Completion, FINGERPRINT, Message, XGroq};

pub(super) async fn json_response(
    mock: &Mock,
    admitted: Admitted,
    content: &serde_json::value::RawValue,
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
        model: mock.models[admitted.model].id.as_str(),
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
    // Room for the whole body at once: the text and about 500 bytes around it.
    let mut json = Vec::with_capacity(content.get().len() + 512);
    if serde_json::to_writer(&mut json, &body).is_err() {
        json.clear();
    }
    with_headers(
        Response::new(Body::from(json)),
        &admitted,
        mock,
        "application/json",
    )
}
