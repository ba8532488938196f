//! keyrotor-engine: spreads LLM API requests over several API keys.
//!
//! - [`Rotor`] ([`rotor`]): keys + a policy + a transport; `send` returns the answer and a
//!   trace of attempts; `status` a snapshot (never a key, only fingerprints).
//! - [`policy`]: each seed app's rotation behaviour as a preset, and `adaptive`, which reads
//!   the provider's rate-limit headers, learns which keys share an organisation and waits only
//!   when an answer can still come within the caller's latency budget.
//! - [`failure`]: status + headers + body → a failure kind (per-minute vs per-day limits).
//! - [`provider`]: what differs between APIs (the chat path, what a 429 says, which window
//!   each rate-limit header counts): [`Groq`] by default, [`OpenAi`] via
//!   [`Rotor::for_provider`]. Neither the rotor nor the policies know which one they serve.
//! - [`pool`]: per-key state, known budgets, learned shared organisations.
//! - [`transport`]: HTTP through reqwest by default; feature `load-client` adds a lean
//!   HTTP/1.1 client for `http://` targets, feature `in-process` a transport into a tower
//!   service (a mock's router, no socket).
//! - [`store`]: shared key state for replicas: rests, the rotation's position and pacing
//!   across rotors, in memory ([`MemoryStore`]) or on Redis (`RedisStore`, feature `redis`),
//!   via [`Rotor::with_store`].
//! - [`keys`]: loading keys from the environment (every convention the seed apps use) or a
//!   file; never from arguments.
//!
//! Groq's wire facts (header names, Go durations, the token estimate, the dated model
//! catalog) come from the `groq-wire` crate.
//!
//! # Quick start
//!
//! An app builds one [`Rotor`] and sends through it; here a stand-in transport answers as
//! Groq would, first with a per-minute 429 on the first key:
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! use bytes::Bytes;
//! use keyrotor_engine::transport::{Reply, Transport, TransportError};
//! use keyrotor_engine::{ApiKey, ChatRequest, Rotor, RotorOptions};
//!
//! /// Answers 429 once, then 200 (an app uses `transport::HttpTransport`).
//! struct Groq(AtomicUsize);
//!
//! impl Transport for Groq {
//!     async fn send(&self, _key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
//!         let first = self.0.fetch_add(1, Ordering::Relaxed) == 0;
//!         let mut headers = http::HeaderMap::new();
//!         if first {
//!             headers.insert("retry-after", http::HeaderValue::from_static("2"));
//!         }
//!         Ok(Reply {
//!             status: if first { 429 } else { 200 },
//!             headers,
//!             body: Bytes::from_static(if first {
//!                 br#"{"error":{"message":"Rate limit reached for model `openai/gpt-oss-120b` in organization `org_a` service tier `on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s.","type":"requests","code":"rate_limit_exceeded"}}"#
//!             } else {
//!                 br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Ola!"}}],"usage":{"total_tokens":12}}"#
//!             }),
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In an app: `keys::from_env()?.keys` (GROQ_API_KEY, GROQ_API_KEY_2, GROQ_API_KEYS, …).
//! let keys = vec![ApiKey::new("gsk_first"), ApiKey::new("gsk_second")];
//! let rotor = Rotor::new(keys, "adaptive".parse()?, Groq(AtomicUsize::new(0)), RotorOptions::default())?;
//! let sent = rotor
//!     .send(&ChatRequest::synthetic("openai/gpt-oss-120b", 20, 10, false))
//!     .await;
//! let reply = sent.outcome.map_err(|failed| failed.reason().to_owned())?;
//! assert_eq!(reply.status, 200);
//! assert_eq!(sent.trace.attempts.len(), 2, "the 429 failed over to the second key");
//! let status = serde_json::to_string(&rotor.status())?;
//! assert!(!status.contains("gsk_first"), "status shows fingerprints, never keys");
//! assert!(!format!("{rotor:?}").contains("gsk_first"), "and so does Debug");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs, missing_debug_implementations)]

pub mod failure;
pub mod keys;
pub mod policy;
pub mod pool;
pub mod provider;
pub mod request;
pub mod rotor;
pub mod status;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod transport;

pub use keys::ApiKey;
pub use policy::PolicyConfig;
pub use provider::{Cerebras, Gemini, Groq, OpenAi, OpenRouter, Provider};
pub use request::ChatRequest;
pub use rotor::{MAX_KEYS, Rotor, RotorOptions, Sent, Streamed, Trace};
pub use status::{PoolBudget, Status};
#[cfg(feature = "redis")]
pub use store::RedisStore;
pub use store::{MemoryStore, OnStoreError, StateStore};
