//! keyrotor: measures how well multi-key API rotation works.
//!
//! - [`engine`]: the rotation engine applications embed.
//! - [`cli`]: the command line (`main.rs` only calls it).
//! - The Groq mock lives in its own crate, `mock_groq`.

#![warn(missing_docs)]

pub mod app;
pub mod artifacts;
pub mod chart;
pub mod claims;
pub mod cli;
pub mod compare;
pub mod document;
pub mod driver;
pub mod flags;
pub mod html;
pub mod live;
pub mod metrics;
pub mod network;
pub mod plan;
pub mod plots;
pub mod quota;
pub mod recorder;
pub mod redis_server;
pub mod replicas;
pub mod report;
pub mod requests_csv;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod seed_apps;
pub mod streaming;
pub mod sweep;
pub mod workload;

/// The rotation engine (the `keyrotor-engine` crate, which apps embed).
pub use keyrotor_engine as engine;
