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
mod server;
pub mod state;

pub use config::Config;
/// Groq's wire facts live in `groq-wire`, shared with the engine; re-exported here.
pub use groq_wire::{ApiKey, catalog, error, fingerprint, goduration, key, tokens};
pub use server::{MockArgs, app, router, run, serve, serve_router};
