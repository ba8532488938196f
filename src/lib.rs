//! keyrotor: measures how well multi-key API rotation works.
//!
//! - [`engine`]: the rotation engine applications embed.
//! - [`cli`]: the command line (`main.rs` only calls it).
//! - The Groq mock lives in its own crate, `mock_groq`.

pub mod cli;
pub mod engine;
