//! mock-groq: a faithful, fast imitation of Groq's OpenAI-compatible API.
//!
//! - Per-organisation, per-model limits (RPM, RPD, TPM, TPD) as continuously refilling
//!   buckets shared by all keys of an organisation ([`ledger`]), from a dated catalog of
//!   Groq's published numbers ([`catalog`]), overridable in the [`config`].
//! - Groq's headers and error bodies ([`api_error`], [`headers`]), JSON and SSE responses.
//! - A service-time model with seeded jitter ([`generation`]) and injected faults ([`faults`]).
//! - An admin view, Prometheus metrics and health ([`admin`]).
//!
//! [`router`] gives an `axum::Router` for a socket or in-process use; [`serve`] and [`run`]
//! put it on a socket. The ledger is pure (it takes `now`), and the clock is tokio's, so a
//! paused tokio runtime drives the whole mock in virtual time.
//!
//! In a test, in-process (no socket): one organisation with one key and 2 requests a minute;
//! the third request in the minute gets Groq's 429 with its `retry-after`.
//!
//! ```
//! use axum::body::Body;
//! use axum::http::Request;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = mock_groq::Config::from_toml(
//!     r#"
//!     model = "openai/gpt-oss-120b"
//!     as_of = "2026-12-01"
//!     latency = { enabled = false }
//!     [[orgs]]
//!     id = "org_a"
//!     keys = ["gsk_test_a"]
//!     limits = { rpm = 2 }
//!     "#,
//! )?;
//! let mock = mock_groq::router(config)?;
//! let chat = || {
//!     Request::post("/openai/v1/chat/completions")
//!         .header("authorization", "Bearer gsk_test_a")
//!         .header("content-type", "application/json")
//!         .body(Body::from(
//!             r#"{"model":"openai/gpt-oss-120b","messages":[{"role":"user","content":"hi"}]}"#,
//!         ))
//! };
//! for _ in 0..2 {
//!     assert_eq!(mock.clone().oneshot(chat()?).await?.status(), 200);
//! }
//! let limited = mock.clone().oneshot(chat()?).await?;
//! assert_eq!(limited.status(), 429);
//! assert!(limited.headers().contains_key("retry-after"));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod admin;
pub mod api_error;
pub mod attribution;
mod chat;
pub mod clock;
pub mod config;
pub mod faults;
pub mod generation;
pub mod headers;
pub mod ledger;
mod models;
pub mod provider;
mod server;
pub mod state;

pub use config::Config;
/// Groq's wire facts live in `groq-wire`, shared with the engine; re-exported here.
pub use groq_wire::{ApiKey, catalog, error, fingerprint, goduration, key, tokens};
pub use server::{MockArgs, app, router, run, serve};
