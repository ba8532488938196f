//! The rotation engine: what applications embed to spread requests over several API keys.
//!
//! - [`Rotor`] ([`rotor`]): keys + a policy + a transport; `send` returns the answer and a
//!   trace of attempts; `status` a snapshot.
//! - [`policy`]: each seed's rotation behaviour as a preset, and `adaptive`.
//! - [`failure`]: status + headers + body → a failure kind (per-minute vs per-day limits).
//! - [`pool`]: per-key state, known budgets, learned shared organisations.
//! - [`transport`]: HTTP (own HTTP/1.1 client for `http://`, reqwest for `https://`) or
//!   in-process (the mock's router, no socket).
//! - [`keys`]: loading keys from the environment or a file.

pub mod failure;
pub mod keys;
pub mod policy;
pub mod pool;
pub mod request;
pub mod rotor;
pub mod status;
pub mod transport;

pub use keys::ApiKey;
pub use policy::PolicyConfig;
pub use request::ChatRequest;
pub use rotor::{MAX_KEYS, Rotor, RotorOptions, Sent, Trace};
pub use status::Status;
